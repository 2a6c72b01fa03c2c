"""Shortfalls in money and in units of product: ``value_at_risk_usd`` and ``units_short``
of :func:`~simulator.analysis.metrics.replication_metrics` (docs/metrics.md)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..scenario.models import Scenario
from ..scenario.tiers import tier_names, tier_of_country

__all__ = ["demand_units", "priced_content", "value_at_risk"]

SAME = 1e-9
"""Relative tolerance within which two recipes' priced contents agree."""


def priced_content(scenario: Scenario) -> dict[str, dict[str, float]]:
    """Material -> its content of priced materials (t per t), for each material the run can
    value: a priced material is itself (``{m: 1}``); an unpriced one is the content of its
    recipe's inputs per tonne of it, when every recipe that makes it has that one output
    and they all agree, counted in the **basic** priced materials: a priced input made
    from other priced materials counts as its own content of them (a magnet: ``0.31 x
    ndpr_metal + 0.02 x dytb_metal`` per tonne, ``ndpr_metal`` 1.2 t of NdPr oxide per
    tonne, so 0.372 t of NdPr oxide and 0.024 t of Dy/Tb oxide, whether the metals are
    priced or not, and alike for a plant making magnets from oxide in one step). Co-products
    (whose cost has no rule to split it), mine outputs and materials made from unpriced,
    underivable inputs are left out."""
    if not scenario.market.enabled:
        return {}
    priced = set(scenario.market.prices)
    makers: dict[str, list] = {}
    for recipe in scenario.recipes.values():
        for material in recipe.outputs:
            makers.setdefault(material, []).append(recipe)
    memo: dict[str, dict[str, float] | None] = {}

    def through(material: str, seen: frozenset[str]) -> dict[str, float] | None:
        """An input's content: a priced one is its own content when it has one, else itself."""
        made_of = expand(material, seen)
        if material in priced and made_of is None:
            return {material: 1.0}
        return made_of

    def expand(material: str, seen: frozenset[str]) -> dict[str, float] | None:
        """Content through the recipes that make ``material`` (None if there is none)."""
        if material in memo:
            return memo[material]
        if material in seen:  # a cycle of recipes: no finite content
            return None
        found: dict[str, float] | None = None
        recipes = makers.get(material, [])
        for recipe in recipes:
            if len(recipe.outputs) != 1 or not recipe.inputs:
                found = None
                break
            out: dict[str, float] = {}
            for inp, qty in recipe.inputs.items():
                sub = through(inp, seen | {material})
                if sub is None:
                    out = {}
                    break
                for m, q in sub.items():
                    out[m] = out.get(m, 0.0) + qty / recipe.outputs[material] * q
            if not out or (found is not None and not _same(found, out)):
                found = None
                break
            found = out
        memo[material] = found
        return found

    result = {}
    for material in scenario.materials:
        c = {material: 1.0} if material in priced else expand(material, frozenset())
        if c is not None:
            result[material] = c
    return result


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=SAME) for k in a)


def value_at_risk(ts: pd.DataFrame, scenario: Scenario, prices: pd.DataFrame | None,
                  out: pd.DataFrame) -> np.ndarray:
    """``value_at_risk_usd`` for the rows of ``out`` (``replication``, ``demand_id``): each
    row's shortfall valued at its material's price in its country's market tier, step by
    step (:func:`~simulator.analysis.metrics.replication_metrics`); a material that is not
    priced at its content of priced materials (:func:`priced_content`) at their prices in
    that tier and step; at a step where a content material has no price in that tier
    (nobody buys it there, docs/markets.md "Tiers"), at the home price times the ratio of
    their reference prices (the trade link: what a buyer there would pay the home market). A step
    without a price adds nothing; a sector with no priced step is NaN."""
    nan = np.full(len(out), np.nan)
    if prices is None or prices.empty or ts.empty:
        return nan
    have = set(pd.unique(prices["material"].astype(str)))
    contents = {m: c for m, c in priced_content(scenario).items() if set(c) <= have}
    ts = ts[ts["material"].isin(list(contents))]  # (isin on the labels: no string copy)
    if ts.empty:
        return nan
    n = len(ts)
    rep = (ts["replication"].to_numpy(dtype=np.int64) if "replication" in ts
           else np.zeros(n, dtype=np.int64))
    day = ts["day"].to_numpy(dtype=np.int64)
    p_rep = (prices["replication"].to_numpy(dtype=np.int64) if "replication" in prices
             else np.zeros(len(prices), dtype=np.int64))
    p_day = prices["day"].to_numpy(dtype=np.int64)
    span = int(max(day.max(), p_day.max())) + 1
    series = _price_series(prices, p_rep * span + p_day)
    key = rep * span + day
    short = ts["shortfall_t"].to_numpy(dtype=np.float64)
    usd = np.zeros(n)
    found = np.zeros(n, dtype=bool)
    tiers = tier_of_country(scenario)
    market = scenario.market
    home = tier_names(market.home)[0] if market.home is not None else None
    links = {m: (home, ref.export_reference / ref.domestic)
             for m, ref in market.prices.items() if home is not None}
    cache: dict[tuple, tuple[np.ndarray, np.ndarray] | None] = {}
    for (material, country), idx in ts.groupby(["material", "country"], observed=True,
                                               sort=False).indices.items():
        markets = {m: tiers.get(m, {}).get(str(country), "") for m in contents[material]}
        seen = (str(material), tuple(sorted(markets.items())))
        if seen not in cache:
            cache[seen] = _content_prices(series, contents[material], markets, links)
        lookup = cache[seen]
        if lookup is None:
            continue
        keys, price = lookup
        pos = np.searchsorted(keys, key[idx])
        pos[pos >= len(keys)] = 0
        hit = keys[pos] == key[idx]
        rows = idx[hit]
        usd[rows] = short[rows] * 1000.0 * price[pos[hit]]
        found[rows] = True
    if not found.any():
        return nan
    rep_codes, rep_uniques = pd.factorize(rep)
    id_codes, id_uniques = pd.factorize(ts["demand_id"])
    combined = rep_codes.astype(np.int64) * len(id_uniques) + id_codes
    size = len(rep_uniques) * len(id_uniques)
    total = np.bincount(combined[found], weights=usd[found], minlength=size)
    valued = np.bincount(combined[found], minlength=size) > 0
    rep_at = {int(r): k for k, r in enumerate(rep_uniques)}
    id_at = {str(d): k for k, d in enumerate(id_uniques)}
    result = nan.copy()
    out_rep = out["replication"].to_numpy(dtype=np.int64)
    for k, (r, d) in enumerate(zip(out_rep, out["demand_id"].astype(str), strict=True)):
        a, b = rep_at.get(int(r)), id_at.get(d)
        if a is not None and b is not None and valued[a * len(id_uniques) + b]:
            result[k] = total[a * len(id_uniques) + b]
    return result


