"""Whose price a market tier is: labels for figures and reports, and prices per country.

A priced material has one export tier per group of destinations its home country's export
controls tell apart (:mod:`simulator.scenario.tiers`, docs/markets.md "Tiers"): under
licences for Japan and the US only, their buyers' Dy/Tb oxide price is ``ex-CN:JP,US`` and
every other buyer's outside China ``ex-CN``. :func:`tier_notes` says so in the figures;
:func:`country_prices` gives the price each country's buyers see, which is what to compare
between scenarios whose tiers differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby

import numpy as np
import pandas as pd

from ..scenario.models import Scenario
from ..scenario.tiers import export_tiers, price_ceilings, tier_names, tier_of_country

__all__ = ["align_tiers", "compared_prices", "country_prices", "partial_controls",
           "published_tiers", "tier_notes", "unpriced_notes"]


def partial_controls(scenario: Scenario) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Priced material -> ``(tier, its countries)`` of each export tier that a control of
    only some destinations sets apart (every tier but the base ``ex-<home>``), by name;
    empty without such a control."""
    base = tier_names(scenario.market.home)[1]
    split = {mid: [(t.name, tuple(sorted(t.countries))) for t in tiers if t.name != base]
             for mid, tiers in export_tiers(scenario).items()}
    return {mid: apart for mid, apart in split.items() if apart}


def published_tiers(prices: pd.DataFrame | None) -> set[tuple[str, str]]:
    """The (material, tier) pairs a run's ``prices`` table has rows for (a tier where
    nobody buys the material has none: docs/markets.md "Tiers")."""
    if prices is None or prices.empty:
        return set()
    return set(zip(prices["material"].astype(str), prices["market"].astype(str),
                   strict=True))


def unpriced_notes(prices: pd.DataFrame | None, scenario: Scenario, name: str | None = None
                   ) -> dict[str, list[str]]:
    """Priced material -> notes on the tiers of a run's ``prices`` that have no price on
    some of the run's steps (nobody buys there while a control sets the tier apart,
    docs/markets.md "Tiers"): ``"<tier>[ in <name>]: no price <date> to <date>, from
    <date> ..."``, a stretch of steps without one each (its first and last step)."""
    if prices is None or prices.empty:
        return {}
    start = pd.Timestamp(scenario.start_date)
    suffix = f" in {name}" if name else ""
    out: dict[str, list[str]] = {}
    material = prices["material"].astype(str)
    market = prices["market"].astype(str)
    for mid in pd.unique(material):
        of = material == mid
        steps = np.unique(prices.loc[of, "day"].to_numpy())
        dates = [f"{start + pd.Timedelta(days=int(d)):%Y-%m-%d}" for d in steps]
        for tier in pd.unique(market[of]):
            have = np.isin(steps, prices.loc[of & (market == tier), "day"].to_numpy())
            if have.all():
                continue
            spans = []
            for priced, run in groupby(range(len(steps)), key=have.__getitem__):
                if not priced:
                    ks = list(run)
                    spans.append(f"from {dates[ks[0]]}" if ks[-1] == len(steps) - 1
                                 else f"{dates[ks[0]]} to {dates[ks[-1]]}")
            out.setdefault(str(mid), []).append(
                f"{tier}{suffix}: no price {', '.join(spans)} (nobody buys there while a "
                "control sets it apart)")
    return out


def tier_notes(scenarios: list[Scenario],
               published: list[set[tuple[str, str]]] | None = None) -> dict[str, str]:
    """Priced material -> a one-line note on its export tiers where a control of some
    destinations splits them: which countries each split tier holds and which controls set
    it apart, for every distinct tier of the given scenarios, in order. With ``published``
    (per scenario, :func:`published_tiers` of its run), a split tier without a price in a
    run that prices the material in other tiers is noted as such (nobody buys it there)."""
    lines: dict[str, list[str]] = {}
    for i, sc in enumerate(scenarios):
        home = sc.market.home
        base = tier_names(home)[1]
        priced = None if published is None else published[i]
        for mid, tiers in export_tiers(sc).items():
            if len(tiers) < 2:
                continue
            seen = priced is not None and any(m == mid for m, _ in priced)
            for t in tiers[::-1]:
                if seen and (mid, t.name) not in (priced or set()):
                    text = f"{t.name} in {sc.name}: nobody buys it there, no price"
                elif t.name == base:
                    text = f"{base}: the other countries outside {home}"
                else:
                    text = (f"{t.name}: {', '.join(sorted(t.countries))}, a price of their "
                            f"own while {', '.join(t.controls)} is in force")
                if text not in lines.setdefault(mid, []):
                    lines[mid].append(text)
    return {mid: "; ".join(texts) for mid, texts in lines.items()}


