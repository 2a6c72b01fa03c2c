"""Evaluators: how replications are executed, behind the ``concurrent.futures.Executor`` API.

In the style of the EMA Workbench, an evaluator is a context manager that starts its resources
on entry and releases them on exit; in between, :meth:`submit` and :meth:`map` work as on any
``concurrent.futures.Executor``. The model (:func:`~simulator.runner.replications.run_batch`)
never knows how it is executed, and results do not depend on it.

- :class:`SequentialEvaluator`: in this process, one call at a time (debugging, tests, ``-j 1``);
- :class:`ProcessPoolEvaluator`: a local process pool (the CLI's default, all cores);
- :class:`DaskEvaluator`: a ``dask.distributed`` cluster through ``Client.get_executor()``, a
  scheduler address or a ``LocalCluster`` on loopback (``pip install 'critmin[dask]'``).

Besides the Executor API, the runner reads ``max_workers`` (how much work to keep in flight),
``in_process`` (True: no batching, run one replication per call), ``inline_below_s`` (see
:class:`ProcessPoolEvaluator`), and calls :meth:`abort` (cancel pending work, stop running
work now) on Ctrl-C or a failure, and :meth:`describe` for the manifest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Executor, Future
from typing import Any

from .pool import WorkerPool

__all__ = [
    "DaskEvaluator",
    "Evaluator",
    "ExecutorUnavailable",
    "ProcessPoolEvaluator",
    "SequentialEvaluator",
    "available_cores",
    "make_evaluator",
]

#: The CLI's default pool runs a run in-process when its replications would take under this.
AUTO_INLINE_SECONDS = 1.0


class ExecutorUnavailable(RuntimeError):
    """The requested executor cannot be used here (package missing, scheduler unreachable)."""


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Evaluator(Executor):
    """Base class: a context-managed ``concurrent.futures.Executor``."""

    name = "evaluator"
    max_workers = 1
    in_process = True
    inline_below_s: float | None = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.shutdown(wait=True)
        else:
            self.abort()

    def abort(self) -> None:
        """Cancel pending work and stop running work as soon as possible."""
        self.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        """What ran the work, for the manifest."""
        return {"executor": self.name, "workers": self.max_workers}


class SequentialEvaluator(Evaluator):
    """Runs each call at once, in this process; returns a finished Future.

    An exception of the call is stored in the Future, except ``KeyboardInterrupt`` (and other
    non-``Exception`` errors), which propagate from :meth:`submit`.
    """

    name = "sequential"

    def submit(self, fn, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass


class ProcessPoolEvaluator(Evaluator):
    """A local pool of ``workers`` processes (default: all cores), a
    :class:`~simulator.runner.pool.WorkerPool`.

    The pool starts on the first :meth:`submit`. Workers leave SIGINT, SIGTERM and SIGHUP to
    this process and exit by themselves if it dies; :meth:`abort` cancels pending calls and
    kills the workers. A worker that dies fails the call it was running with
    :exc:`~simulator.runner.pool.WorkerDied` (a ``BrokenProcessPool``). ``mp_context``
    defaults to ``fork`` where it is available and this process runs no other Python thread
    (fast start, nothing to re-import), else ``forkserver``/``spawn``. With ``inline_below_s``
    set (the CLI's default ``-j``), the runner runs the first replication in this process and,
    if the whole run would take less than that many seconds, the rest as well: the pool is
    never started for small runs.
    """

    name = "process-pool"
    in_process = False

    def __init__(self, workers: int | None = None, *, mp_context=None,
                 inline_below_s: float | None = None):
        self.max_workers = int(workers or available_cores())
        if self.max_workers < 1:
            raise ValueError("workers must be >= 1")
        self.inline_below_s = inline_below_s
        self._mp_context = mp_context
        self._pool: WorkerPool | None = None
        self._lock = threading.Lock()

    def _context(self):
        if self._mp_context is not None:
            return (multiprocessing.get_context(self._mp_context)
                    if isinstance(self._mp_context, str) else self._mp_context)
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1 and sys.platform != "darwin":
            return multiprocessing.get_context("fork")
        return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")

    def _ensure_pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                self._pool = WorkerPool(self.max_workers, self._context())
            return self._pool

    @property
    def started(self) -> bool:
        return self._pool is not None and self._pool.started

    def pids(self) -> list[int]:
        """The pids of the live worker processes (none before the first submit)."""
        return self._pool.pids() if self._pool is not None else []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._ensure_pool().submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.kill()

    def describe(self) -> dict[str, Any]:
        if not self.started:
            return {"executor": "sequential", "workers": 1}
        return {"executor": self.name, "workers": self.max_workers}


#: Seconds to wait for a ``--scheduler`` to answer (``--connect-timeout``).
CONNECT_TIMEOUT = 10.0
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS_HELP = "a Dask scheduler address is tcp://HOST:PORT (or tls://, ws://, wss://, ucx://)"


def scheduler_address(address: str) -> str:
    """``address`` checked and normalised (``host:port`` -> ``tcp://host:port``); ValueError
    saying what is wrong otherwise."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme.lower() not in SCHEDULER_SCHEMES:
        raise ValueError(f"{address!r}: unknown scheme {scheme + '://'!r}; {_ADDRESS_HELP}")
    if rest.startswith("["):  # [IPv6]:port
        host, _, port = rest[1:].partition("]")
        port = port[1:] if port.startswith(":") else ""
    else:
        host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not host or "/" in host or " " in host:
        raise ValueError(f"{address!r}: no host; {_ADDRESS_HELP}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r}: no port number (1-65535); {_ADDRESS_HELP}")
    return f"{scheme.lower()}://{rest}"


def _probe_scheduler(address: str, timeout: float) -> None:
    """Ask ``address`` who it is (the Dask ``identity`` call) within ``timeout`` seconds in
    all; :exc:`ExecutorUnavailable` unless a Dask scheduler answers."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def identity() -> object:
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(identity(), timeout + 1))  # connect's own first
    except TimeoutError as exc:
        detail = " ".join(str(exc).split())
        raise ExecutorUnavailable(
            f"no answer from Dask scheduler {address} within {timeout:g} s"
            + (f" ({detail})" if detail else "")
            + "; check the address, or allow longer with --connect-timeout") from None
    except OSError as exc:
        raise ExecutorUnavailable(f"cannot connect to Dask scheduler {address}: {exc}") \
            from None
    except Exception as exc:  # junk bytes read as a frame length, a closed stream...
        raise ExecutorUnavailable(
            f"{address} did not answer as a Dask scheduler does ({type(exc).__name__}); "
            "is it the scheduler's address and port?") from None
    if not (isinstance(answer, dict) and answer.get("type") == "Scheduler"):
        raise ExecutorUnavailable(f"{address} is not a Dask scheduler (it answered "
                                  f"{str(answer)[:80]!r})")


#: Dask settings of the workers of the ``LocalCluster`` a :class:`DaskEvaluator` starts. Each
#: worker's statistical profiler samples the running task's stack every 10 ms and keeps one
#: call tree per second for the last 1,000 seconds (``distributed.admin.low-level-log-length``),
#: twice (whole worker and per task prefix): with the engine's deep, varied stacks that grew
#: each worker by ~40 MiB per 1,000 synthetic replications. Nothing reads it (the cluster
#: has no dashboard), so it is off.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {"distributed.worker.profile.enabled": False}


class DaskEvaluator(Evaluator):
    """Runs calls on a ``dask.distributed`` cluster via ``Client.get_executor()``.

    ``scheduler``: a scheduler address (``tcp://host:8786``); without one, a ``LocalCluster``
    of ``workers`` (default: all cores) single-threaded worker processes listening on
    127.0.0.1 only (``processes=False``: threads of this process instead). Requires the
    ``dask`` extra. A malformed address raises ValueError here; on entry,
    :exc:`ExecutorUnavailable` if the extra is missing, or the scheduler does not answer as a
    Dask scheduler within ``timeout`` seconds, or has no worker by then.
    """

    name = "dask"
    in_process = False

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 processes: bool = True, timeout: float = CONNECT_TIMEOUT):
        self.scheduler = scheduler_address(scheduler) if scheduler else None
        if not timeout > 0:
            raise ValueError("the connect timeout must be > 0 seconds")
        self._n_workers = workers
        self._processes = processes
        self._timeout = float(timeout)
        self._cluster = None
        self._client = None
        self._executor = None
        self.max_workers = 1

    def __enter__(self):
        try:
            import distributed
        except ImportError as exc:
            raise ExecutorUnavailable(
                "--executor dask needs dask.distributed: pip install 'critmin[dask]'") from exc
        where = self.scheduler or "a local cluster"
        try:
            if self.scheduler:
                _probe_scheduler(self.scheduler, self._timeout)
                self._client = distributed.Client(self.scheduler, timeout=self._timeout,
                                                  set_as_default=False)
                self._client.wait_for_workers(1, timeout=self._timeout)
            else:
                import logging

                import dask

                # worker processes talk TCP on loopback only; threads talk in-process
                local = {"host": "127.0.0.1"} if self._processes else {}
                with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the nannies pass it on
                    self._cluster = distributed.LocalCluster(
                        n_workers=self._n_workers or available_cores(), threads_per_worker=1,
                        processes=self._processes, dashboard_address=None,
                        silence_logs=logging.CRITICAL, **local)
                self._client = distributed.Client(self._cluster, set_as_default=False)
        except ExecutorUnavailable:
            self._close()
            raise
        except (OSError, TimeoutError) as exc:
            connected = self._client is not None
            self._close()
            if not connected:
                detail = " ".join(str(exc).split()) or type(exc).__name__
                raise ExecutorUnavailable(f"cannot connect to Dask scheduler {where}: "
                                          f"{detail}") from exc
            raise ExecutorUnavailable(f"Dask scheduler {where} has no workers (none within "
                                      f"{self._timeout:g} s)") from exc
        except Exception as exc:  # a half-open connection, a protocol error...
            self._close()
            raise ExecutorUnavailable(f"cannot use Dask scheduler {where}: "
                                      f"{type(exc).__name__}: {exc}") from exc
        self._executor = self._client.get_executor(pure=False)
        self.max_workers = max(1, sum(self._client.nthreads().values()))
        return self

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self._executor is None:
            raise RuntimeError("use DaskEvaluator as a context manager: with DaskEvaluator():")
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=wait and not cancel_futures)
            self._executor = None
        self._close()

    def abort(self) -> None:
        self.shutdown(wait=False, cancel_futures=True)

    def _close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        for thing in (client, cluster):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    thing.close()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.max_workers,
                "scheduler": self.scheduler or "LocalCluster(127.0.0.1)"}


def make_evaluator(executor: str = "local", workers: int | None = None,
                   scheduler: str | None = None,
                   connect_timeout: float = CONNECT_TIMEOUT) -> Evaluator:
    """The CLI's choice: ``local`` with ``workers`` None (all cores; small runs in-process),
    1 (sequential) or N (a pool of N); ``dask`` with an optional ``scheduler`` address (checked
    here: ValueError) answering within ``connect_timeout`` seconds."""
    if executor == "dask":
        return DaskEvaluator(scheduler, workers, timeout=connect_timeout)
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r} (use local or dask)")
    if scheduler:
        raise ValueError("--scheduler needs --executor dask")
    if workers is None:
        cores = available_cores()
        if cores == 1:
            return SequentialEvaluator()
        return ProcessPoolEvaluator(cores, inline_below_s=AUTO_INLINE_SECONDS)
    if workers == 1:
        return SequentialEvaluator()
    return ProcessPoolEvaluator(workers)
