"""The library entry points the command line is built on, callable without it.

- :func:`simulate`: one scenario with some parameters changed, as a plain function of its
  inputs, for experiment frameworks (EMA Workbench, SALib, optimisers): a top-level, picklable,
  pure function (no files written, no global state, no global random numbers) that returns
  scalar KPIs and a few time series in a flat dict. Examples: docs/sweeps.md and docs/examples/.
- :func:`write_run_folder`: a run folder as ``critmin run`` writes it (tables, KPIs, figures,
  manifest) from in-memory results.
- :func:`simulator.runs.execute_run` / :func:`simulator.runs.prepare_resume`: a run into a run
  folder (and resuming one) as ``critmin run`` does it, safe against stop signals.
- :func:`simulator.comparison.compare_runs`: the folder ``critmin compare`` writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEMAND_KPIS", "simulate", "write_run_folder"]

#: KPIs returned per demand sector, as ``"<kpi>__<demand_id>"``.
DEMAND_KPIS = ("fill_rate", "trough_fill_rate", "cumulative_shortfall_t",
               "days_below_threshold", "time_to_survive_days", "time_to_recover_days",
               "units_short", "value_at_risk_usd")


def _json(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as a scenario value")


def _overrides(params: Mapping[str, Any] | None) -> list[str]:
    return [f"{path}={json.dumps(value, default=_json)}" for path, value in (params or {}).items()]


def _load(scenario: Any, overrides: list[str]) -> Any:
    from .scenario import dump_scenario_yaml, load_scenario, load_scenario_text
    from .scenario.models import Scenario

    if isinstance(scenario, Scenario):
        return load_scenario_text(dump_scenario_yaml(scenario), scenario.name, overrides)
    if isinstance(scenario, Mapping):
        return load_scenario_text(json.dumps(scenario, default=_json),
                                  str(scenario.get("name", "<dict>")), overrides)
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario, overrides)
    raise TypeError("scenario must be a file path, a Scenario or a dict, not "
                    f"{type(scenario).__name__}")


def simulate(scenario: Any, params: Mapping[str, Any] | None = None,
             replications: int | Iterable[int] = 1, seed: int = 0, *,
             disruption: str | None = None) -> dict[str, Any]:
    """Run ``scenario`` with ``params`` applied and return its KPIs.

    ``scenario`` is a scenario file path, a :class:`~simulator.scenario.Scenario` or a dict
    of scenario data; ``params`` maps dotted scenario paths to values, applied exactly as
    ``--set path=value`` (validated the same way). ``replications`` is a count N (ids
    0..N-1) or the ids to run; replication ``r`` with ``seed`` draws the same random numbers
    whatever the parameters (common random numbers). ``disruption`` names the event the
    time to survive counts from (default: per demand sector, the first event that can
    reduce its supply; docs/metrics.md).

    Returns a flat dict, every value averaged over the replications (NaN times left out):

    - ``fill_rate``, ``cumulative_shortfall_t``, ``demand_t``, ``delivered_t``,
      ``value_at_risk_usd`` (NaN without prices): whole scenario; ``"<kpi>__<demand_id>"``
      for each of :data:`DEMAND_KPIS` and demand sector;
    - ``day`` (step start days), ``fill_rate_series`` and ``shortfall_t_series`` (whole
      scenario, per step): numpy arrays;
    - ``replications``: how many were run.

    Raises ScenarioError (ScenarioFileNotFound) for an invalid (missing) scenario or
    parameter, TypeError for a value that cannot be written as YAML, ValueError for no
    replications, KeyError (listing the event ids) for an unknown ``disruption``.
    """
    from .analysis.kpis import fill_rate
    from .analysis.long_kpis import ALL, replication_kpis
    from .engine import run_replication

    sc = _load(scenario, _overrides(params))
    ids = list(range(replications)) if isinstance(replications, int | np.integer) \
        else sorted({int(r) for r in replications})
    if not ids:
        raise ValueError("replications must be >= 1")
    if disruption is not None:
        from .analysis.anchors import check_event

        check_event(sc, disruption)
    kpi_parts, fills, shorts, days = [], [], [], None
    for r in ids:
        res = run_replication(sc, seed=seed, replication=r)
        kpi_parts.append(replication_kpis(res.timeseries, sc, r, disruption, seed,
                                           res.prices))
        per_day = res.timeseries.groupby("day", sort=True)[["demand_t", "delivered_t",
                                                             "shortfall_t"]].sum()
        fills.append(fill_rate(per_day["delivered_t"], per_day["demand_t"]))
        shorts.append(per_day["shortfall_t"].to_numpy())
        days = per_day.index.to_numpy()
    import pandas as pd

    rows = pd.concat(kpi_parts, ignore_index=True)
    means = rows.groupby(["demand_id", "kpi"], sort=True)["value"].mean()
    out: dict[str, Any] = {}
    for (demand_id, kpi), value in means.items():
        if demand_id == ALL:
            out[str(kpi)] = float(value)
        elif kpi in DEMAND_KPIS:
            out[f"{kpi}__{demand_id}"] = float(value)
    out["day"] = np.asarray(days, dtype=np.int64)
    out["fill_rate_series"] = np.mean(fills, axis=0)
    out["shortfall_t_series"] = np.mean(shorts, axis=0)
    out["replications"] = len(ids)
    return out


def write_run_folder(results: Any, scenario: Any, **options: Any) -> Path:
    """Write ``results`` of ``scenario`` (:func:`simulator.runner.run_scenario`) to a new run
    folder with its figures, as ``critmin run`` does; its path. ``options`` are those of
    :func:`simulator.runner.write_run` (``out_root``, ``seed``, ``replications``,
    ``overrides``...), which writes the tables and manifest but draws nothing."""
    from .report.run_figures import draw_run_figures
    from .runner import write_run

    return write_run(results, scenario, figures=draw_run_figures, **options)
