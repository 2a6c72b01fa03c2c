"""Parameter sweeps and sensitivity analysis over the scenario language.

A sweep varies scalar scenario paths (the ones ``--set`` takes) over a design (grid, Latin
hypercube, one-at-a-time, Morris, Sobol), runs each point with the same seed and replication
ids (common random numbers) through the runner's evaluators, keeps one result file per
finished point (resumable), and writes long results, per-point summaries, response curves
and sensitivity indices. See docs/sweeps.md.

Typical use::

    spec = load_sweep("scenarios/sweeps/usjp_stockpile_licence.yaml")
    plan = plan_sweep(spec)            # every point validated before anything runs
    run_sweep(plan, "results/sweeps/x")
    outputs = write_outputs(plan, "results/sweeps/x")
"""

from .designs import DESIGNS_NEEDING_SALIB, Design, SensitivityUnavailable, build_design
from .outputs import SweepOutputs, write_outputs
from .points import Plan, PlannedPoint, plan_sweep, point_hash
from .run import SweepFailed, SweepInterrupted, SweepRun, replication_kpis, run_sweep
from .sensitivity import morris_indices, output_by_point, sobol_indices, tornado_table
from .spec import DESIGNS, KPIS, Output, ParamSpec, SweepSpec, load_sweep, parse_param_option
from .summary import point_summary, sweep_table

__all__ = [
    "DESIGNS",
    "DESIGNS_NEEDING_SALIB",
    "KPIS",
    "Design",
    "Output",
    "ParamSpec",
    "Plan",
    "PlannedPoint",
    "SensitivityUnavailable",
    "SweepFailed",
    "SweepInterrupted",
    "SweepOutputs",
    "SweepRun",
    "SweepSpec",
    "build_design",
    "load_sweep",
    "morris_indices",
    "output_by_point",
    "parse_param_option",
    "plan_sweep",
    "point_hash",
    "point_summary",
    "replication_kpis",
    "run_sweep",
    "sobol_indices",
    "sweep_table",
    "tornado_table",
    "write_outputs",
]
