"""Experimental designs: which parameter values each point of a sweep runs.

- ``grid``: every combination of the parameters' values (first parameter slowest);
- ``lhs``: a Latin hypercube of ``samples`` points, from ``numpy.random.default_rng(seed)``;
- ``oat``: one at a time: the base point, then each parameter at its low and at its high value
  with the others at base (a tornado chart's input);
- ``morris``: ``samples`` Morris trajectories (SALib, ``levels`` grid levels);
- ``sobol``: Saltelli's scheme for first-order and total Sobol indices, ``samples`` base
  samples (a power of 2), i.e. ``samples * (k + 2)`` points (SALib).

Continuous draws of an integer field are rounded; a parameter given as a list of values is
sampled by index (each value equally likely). ``morris`` and ``sobol`` need the
``sensitivity`` extra (``pip install 'critmin[sensitivity]'``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .spec import ParamSpec, SweepSpec

__all__ = [
    "DESIGNS_NEEDING_SALIB",
    "Design",
    "SensitivityUnavailable",
    "build_design",
    "default_samples",
    "oat_levels",
]

#: Designs that need SALib (the ``sensitivity`` extra).
DESIGNS_NEEDING_SALIB = ("morris", "sobol")


class SensitivityUnavailable(RuntimeError):
    """SALib is not installed (the ``sensitivity`` extra)."""


@dataclass
class Design:
    """The points of a design: ``points[i]`` maps each parameter path to its value;
    ``meta`` has one row per point with design columns (``oat_param``, ``oat_level``);
    ``X`` is the unit-free sample matrix SALib analyses (morris, sobol) and ``problem`` its
    SALib problem definition."""

    name: str
    params: tuple[str, ...]
    points: list[dict[str, Any]]
    meta: pd.DataFrame = field(default_factory=pd.DataFrame)
    X: np.ndarray | None = None
    problem: dict[str, Any] | None = None


def default_samples(design: str, n_params: int) -> int:
    """``samples`` when the spec gives none: lhs 10 per parameter, morris 10 trajectories,
    sobol 64 base samples."""
    return {"lhs": max(10, 10 * n_params), "morris": 10, "sobol": 64}.get(design, 0)


def salib() -> Any:
    """The SALib sample/analyze modules. Raises SensitivityUnavailable when not installed."""
    try:
        from SALib.analyze import morris as analyze_morris
        from SALib.analyze import sobol as analyze_sobol
        from SALib.sample import morris as sample_morris
        from SALib.sample import sobol as sample_sobol
    except ImportError as exc:
        raise SensitivityUnavailable("designs morris and sobol need SALib: "
                                     "pip install 'critmin[sensitivity]'") from exc
    return type("SALib", (), {"sample_morris": sample_morris, "sample_sobol": sample_sobol,
                              "analyze_morris": analyze_morris,
                              "analyze_sobol": analyze_sobol})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cast(value: float, integer: bool) -> Any:
    return round(value) if integer else float(value)


def _from_unit(p: ParamSpec, u: np.ndarray, integer: bool) -> list[Any]:
    """Map unit-interval draws ``u`` to values of ``p``: its bounds, else its values."""
    if p.bounded:
        return [_cast(p.low + x * (p.high - p.low), integer) for x in u]  # type: ignore
    values = p.values or ()
    n = len(values)
    return [values[min(int(x * n), n - 1)] for x in u]


def oat_levels(p: ParamSpec, base_value: Any) -> tuple[Any, Any, Any]:
    """(low, base, high) of ``p`` for one-at-a-time designs. ``base`` is ``p.base``, else
    ``base_value`` (the base scenario's), else the middle of the range or values."""
    if p.bounded:
        low, high = p.low, p.high
    else:
        values = list(p.values or ())
        nums = [v for v in values if _number(v)]
        low, high = (min(nums), max(nums)) if len(nums) == len(values) else (values[0],
                                                                              values[-1])
    if p.base is not None:
        base = p.base
    elif base_value is not None:
        base = base_value
    elif p.bounded:
        base = (low + high) / 2  # type: ignore[operator]
    else:
        values = list(p.values or ())
        base = values[len(values) // 2]
    return low, base, high


def build_design(spec: SweepSpec, base_values: Mapping[str, Any],
                 integer: Mapping[str, bool]) -> Design:
    """The points of ``spec``'s design. ``base_values`` are the base scenario's values of the
    parameters, ``integer`` whether each field holds integers.

    Raises SensitivityUnavailable for morris/sobol without SALib and ValueError for an
    unknown design."""
    params = spec.params
    names = tuple(p.path for p in params)
    k = len(params)
    n = spec.samples or default_samples(spec.design, k)
    if spec.design == "grid":
        combos = itertools.product(*[p.values or () for p in params])
        return Design("grid", names, [dict(zip(names, c, strict=True)) for c in combos])
    if spec.design == "lhs":
        rng = np.random.default_rng(spec.seed)
        unit = np.empty((n, k))
        for j in range(k):
            unit[:, j] = (rng.permutation(n) + rng.random(n)) / n
        cols = [_from_unit(p, unit[:, j], integer.get(p.path, False))
                for j, p in enumerate(params)]
        points = [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]
        return Design("lhs", names, points, X=unit)
    if spec.design == "oat":
        levels = {p.path: oat_levels(p, base_values.get(p.path)) for p in params}
        base = {name: levels[name][1] for name in names}
        points, rows = [dict(base)], [("", "base")]
        for name in names:
            for label, value in (("low", levels[name][0]), ("high", levels[name][2])):
                points.append({**base, name: value})
                rows.append((name, label))
        meta = pd.DataFrame(rows, columns=["oat_param", "oat_level"])
        return Design("oat", names, points, meta=meta)
    if spec.design in ("morris", "sobol"):
        return _salib_design(spec, params, names, n, integer)
    raise ValueError(f"unknown design {spec.design!r}")


def _salib_design(spec: SweepSpec, params: Sequence[ParamSpec], names: tuple[str, ...], n: int,
                  integer: Mapping[str, bool]) -> Design:
    lib = salib()
    problem = {"num_vars": len(params), "names": list(names), "bounds": [[0.0, 1.0]] * len(params)}
    rng = np.random.default_rng(spec.seed)
    if spec.design == "morris":
        unit = lib.sample_morris.sample(problem, n, num_levels=spec.levels, seed=rng)
    else:
        unit = lib.sample_sobol.sample(problem, n, calc_second_order=False, seed=rng)
    unit = np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0)
    cols = [_from_unit(p, unit[:, j], integer.get(p.path, False)) for j, p in enumerate(params)]
    points = [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]
    return Design(spec.design, names, points, X=unit, problem=problem)
