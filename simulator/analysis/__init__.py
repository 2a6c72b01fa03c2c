"""Metrics over run results (pandas in, pandas out)."""

from .kpis import KPI_COLUMNS, fill_rate_curve, group_summary, kpi_percentiles, sector_kpis

__all__ = ["KPI_COLUMNS", "fill_rate_curve", "group_summary", "kpi_percentiles", "sector_kpis"]

from .anchors import (
    SUPPLY_EVENT_TYPES,
    Anchor,
    EventWindow,
    disruption_start,
    event_windows,
    plant_starts,
    reduces_supply,
    tts_anchors,
)
from .compare import PAIRED_COLUMNS, paired_differences
from .concentration import (
    CONCENTRATION_COLUMNS,
    ORIGIN_MIX_COLUMNS,
    origin_mix,
    stage_concentration,
)
from .metrics import (
    METRIC_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_METRICS,
    replication_metrics,
    summarize,
    t_critical_95,
)

__all__ += [
    "CONCENTRATION_COLUMNS",
    "METRIC_COLUMNS",
    "ORIGIN_MIX_COLUMNS",
    "PAIRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_METRICS",
    "SUPPLY_EVENT_TYPES",
    "Anchor",
    "EventWindow",
    "disruption_start",
    "event_windows",
    "origin_mix",
    "paired_differences",
    "plant_starts",
    "reduces_supply",
    "replication_metrics",
    "stage_concentration",
    "summarize",
    "t_critical_95",
    "tts_anchors",
]
