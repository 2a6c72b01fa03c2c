"""Metrics over run results (pandas in, pandas out)."""

from .kpis import KPI_COLUMNS, fill_rate_curve, group_summary, kpi_percentiles, sector_kpis

__all__ = ["KPI_COLUMNS", "fill_rate_curve", "group_summary", "kpi_percentiles", "sector_kpis"]
