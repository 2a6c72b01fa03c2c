"""What compared runs have in common: the period their metrics cover and the step.

Paired differences mean something only over the same days: a run to 2032 set against a run
to 2034 counts two years of the longer run's shortfall against nothing. A comparison
(``critmin compare``, the workbench) therefore computes every metric over the period all
compared runs cover, and says so; runs at different ``simulation.step_days`` are compared
but flagged, because part of their difference is the step's (docs/engine.md, "Convergence").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Period", "common_period", "compare_frame", "disjoint_message", "frame_notes",
           "period_of", "whole_steps", "within"]


@dataclass(frozen=True)
class Period:
    """Days ``start`` (included) to ``end`` (excluded, as a scenario's ``end_date``)."""

    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def period_of(scenario: Any) -> Period:
    """The period a run of ``scenario`` reports: ``start_date`` to ``end_date``."""
    return Period(scenario.start_date, scenario.end_date)


def common_period(periods: Mapping[str, Period]) -> Period | None:
    """The period every one of ``periods`` covers; None when they share no day."""
    start = max(p.start for p in periods.values())
    end = min(p.end for p in periods.values())
    return Period(start, end) if start < end else None


def disjoint_message(periods: Mapping[str, Period]) -> str:
    """Why runs covering ``periods`` (name -> period) cannot be compared."""
    spans = ", ".join(f"{name}: {p.label}" for name, p in periods.items())
    return f"the runs have no period in common ({spans}): nothing to pair"


def within(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The rows of ``frame`` (``timeseries`` or ``prices``, with a ``date`` column) dated
    inside ``period``: a step's row counts when it starts inside it, as in a run that ends
    on ``period.end`` (its last row is the step that starts before its end date)."""
    if "date" not in frame.columns or frame.empty:
        return frame
    dates = pd.to_datetime(frame["date"])
    keep = (dates >= pd.Timestamp(period.start)) & (dates < pd.Timestamp(period.end))
    return frame if bool(keep.all()) else frame.loc[keep].reset_index(drop=True)


def frame_notes(periods: Mapping[str, Period], steps: Mapping[str, int],
                common: Period) -> list[str]:
    """Notes on what the compared runs (name -> period, name -> step in days) do not share:
    a note when their periods differ (the metrics cover ``common``), a warning when their
    steps do."""
    notes = []
    if len(set(periods.values())) > 1:
        spans = ", ".join(f"{name}: {p.label}" for name, p in periods.items())
        cut = common.end < min(p.end for p in periods.values())
        notes.append(f"note: the runs cover different periods ({spans}); every metric, "
                     f"difference and figure covers the period all of them cover"
                     + (" in whole steps (a run's last step counts only its days before "
                        "its end date)" if cut else "") + f", {common.label}")
    if len(set(steps.values())) > 1:
        each = ", ".join(f"{name}: {days} days" for name, days in steps.items())
        notes.append(f"warning: the runs use different steps ({each}): part of each "
                     "difference is the step's (cumulative shortfalls agree within about 5% "
                     "between 1-, 7- and 14-day steps on the shipped replays; docs/engine.md, "
                     "\"Convergence\"); compare runs at the same simulation.step_days")
    return notes


def compare_frame(scenarios: Mapping[str, Any]) -> tuple[Period | None, list[str]]:
    """For compared runs' scenarios (name -> scenario): the period they all cover and the
    notes on what they do not share (:func:`frame_notes`); ``(None, [why])`` when they share
    no day (:func:`disjoint_message`)."""
    periods = {name: period_of(sc) for name, sc in scenarios.items()}
    common = common_period(periods)
    if common is None:
        return None, [disjoint_message(periods)]
    steps = {name: int(sc.simulation.step_days) for name, sc in scenarios.items()}
    common = whole_steps(common, periods, steps)
    return common, frame_notes(periods, steps, common)


def whole_steps(common: Period, periods: Mapping[str, Period], steps: Mapping[str, int]
                ) -> Period:
    """``common`` ended at its last whole step when a compared run goes on past its end.

    A run's last step counts only its days before the run's end date (docs/engine.md,
    "Timing"), so a run that ends on ``common.end`` has a short last row where a longer
    run of the same step has a whole one: over ``common`` they would differ by the longer
    run's extra days. Ending the period at a step boundary pairs the same days. Runs at
    different steps, or a period shorter than a step, keep ``common``."""
    if len(set(steps.values())) != 1 or all(p.end == common.end for p in periods.values()):
        return common
    step = next(iter(steps.values()))
    days = (common.end - common.start).days
    whole = days - days % step
    if whole == days or whole == 0:
        return common
    return Period(common.start, common.start + dt.timedelta(days=whole))