def _price_series(prices: pd.DataFrame, keys: np.ndarray
                  ) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(material, market) -> (sorted step keys, prices at them)."""
    value = prices["price_usd_per_kg"].to_numpy(dtype=np.float64)
    out = {}
    for (material, market), idx in prices.groupby(["material", "market"], observed=True,
                                                  sort=False).indices.items():
        order = np.argsort(keys[idx], kind="stable")
        out[(str(material), str(market))] = (keys[idx][order], value[idx][order])
    return out


def _content_prices(series: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
                    content: dict[str, float], markets: dict[str, str],
                    links: dict[str, tuple[str | None, float]]
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """(keys, price) of a material of ``content`` (t of each priced material per t) for a
    buyer whose tier of each priced material is ``markets[material]``: the content's prices
    summed, at the steps all of them are priced. At a step a material has no price in that
    tier, it is at its ``links`` (home tier, export over home reference ratio): the home
    price times the ratio."""
    keys: np.ndarray | None = None
    price: np.ndarray | None = None
    for material, qty in content.items():
        market = markets[material]
        got = series.get((material, market))
        if material in links and market != links[material][0]:
            got = _with_link(got, series.get((material, str(links[material][0]))),
                             links[material][1])
        if got is None:
            return None
        k, p = got
        if keys is None:
            keys, price = k, qty * p
            continue
        keys, a, b = np.intersect1d(keys, k, assume_unique=True, return_indices=True)
        price = price[a] + qty * p[b]  # type: ignore[index]
    if keys is None or price is None:
        return None
    return keys, price


def _with_link(got: tuple[np.ndarray, np.ndarray] | None,
               home: tuple[np.ndarray, np.ndarray] | None, ratio: float
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """An export tier's (keys, prices), with the home price times ``ratio`` at the steps
    the tier has no price (nobody buys in it then)."""
    if home is None:
        return got
    keys, price = home[0], home[1] * ratio
    if got is None:
        return keys, price
    missing = ~np.isin(keys, got[0])
    if not missing.any():
        return got
    keys = np.concatenate([got[0], keys[missing]])
    price = np.concatenate([got[1], price[missing]])
    order = np.argsort(keys, kind="stable")
    return keys[order], price[order]


def demand_units(scenario: Scenario, demand_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(unit name, kg per unit) per row: the demand sector's ``units`` ("" and NaN without,
    and for a summed group whose members do not all share one unit and intensity)."""
    table: dict[str, tuple[str, float]] = {}
    for did in pd.unique(demand_ids):
        d = scenario.demand.get(str(did))
        if d is not None:
            table[did] = (d.units.name, d.units.kg_per_unit) if d.units else ("", np.nan)
            continue
        members = {(m.units.name, m.units.kg_per_unit) if m.units else None
                   for m in scenario.demand.values() if str(did) in (m.sector, m.country)}
        only = next(iter(members)) if len(members) == 1 else None
        table[did] = only if only is not None else ("", np.nan)
    names = np.array([table[d][0] for d in demand_ids], dtype=object)
    kg = np.array([table[d][1] for d in demand_ids], dtype=np.float64)
    return names, kg
