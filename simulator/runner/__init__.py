"""Running scenarios: replications and seeds, evaluators (sequential, process pool, Dask), and
the on-disk results store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
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

# imported on first use (simulator.lazy): the command line imports this package for a few
# light names and should not pay for the rest
__getattr__, __dir__ = lazy_attributes(__name__, {
    "DaskEvaluator": ".executors",
    "ExecutorUnavailable": ".executors",
    "ProcessPoolEvaluator": ".executors",
    "ReplicationFailed": ".replications",
    "ReplicationFrames": ".replications",
    "ReplicationPayload": ".replications",
    "RunFailed": ".replications",
    "RunInterrupted": ".replications",
    "RunResults": ".replications",
    "RunWriter": ".store",
    "SequentialEvaluator": ".executors",
    "make_evaluator": ".executors",
    "package_version": ".store",
    "run_batch": ".replications",
    "run_one": ".replications",
    "run_scenario": ".replications",
    "write_run": ".store",
}, globals())
