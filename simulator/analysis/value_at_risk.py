"""Shortfalls in money and in units of product: ``value_at_risk_usd`` and ``units_short``
of :func:`~simulator.analysis.metrics.replication_metrics` (docs/metrics.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.models import Scenario

__all__ = ["demand_units", "priced_content", "value_at_risk"]

SAME = 1e-9
"""Relative tolerance within which two recipes' priced contents agree."""


def priced_content(scenario: Scenario) -> dict[str, dict[str, float]]:
    """Material -> its content of priced materials (t per t), for each material the run can
    value: a priced material is itself (``{m: 1}``); an unpriced one is the content of its
    recipe's inputs per tonne of it, when every recipe that makes it has that one output
    and they all agree (a magnet: ``0.31 x ndpr_metal + 0.02 x dytb_metal`` per tonne, and
    ``ndpr_metal`` 1.2 t of NdPr oxide per tonne, so 0.372 t of NdPr oxide and 0.024 t of
    Dy/Tb oxide). Co-products (whose cost has no rule to split it), mine outputs and
    materials made from unpriced, underivable inputs are left out."""
    if not scenario.market.enabled:
        return {}
    priced = set(scenario.market.prices)
    makers: dict[str, list] = {}
    for recipe in scenario.recipes.values():
        for material in recipe.outputs:
            makers.setdefault(material, []).append(recipe)
    memo: dict[str, dict[str, float] | None] = {}

    def content(material: str, seen: frozenset[str]) -> dict[str, float] | None:
        if material in priced:
            return {material: 1.0}
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
                sub = content(inp, seen | {material})
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
        c = content(material, frozenset())
        if c is not None:
            result[material] = c
    return result


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= SAME * max(abs(a[k]), abs(b[k]))
                                        for k in a)


def value_at_risk(ts: pd.DataFrame, scenario: Scenario, prices: pd.DataFrame | None,
                   out: pd.DataFrame) -> np.ndarray:
    """``value_at_risk_usd`` for the rows of ``out`` (``replication``, ``demand_id``): each
    row's shortfall valued at its material's price in its country's market tier, step by
    step (:func:`~simulator.analysis.metrics.replication_metrics`); a material that is not
    priced at its content of priced materials (:func:`priced_content`) at their prices in
    that tier and step."""
    nan = np.full(len(out), np.nan)
    if prices is None or prices.empty or ts.empty:
        return nan
    contents = {m: c for m, c in priced_content(scenario).items()
                if set(c) <= set(pd.unique(prices["material"].astype(str)))}
    # (isin on the labels, not on a string copy of them)
    ts = ts[ts["material"].isin(list(contents))]
    if ts.empty:
        return nan
    home = scenario.market.home
    country = ts["country"].astype(str)
    market = (country.where(country == home, "ex-" + str(home)) if home is not None
              else pd.Series("world", index=ts.index))
    rows = pd.DataFrame({
        "replication": (ts["replication"].to_numpy(dtype=np.int64) if "replication" in ts
                        else np.zeros(len(ts), dtype=np.int64)),
        "day": ts["day"].to_numpy(dtype=np.int64),
        "demand_id": ts["demand_id"].astype(str).to_numpy(),
        "material": ts["material"].astype(str).to_numpy(),
        "market": market.to_numpy(),
        "shortfall_t": ts["shortfall_t"].to_numpy(dtype=np.float64)})
    px = pd.DataFrame({
        "replication": (prices["replication"].to_numpy(dtype=np.int64)
                        if "replication" in prices else np.zeros(len(prices), dtype=np.int64)),
        "day": prices["day"].to_numpy(dtype=np.int64),
        "material": prices["material"].astype(str).to_numpy(),
        "market": prices["market"].astype(str).to_numpy(),
        "price": prices["price_usd_per_kg"].to_numpy(dtype=np.float64)})
    px = _with_content_prices(px, {m: c for m, c in contents.items() if c != {m: 1.0}})
    priced = rows.merge(px, on=["replication", "day", "material", "market"], how="inner")
    if priced.empty:
        return nan
    priced["usd"] = priced["shortfall_t"] * 1000.0 * priced["price"]
    value = priced.groupby(["replication", "demand_id"], sort=False)["usd"].sum()
    keys = pd.MultiIndex.from_arrays([out["replication"].to_numpy(dtype=np.int64),
                                      out["demand_id"].astype(str).to_numpy()])
    return value.reindex(keys).to_numpy(dtype=np.float64)


def _with_content_prices(px: pd.DataFrame, contents: dict[str, dict[str, float]]
                         ) -> pd.DataFrame:
    """``px`` with a row per (replication, day, market) for each material of ``contents``:
    its price is the sum of its priced contents' prices times their tonnes per tonne."""
    if not contents:
        return px
    wide = px.pivot_table(index=["replication", "day", "market"], columns="material",
                          values="price", aggfunc="first")
    frames = [px]
    for material, content in contents.items():
        price = sum(wide[m] * q for m, q in content.items())
        frames.append(pd.DataFrame({
            "replication": wide.index.get_level_values("replication"),
            "day": wide.index.get_level_values("day"),
            "material": material,
            "market": wide.index.get_level_values("market"),
            "price": np.asarray(price, dtype=np.float64)}).dropna(subset=["price"]))
    return pd.concat(frames, ignore_index=True)


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