def country_prices(prices: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``prices`` (a run's ``prices`` table) per country instead of per tier: one row per
    price row and country of its tier (columns ``country`` for ``market``), sorted by
    (replication, day, material, country). Scenarios whose tiers differ (a control of some
    destinations in one only) compare like with like on this table."""
    of = tier_of_country(scenario)
    pairs = pd.DataFrame([(mid, tier, country) for mid, countries in of.items()
                          for country, tier in countries.items()],
                         columns=["material", "market", "country"])
    p = prices.copy()
    for col in ("material", "market"):
        p[col] = p[col].astype(str)
    out = p.merge(pairs, on=["material", "market"], how="inner").drop(columns="market")
    keys = [c for c in ("replication", "day", "material", "country") if c in out]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def align_tiers(prices: Mapping[str, pd.DataFrame], scenarios: Mapping[str, Scenario]
                ) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """Prices of compared runs (by scenario name) with the same tiers: where one scenario
    has a tier (``ex-CN:JP,US``) another has not, the other's rows for it are those of the
    tier its countries share there (``ex-CN``), so both are the price those buyers paid;
    not when they span several of its tiers. Returns the prices and, per material, notes on
    what was borrowed."""
    tiers = {n: export_tiers(sc) for n, sc in scenarios.items()}
    out = dict(prices)
    notes: dict[str, list[str]] = {}
    for name, p in prices.items():
        if p is None or p.empty or name not in scenarios:
            continue
        of = tier_of_country(scenarios[name])
        have = set(zip(p["material"].astype(str), p["market"].astype(str), strict=True))
        extra = []
        for other, by_material in tiers.items():
            for mid, ts in by_material.items():
                for t in ts:
                    if (mid, t.name) in have or mid not in of:
                        continue
                    theirs = {of[mid].get(c) for c in t.countries}
                    if len(theirs) != 1 or None in theirs or (mid, *theirs) not in have:
                        continue
                    (source,) = theirs
                    rows = p[(p["material"].astype(str) == mid)
                             & (p["market"].astype(str) == source)]
                    extra.append(rows.assign(market=t.name))
                    have.add((mid, t.name))
                    notes.setdefault(mid, []).append(
                        f"{t.name} in {name}: no tier of its own there (from {other}), "
                        f"its {source} price")
        if extra:
            out[name] = pd.concat([p.assign(market=p["market"].astype(str)), *extra],
                                  ignore_index=True)
    return out, notes


def compared_prices(prices: Mapping[str, pd.DataFrame], scenarios: Mapping[str, Scenario]
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[tuple[str, str], float]],
                               dict[str, str]]:
    """What a comparison of runs draws and tabulates of their prices (``critmin compare``,
    the workbench): the prices with their tiers aligned (:func:`align_tiers`), each
    scenario's ceilings per (material, tier) (``price_ceilings`` of
    :mod:`simulator.scenario.tiers`; a borrowed tier has its base export tier's, as every
    export tier has) and the tier notes per material (:func:`tier_notes` and what was
    borrowed)."""
    aligned, borrowed = align_tiers(prices, scenarios)
    ceilings = {}
    for name, sc in scenarios.items():
        cap = price_ceilings(sc.market, export_tiers(sc))
        p = aligned.get(name)
        base = tier_names(sc.market.home)[1]
        if p is not None and len(p) and base is not None:  # borrowed: every export tier's
            for mid, tier in set(zip(p["material"].astype(str), p["market"].astype(str),
                                     strict=True)) - set(cap):
                if (mid, base) in cap:
                    cap[(mid, tier)] = cap[(mid, base)]
        ceilings[name] = cap
    notes = tier_notes(list(scenarios.values()),
                       [published_tiers(prices.get(name)) for name in scenarios])
    extra: dict[str, list[str]] = {}
    for name, sc in scenarios.items():
        for mid, texts in unpriced_notes(prices.get(name), sc, name).items():
            extra.setdefault(mid, []).extend(texts)
    for mid, texts in borrowed.items():
        extra.setdefault(mid, []).extend(texts)
    for mid, texts in extra.items():
        notes[mid] = "; ".join([notes[mid], *texts] if mid in notes else texts)
    return aligned, ceilings, notes
