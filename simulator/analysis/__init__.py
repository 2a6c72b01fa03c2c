"""Metrics over run results (pandas in, pandas out)."""

from .kpis import KPI_COLUMNS, fill_rate_curve, group_summary, kpi_percentiles, sector_kpis

__all__ = ["KPI_COLUMNS", "fill_rate_curve", "group_summary", "kpi_percentiles", "sector_kpis"]

from .compare import PAIRED_COLUMNS, paired_differences
from .concentration import (
    CONCENTRATION_COLUMNS,
    ORIGIN_MIX_COLUMNS,
    origin_mix,
    stage_concentration,
)
from .metrics import (
    DISRUPTION_TYPES,
    METRIC_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_METRICS,
    EventWindow,
    disruption_start,
    event_windows,
    replication_metrics,
    summarize,
    t_critical_95,
)

__all__ += [
    "CONCENTRATION_COLUMNS",
    "DISRUPTION_TYPES",
    "METRIC_COLUMNS",
    "ORIGIN_MIX_COLUMNS",
    "PAIRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_METRICS",
    "EventWindow",
    "disruption_start",
    "event_windows",
    "origin_mix",
    "paired_differences",
    "replication_metrics",
    "stage_concentration",
    "summarize",
    "t_critical_95",
]
