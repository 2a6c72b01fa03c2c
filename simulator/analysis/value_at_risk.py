"""Shortfalls in money and in units of product: ``value_at_risk_usd`` and ``units_short``
of :func:`~simulator.analysis.metrics.replication_metrics` (docs/metrics.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.models import Scenario

__all__ = ["demand_units", "value_at_risk"]


def value_at_risk(ts: pd.DataFrame, scenario: Scenario, prices: pd.DataFrame | None,
                   out: pd.DataFrame) -> np.ndarray:
    """``value_at_risk_usd`` for the rows of ``out`` (``replication``, ``demand_id``): each
    row's shortfall valued at its material's price in its country's market tier, step by
    step (:func:`~simulator.analysis.metrics.replication_metrics`)."""
    nan = np.full(len(out), np.nan)
    if prices is None or prices.empty or ts.empty:
        return nan
    priced_materials = pd.unique(prices["material"].astype(str))
    # few rows: magnets are not priced (isin on the labels, not on a string copy of them)
    ts = ts[ts["material"].isin(priced_materials)]
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
    priced = rows.merge(px, on=["replication", "day", "material", "market"], how="inner")
    if priced.empty:
        return nan
    priced["usd"] = priced["shortfall_t"] * 1000.0 * priced["price"]
    value = priced.groupby(["replication", "demand_id"], sort=False)["usd"].sum()
    keys = pd.MultiIndex.from_arrays([out["replication"].to_numpy(dtype=np.int64),
                                      out["demand_id"].astype(str).to_numpy()])
    return value.reindex(keys).to_numpy(dtype=np.float64)


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
