"""Why a run stopped: interrupted, failed, or one replication raised."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .replications import ReplicationPayload, RunResults

__all__ = ["ReplicationFailed", "RunFailed", "RunInterrupted"]


class RunInterrupted(KeyboardInterrupt):
    """Raised by :func:`run_scenario` on a stop signal (Ctrl-C, or SIGTERM / SIGHUP where the
    command line handles them); ``partial`` holds the finished replications, ``signum`` the
    signal."""

    def __init__(self, partial: RunResults, signum: int = signal.SIGINT):
        super().__init__(f"interrupted after {partial.replications} replication(s)")
        self.partial = partial
        self.signum = int(signum)


class RunFailed(Exception):
    """A run stopped by an error; ``partial`` holds the replications that finished."""

    def __init__(self, message: str, partial: RunResults | None = None):
        super().__init__(message)
        self.partial = partial

    def record(self) -> dict[str, object]:
        """The error as the manifest records it."""
        return {"message": str(self)}


class ReplicationFailed(RunFailed):
    """Replication ``replication`` (root ``seed``) raised ``error_type``: ``message``.

    Raised in the worker (picklable, with the worker's traceback text and the replications of
    its batch that finished first, ``finished``) and re-raised by :func:`run_scenario` with
    ``partial`` set.
    """

    def __init__(self, replication: int, seed: int, error_type: str, message: str,
                 traceback_text: str = "", finished: Sequence[ReplicationPayload] = ()):
        detail = " ".join(message.split()) or "(no message)"
        super().__init__(f"replication {replication} (seed {seed}) failed: "
                         f"{error_type}: {detail}")
        self.replication, self.seed = replication, seed
        self.error_type, self.error_message = error_type, message
        self.traceback_text = traceback_text
        self.finished = list(finished)

    def __reduce__(self):
        return (type(self), (self.replication, self.seed, self.error_type, self.error_message,
                             self.traceback_text, self.finished))

    def record(self) -> dict[str, object]:
        return {"replication": self.replication, "seed": self.seed, "type": self.error_type,
                "message": self.error_message}
