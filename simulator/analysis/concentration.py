"""Supply concentration by stage over time: HHI, China's share, origin mix.

Inputs are the runner's ``production`` table (replication, day, date, facility, country,
stage, material, tonnes) and ``flows`` table (replication, day, date, origin, destination,
material, tonnes). Formulas are in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["CONCENTRATION_COLUMNS", "ORIGIN_MIX_COLUMNS", "origin_mix", "stage_concentration"]

CONCENTRATION_COLUMNS = ["replication", "date", "stage", "total_t", "hhi", "china_share",
                         "n_sources"]
ORIGIN_MIX_COLUMNS = ["replication", "date", "origin", "tonnes", "share"]
_PERIODS = ("month", "step")


def _with_period(df: pd.DataFrame, period: str) -> pd.DataFrame:
    """``df`` with ``replication`` (0 if absent) and ``date`` set to the period's first day:
    the step's date (``period="step"``) or the first day of its calendar month."""
    if period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS}, not {period!r}")
    if "date" not in df.columns:
        raise ValueError("the table needs a 'date' column (the runner's tables have one)")
    out = df
    if "replication" not in out.columns:
        out = out.assign(replication=np.int32(0))
    if period == "month":
        codes, uniques = pd.factorize(out["date"], sort=False)
        months = pd.DatetimeIndex(uniques).to_period("M").to_timestamp()
        out = out.assign(date=months.to_numpy("datetime64[ns]")[codes])
    return out


def _as_list(x: str | Sequence[str] | None) -> list[str] | None:
    if x is None:
        return None
    return [x] if isinstance(x, str) else list(x)


def _select(df: pd.DataFrame, col: str, values: list[str] | None) -> pd.DataFrame:
    if values is None:
        return df
    return df[df[col].isin(values)]


def stage_concentration(
    production: pd.DataFrame,
    by: str = "country",
    *,
    period: str = "month",
    material: str | Sequence[str] | None = None,
    china: str = "CN",
) -> pd.DataFrame:
    """Concentration of output per replication x period x stage, columns
    :data:`CONCENTRATION_COLUMNS`.

    With ``x_i`` the tonnes of source ``i`` (a value of column ``by``: country by default, or
    e.g. facility) at the stage in the period and ``T = sum_i x_i``:

    - ``total_t`` = T;
    - ``hhi`` = sum_i (100 x_i / T)^2, on the 0-10,000 scale (10,000 = one source);
    - ``china_share`` = tonnes produced in country ``china`` / T (0..1);
    - ``n_sources`` = number of sources with x_i > 0.

    ``hhi`` and ``china_share`` are NaN when T = 0. ``period``: ``"month"`` (``date`` = first
    day of the calendar month, tonnes summed over its steps) or ``"step"`` (``date`` = the
    step's date). ``material`` keeps only those output materials (otherwise all outputs of a
    stage are added up, in tonnes of each). Rows are sorted by replication, date, stage.
    """
    if by not in production.columns:
        raise ValueError(f"production has no column {by!r}")
    df = _with_period(_select(production, "material", _as_list(material)), period)
    keys = ["replication", "date", "stage"]
    if df.empty:
        return pd.DataFrame({c: pd.Series([], dtype=np.float64 if c in
                                          ("total_t", "hhi", "china_share") else object)
                             for c in CONCENTRATION_COLUMNS})
    # one pass over the (large) table on its categorical codes; the rest is on the aggregate
    cols = [by] if by == "country" else [by, "country"]
    agg = (df.groupby([*keys, *cols], sort=True, observed=True)["tonnes"].sum()
           .reset_index())
    agg["stage"] = agg["stage"].astype(str)
    agg["_cn"] = np.where(agg["country"].astype(str) == china, agg["tonnes"], 0.0)
    per_src = (agg.groupby([*keys, by], sort=True, observed=True)["tonnes"].sum()
               .reset_index())
    total = per_src.groupby(keys, sort=True)["tonnes"].transform("sum").to_numpy()
    x = per_src["tonnes"].to_numpy(dtype=np.float64)
    share = np.divide(x, total, out=np.full_like(x, np.nan), where=total > 0)
    per_src = per_src.assign(_sq=(100.0 * share) ** 2, _pos=(x > 0).astype(np.int64))
    out = (per_src.groupby(keys, sort=True)
           .agg(total_t=("tonnes", "sum"), hhi=("_sq", "sum"), n_sources=("_pos", "sum"))
           .reset_index())
    cn = agg.groupby(keys, sort=True)["_cn"].sum().to_numpy()
    tot = out["total_t"].to_numpy(dtype=np.float64)
    out["china_share"] = np.divide(cn, tot, out=np.full_like(tot, np.nan), where=tot > 0)
    out.loc[~(tot > 0), "hhi"] = np.nan
    out["replication"] = out["replication"].astype(np.int32)
    out["n_sources"] = out["n_sources"].astype(np.int64)
    return out[CONCENTRATION_COLUMNS]


