"""Sensitivity of the sweep's output KPI to its parameters.

The output of a point is the mean over its replications of ``spec.output.kpi`` for
``spec.output.demand`` (common random numbers make differences between points mostly
parameter effects, not noise).

- :func:`tornado_table` (``oat``): the output at each parameter's low and high value with the
  others at base, sorted by swing ``|high - low|`` (largest first);
- :func:`morris_indices` (``morris``): mu*, its bootstrap 95 % CI, mu and sigma of the
  elementary effects per parameter, in units of the KPI per full parameter range;
- :func:`sobol_indices` (``sobol``): first-order ``S1`` and total ``ST`` indices with
  bootstrap 95 % CIs.

Bootstrap resamples draw from ``numpy.random.default_rng(spec.seed)``: the same sweep gives
the same intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .designs import salib
from .points import Plan

__all__ = ["morris_indices", "output_by_point", "sobol_indices", "tornado_table"]


def output_by_point(table: pd.DataFrame, kpi: str, demand: str = "all") -> pd.Series:
    """Mean over replications of ``kpi`` for ``demand`` per point (index ``point``).
    NaN values (times never reached) are left out of the mean."""
    rows = table[(table["kpi"] == kpi) & (table["demand_id"] == demand)]
    return rows.groupby("point", sort=True)["value"].mean()


def _y(plan: Plan, table: pd.DataFrame) -> np.ndarray:
    out = plan.spec.output
    y = output_by_point(table, out.kpi, out.demand).reindex(range(len(plan.points)))
    if y.isna().any():
        missing = int(y.isna().sum())
        raise ValueError(f"{missing} point(s) have no finite {out.kpi} for {out.demand}")
    return y.to_numpy(dtype=np.float64)


def tornado_table(plan: Plan, table: pd.DataFrame) -> pd.DataFrame:
    """Per parameter of an ``oat`` design: ``param, low, base, high`` (values),
    ``output_low, output_base, output_high`` (mean output), ``swing`` = ``|high - low|``
    of the output; sorted by swing, largest first (ties by parameter order)."""
    y = _y(plan, table)
    meta = plan.design.meta
    base_idx = int(np.flatnonzero(meta["oat_level"].to_numpy() == "base")[0])
    rows = []
    for order, name in enumerate(plan.design.params):
        idx = {lvl: int(np.flatnonzero((meta["oat_param"] == name).to_numpy()
                                       & (meta["oat_level"] == lvl).to_numpy())[0])
               for lvl in ("low", "high")}
        rows.append({
            "param": name, "order": order,
            "low": plan.points[idx["low"]].values[name],
            "base": plan.points[base_idx].values[name],
            "high": plan.points[idx["high"]].values[name],
            "output_low": y[idx["low"]], "output_base": y[base_idx],
            "output_high": y[idx["high"]],
            "swing": abs(y[idx["high"]] - y[idx["low"]]),
        })
    frame = pd.DataFrame(rows).sort_values(["swing", "order"], ascending=[False, True],
                                           kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def morris_indices(plan: Plan, table: pd.DataFrame, num_resamples: int = 1000
                   ) -> pd.DataFrame:
    """Morris screening: ``param, mu, mu_star, mu_star_conf, sigma`` sorted by mu* (largest
    first). Raises SensitivityUnavailable without SALib."""
    lib = salib()
    design = plan.design
    res = lib.analyze_morris.analyze(design.problem, design.X, _y(plan, table),
                                     num_resamples=num_resamples, conf_level=0.95,
                                     num_levels=plan.spec.levels,
                                     seed=np.random.default_rng(plan.spec.seed))
    frame = pd.DataFrame({"param": list(design.params), "mu": np.asarray(res["mu"], float),
                          "mu_star": np.asarray(res["mu_star"], float),
                          "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                          "sigma": np.asarray(res["sigma"], float)})
    return frame.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def sobol_indices(plan: Plan, table: pd.DataFrame, num_resamples: int = 1000) -> pd.DataFrame:
    """Sobol indices: ``param, S1, S1_conf, ST, ST_conf`` (conf = half-width of the 95 %
    bootstrap interval) sorted by ST (largest first). Raises SensitivityUnavailable without
    SALib."""
    lib = salib()
    design = plan.design
    y = _y(plan, table)
    if np.ptp(y) == 0:  # no variance: every index is 0 (SALib would divide by zero)
        zeros = np.zeros(len(design.params))
        res = {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
    else:
        res = lib.analyze_sobol.analyze(design.problem, y, calc_second_order=False,
                                        num_resamples=num_resamples, conf_level=0.95,
                                        seed=np.random.default_rng(plan.spec.seed))
    frame = pd.DataFrame({"param": list(design.params),
                          **{k: np.asarray(res[k], float)
                             for k in ("S1", "S1_conf", "ST", "ST_conf")}})
    return frame.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)
