"""Reports on run folders: one self-contained HTML file per run (``critmin report``), and
the run-folder reader the ``report`` and ``compare`` commands share."""

from .compare_html import CompareRun, build_compare_report, write_compare_report
from .html import build_report, write_report
from .markup import format_metric, format_range
from .rundata import DamagedRunFolder, RunData, RunFolderError, load_run, sector_timeseries

__all__ = [
    "CompareRun",
    "DamagedRunFolder",
    "RunData",
    "RunFolderError",
    "build_compare_report",
    "build_report",
    "format_metric",
    "format_range",
    "load_run",
    "sector_timeseries",
    "write_compare_report",
    "write_report",
]
