"""Running scenarios: replications and seeds, evaluators (sequential, process pool, Dask), and
the on-disk results store."""

from .executors import (
    DaskEvaluator,
    ExecutorUnavailable,
    ProcessPoolEvaluator,
    SequentialEvaluator,
    make_evaluator,
)
from .replications import (
    ReplicationFailed,
    ReplicationFrames,
    ReplicationPayload,
    RunFailed,
    RunInterrupted,
    RunResults,
    run_batch,
    run_one,
    run_scenario,
)
from .store import RunWriter, package_version, write_run

__all__ = [
    "DaskEvaluator",
    "ExecutorUnavailable",
    "ProcessPoolEvaluator",
    "ReplicationFailed",
    "ReplicationFrames",
    "ReplicationPayload",
    "RunFailed",
    "RunInterrupted",
    "RunResults",
    "RunWriter",
    "SequentialEvaluator",
    "make_evaluator",
    "package_version",
    "run_batch",
    "run_one",
    "run_scenario",
    "write_run",
]
