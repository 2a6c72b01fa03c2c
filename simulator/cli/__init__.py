"""``critmin`` command line (also ``python -m simulator``): parse, call the library, map errors.

A thin package: :mod:`.root` holds the typer :data:`app` and the entry point :func:`main`; one
module per command (:mod:`.run`, :mod:`.listing` for validate, schema and list, :mod:`.app_cmd`,
:mod:`.compare`, :mod:`.report`, :mod:`.sweep`) parses its options, calls the library
(:mod:`simulator.runner`, :mod:`simulator.comparison`, :mod:`simulator.report`,
:mod:`simulator.sweep`), prints, and maps exceptions to exit codes (:mod:`.common`,
:mod:`simulator.exit_codes`); :mod:`.output` is ``--format table|csv|json``.

Exit codes: 0 ok, 2 usage, 65 invalid scenario, 66 missing file, 69 executor unavailable,
70 internal error (or a replication raised), 74 cannot write output, 130 interrupted. Set
``CRITMIN_DEBUG=1`` to see tracebacks of internal errors.
"""

from ..scenario.errors import ScenarioFileNotFound
from .root import app, main

# the commands register on ``app`` when imported, in the order ``critmin --help`` lists them
from . import run, listing, app_cmd, compare, report, sweep  # noqa: F401  # isort: skip

__all__ = ["ScenarioFileNotFound", "app", "main"]
