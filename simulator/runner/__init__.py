"""Running scenarios: replications and seeds, and the on-disk results store."""

from .replications import (
    ReplicationFrames,
    RunInterrupted,
    RunResults,
    run_one,
    run_scenario,
)
from .store import package_version, write_run

__all__ = [
    "ReplicationFrames",
    "RunInterrupted",
    "RunResults",
    "package_version",
    "run_one",
    "run_scenario",
    "write_run",
]
