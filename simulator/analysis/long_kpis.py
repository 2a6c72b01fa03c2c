"""Long KPI rows of one replication: every KPI per demand sector and the whole scenario's
totals, the unit of sweep points and of :func:`simulator.api.evaluate`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.models import Scenario
from .kpis import fill_rate
from .metrics import replication_metrics

__all__ = ["ALL", "KPIS", "POINT_COLUMNS", "TOTAL_KPIS", "replication_kpis"]

#: KPIs recorded per demand sector (columns of :func:`replication_metrics`).
KPIS = ("fill_rate", "trough_fill_rate", "cumulative_shortfall_t", "days_below_threshold",
        "resilience_loss_pct_days", "time_to_survive_days", "time_to_recover_days",
        "stockpile_drawdown_t", "demand_t", "delivered_t", "units_short",
        "value_at_risk_usd")
#: KPIs also recorded for the whole scenario (``demand_id`` ``all``); not ``units_short``,
#: whose units differ between sectors.
TOTAL_KPIS = ("fill_rate", "cumulative_shortfall_t", "demand_t", "delivered_t",
              "value_at_risk_usd")
POINT_COLUMNS = ["replication", "demand_id", "country", "sector", "material", "kpi", "unit",
                 "value"]
ALL = "all"
"""The ``demand_id`` (and labels) of the whole scenario's rows."""


def replication_kpis(timeseries: pd.DataFrame, scenario: Scenario, replication: int,
                     disruption: str | None = None, seed: int | None = None,
                     prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long KPI rows (:data:`POINT_COLUMNS`) of one replication's engine ``timeseries``: every
    :data:`KPIS` per demand sector (:func:`replication_metrics`, the
    time to survive counted from ``disruption`` or each sector's default anchor), and
    :data:`TOTAL_KPIS` over all demand (``demand_id`` ``all``); ``seed``: the run's root seed
    (needed when event dates are uncertain); ``prices``: the replication's prices (without,
    ``value_at_risk_usd`` is NaN). ``unit`` names what ``units_short`` counts (e.g.
    ``EV-equivalent``; ``""`` on other rows, and NaN ``units_short`` for a sector without
    ``units``)."""
    ts = timeseries.assign(replication=np.int32(replication))
    m = replication_metrics(ts, scenario, event_id=disruption, seed=seed, prices=prices)
    keys = ["demand_id", "country", "sector", "material"]
    long = m.melt(id_vars=[*keys, "unit"], value_vars=list(KPIS), var_name="kpi",
                  value_name="value")
    long["unit"] = long["unit"].where(long["kpi"] == "units_short", "").fillna("").astype(str)
    demand, delivered = float(m["demand_t"].sum()), float(m["delivered_t"].sum())
    var = m["value_at_risk_usd"]
    total = {"fill_rate": float(fill_rate(delivered, demand)),
             "cumulative_shortfall_t": float(m["cumulative_shortfall_t"].sum()),
             "demand_t": demand, "delivered_t": delivered,
             # sectors of unpriced materials have none: the priced ones' sum (NaN if none)
             "value_at_risk_usd": float(var.sum()) if var.notna().any() else float("nan")}
    tot = pd.DataFrame({"demand_id": ALL, "country": ALL, "sector": ALL, "material": ALL,
                        "kpi": list(TOTAL_KPIS), "unit": "",
                        "value": [total[k] for k in TOTAL_KPIS]})
    out = pd.concat([long, tot], ignore_index=True)
    out.insert(0, "replication", np.int32(replication))
    out["value"] = out["value"].astype(np.float64)
    return out[POINT_COLUMNS]
