"""Historical replays: a scenario, its unperturbed baseline, and checks against DATA.md.

A replay module defines ``run_replay(root) -> Replay`` (the checks, computed from engine
runs) and ``replay_figure(replay) -> Figure``. Checks carry their tolerance, so the docs'
validation gallery and the tests read the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..engine import ReplicationResult, run_replication
from ..scenario import Scenario, load_scenario


@dataclass(frozen=True)
class Check:
    """One replay figure: simulated value against a historical target with a tolerance."""

    name: str
    simulated: float
    target: str
    """The historical figure or bound, as text (e.g. ``26% +- 8 points``)."""
    passed: bool
    source: str = ""


@dataclass
class Replay:
    """Result of one replay: its checks and the tables its figure is drawn from."""

    key: str
    title: str
    scenario: str
    checks: list[Check]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def table(self) -> pd.DataFrame:
        """Checks as a table (name, simulated, target, passed, source)."""
        return pd.DataFrame([c.__dict__ for c in self.checks])


def within(name: str, simulated: float, target: float, tol: float, unit: str = "",
           source: str = "") -> Check:
    """A check that ``simulated`` is within ``target +- tol``."""
    return Check(name, simulated, f"{target:g}{unit} +- {tol:g}{unit}",
                 abs(simulated - target) <= tol, source)


def at_most(name: str, simulated: float, bound: float, unit: str = "",
            source: str = "") -> Check:
    return Check(name, simulated, f"<= {bound:g}{unit}", simulated <= bound, source)


def at_least(name: str, simulated: float, bound: float, unit: str = "",
             source: str = "") -> Check:
    return Check(name, simulated, f">= {bound:g}{unit}", simulated >= bound, source)


def run_pair(root: Path, scenario_file: str, seed: int = 0, replication: int = 0,
             overrides: Sequence[str] = (), edit: Callable[[Scenario], Scenario] | None = None
             ) -> tuple[Scenario, ReplicationResult, Scenario, ReplicationResult]:
    """Load and run ``scenarios/<scenario_file>`` and the scenario it extends' baseline.

    The baseline is the same scenario with every event removed, so the two differ only by
    the events (and share random streams). ``overrides`` are ``--set`` assignments
    (``"market.producer_stock_weight=1"``) applied to both, and ``edit`` (a function of
    the loaded scenario, e.g. one that drops an event) is applied before the baseline is
    made: a variant, not the replay.
    """
    scenario = load_scenario(root / "scenarios" / scenario_file, list(overrides))
    if edit is not None:
        scenario = edit(scenario)
    baseline = scenario.model_copy(update={"events": {}})
    return (scenario, run_replication(scenario, seed, replication), baseline,
            run_replication(baseline, seed, replication))


def monthly_flows(result: ReplicationResult, start: dt.date, *, origin: str | None = None,
                  destination: str | None = None, materials: list[str] | None = None,
                  exclude_destination: str | None = None) -> pd.Series:
    """Tonnes shipped per calendar month (index: month start Timestamp) on matching lanes."""
    f = result.flows
    mask = pd.Series(True, index=f.index)
    if origin is not None:
        mask &= f["origin"] == origin
    if destination is not None:
        mask &= f["destination"] == destination
    if exclude_destination is not None:
        mask &= f["destination"] != exclude_destination
    if materials is not None:
        mask &= f["material"].isin(materials)
    sel = f[mask]
    dates = pd.to_datetime(start) + pd.to_timedelta(sel["day"].astype("int64"), unit="D")
    return sel["tonnes"].groupby(dates.dt.to_period("M").dt.to_timestamp()).sum()


def month_of(start: pd.Timestamp, day: pd.Series) -> pd.Series:
    """The calendar month (its first day) of each scenario ``day`` counted from ``start``."""
    dates = pd.Timestamp(start) + pd.to_timedelta(day.astype("int64"), unit="D")
    return dates.dt.to_period("M").dt.to_timestamp()


def monthly_prices(prices: pd.DataFrame, material: str, start: pd.Timestamp) -> pd.DataFrame:
    """Mean USD/kg of ``material`` per calendar month (rows, ``month``) and market
    (columns), from a run's ``prices`` table."""
    p = prices[prices["material"] == material]
    month = month_of(start, p["day"]).rename("month")
    return (p.groupby([month, p["market"]], observed=True)["price_usd_per_kg"]
            .mean().unstack())


@dataclass
class ReplicatedPrices:
    """One material's monthly prices (USD/kg) over a scenario's replications."""

    scenario: Scenario
    stacked: pd.DataFrame
    """Rows (replication, month), a column per market."""
    baseline: pd.DataFrame
    """The baseline's (no event, run once: no scarcity in any replication), by month."""

    def relative_to(self, month: pd.Timestamp) -> pd.DataFrame:
        """:attr:`stacked` over each replication's own ``month``."""
        return self.stacked / self.stacked.xs(month, level="month")


def replicated_prices(root: Path, scenario_file: str, material: str, replications: int,
                      overrides: Sequence[str] = ()) -> ReplicatedPrices:
    """Run ``scenarios/<scenario_file>`` ``replications`` times (seed 0) and its baseline
    once, and give ``material``'s monthly prices (:func:`monthly_prices`)."""
    scenario, result, _, base = run_pair(root, scenario_file, overrides=overrides)
    start = pd.Timestamp(scenario.start_date)
    runs = [monthly_prices(result.prices, material, start)]
    for rep in range(1, replications):
        runs.append(monthly_prices(run_replication(scenario, 0, rep).prices, material, start))
    stacked = pd.concat(runs, keys=range(replications), names=["replication"])
    return ReplicatedPrices(scenario, stacked, monthly_prices(base.prices, material, start))


def spread(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Median, lowest and highest across replications of a (replication, month) frame."""
    by_month = frame.groupby(level="month")
    return by_month.median(), by_month.min(), by_month.max()


def relative(series: pd.Series, baseline: pd.Series) -> pd.Series:
    """``series / baseline`` month by month (months missing in ``series`` count as 0)."""
    aligned = series.reindex(baseline.index, fill_value=0.0)
    return aligned / baseline