def origin_mix(
    flows: pd.DataFrame,
    production: pd.DataFrame,
    material: str | Sequence[str] | None = None,
    *,
    stage: str | None = None,
    destination: str | None = None,
    period: str = "month",
) -> pd.DataFrame:
    """Supply by origin country over time, columns :data:`ORIGIN_MIX_COLUMNS`, for
    stacked-area plots: one row per replication x period x origin on a full grid (every
    origin seen in the selection at every period, 0 t where it supplied nothing).

    Which goods: ``material`` (one id or a list), or every output material of ``stage``
    (as produced in ``production``); at least one must be given.

    - ``destination=None``: world supply at the stage = production by country (``flows`` is
      not used);
    - ``destination="JP"``: that country's supply = imports by origin (``flows`` into it)
      plus its own production less its exports (``flows`` out of it), floored at 0, under
      origin ``"JP"``. This ignores stock changes and re-exports within the period.

    ``share`` = tonnes / tonnes of all origins in the replication and period (NaN if 0).
    """
    mats = _as_list(material)
    prod = _select(production, "stage", None if stage is None else [stage])
    if mats is None:
        if stage is None:
            raise ValueError("origin_mix needs a material or a stage")
        mats = sorted({str(m) for m in prod["material"].astype(str).unique()})
    prod = _with_period(_select(prod, "material", mats), period)
    keys = ["replication", "date"]

    def by_country(df: pd.DataFrame, col: str) -> pd.Series:
        agg = df.groupby([*keys, col], sort=True, observed=True)["tonnes"].sum().reset_index()
        agg["origin"] = agg[col].astype(str)
        return agg.groupby([*keys, "origin"], sort=True)["tonnes"].sum()

    if destination is None:
        supply = by_country(prod, "country")
    else:
        fl = _with_period(_select(flows, "material", mats), period)
        dest = fl["destination"].astype(str)
        imports = by_country(fl[(dest == destination)
                                & (fl["origin"].astype(str) != destination)], "origin")
        own = by_country(prod[prod["country"].astype(str) == destination], "country")
        exports = by_country(fl[(fl["origin"].astype(str) == destination)
                                & (dest != destination)], "origin")
        domestic = own.sub(exports, fill_value=0.0).clip(lower=0.0)
        domestic = domestic[domestic.index.get_level_values("origin") == destination]
        supply = pd.concat([imports, domestic]).groupby(level=[0, 1, 2], sort=True).sum()
    if supply.empty:
        return pd.DataFrame({c: pd.Series([], dtype=np.float64 if c in ("tonnes", "share")
                                          else object) for c in ORIGIN_MIX_COLUMNS})
    grid = supply.unstack("origin", fill_value=0.0).sort_index(axis=1)
    total = grid.sum(axis=1).to_numpy()
    shares = grid.to_numpy() / np.where(total > 0, total, np.nan)[:, None]
    long = grid.stack().rename("tonnes").reset_index()
    long["share"] = shares.reshape(-1)
    long["replication"] = long["replication"].astype(np.int32)
    long["origin"] = long["origin"].astype(str)
    return long[ORIGIN_MIX_COLUMNS]
