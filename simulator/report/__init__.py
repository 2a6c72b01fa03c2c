"""Reports on run folders: one self-contained HTML file per run (``critmin report``), and
the run-folder reader the ``report`` and ``compare`` commands share."""

from .html import (
    RunData,
    RunFolderError,
    build_report,
    format_metric,
    format_range,
    load_run,
    sector_timeseries,
    write_report,
)

__all__ = [
    "RunData",
    "RunFolderError",
    "build_report",
    "format_metric",
    "format_range",
    "load_run",
    "sector_timeseries",
    "write_report",
]
