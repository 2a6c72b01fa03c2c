"""Comparing scenarios paired by replication (common random numbers): the library behind
``critmin compare``, callable without the command line.

:func:`compare_runs` reads run folders, runs scenario files with the same seed and
replications, and writes the comparison folder (overlays, ``kpis.csv``, ``pairs.csv``,
``compare.json``, ``report.html``) atomically; it returns a :class:`Comparison`. The
statistics themselves (paired differences, comparison pairs) are in
:mod:`simulator.analysis.compare`, the figures in :mod:`simulator.viz`.
"""

from .build import Comparison, compare_runs
from .folder import StagedFolder
from .inputs import CompareError, CompareInput, missing_event
from .tables import (
    KPI_COLUMNS,
    SECTOR_METRICS,
    TABLE_METRICS,
    auto_smooth_days,
    demands_of_interest,
    kpi_table,
    sectors_of_interest,
    table_rows,
)

__all__ = [
    "KPI_COLUMNS",
    "SECTOR_METRICS",
    "TABLE_METRICS",
    "CompareError",
    "CompareInput",
    "Comparison",
    "StagedFolder",
    "auto_smooth_days",
    "compare_runs",
    "demands_of_interest",
    "kpi_table",
    "missing_event",
    "sectors_of_interest",
    "table_rows",
]
