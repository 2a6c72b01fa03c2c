"""Licence applications: the decision a licensed lot shares (docs/events.md, ``licence``).

A buyer's lots on a controlled lane are grouped into applications by **window**: every lot
ordered in the same ``application_days`` window (counted from the start date) belongs to
that window's current application and shares its decision, approval and review time. When
an application is denied, the next lot ordered in its window is a new application (its next
**attempt**). A step's order, a mid-step top-up and a re-order after a denial are therefore
decided as one application per window whatever the step, and a lot of a few grams does not
draw a decision of its own.

Decisions are drawn from the lane's stream as a table indexed by (window, attempt), so the
decision of window *w* does not depend on how many lots came before it, nor on the horizon
or the warm-up's length (common random numbers across those changes too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..rng import RandomStreams

ATTEMPTS = 16
"""Attempts per window drawn in the table; later attempts draw from ``<stream>:more``."""


class Applications:
    """The applications of one licence regime on one lane."""

    __slots__ = ("ahead", "behind", "more", "name", "seen", "state", "streams", "window")

    def __init__(self, streams: RandomStreams, name: str, window_days: int,
                 horizon_days: int, warmup_days: int):
        self.streams = streams
        self.name = name
        self.window = window_days
        self.ahead = _Draws(streams, name, horizon_days // window_days + 2)
        """Draws of the windows from the start date on."""
        self.behind = _Draws(streams, f"{name}:warm-up", warmup_days // window_days + 2)
        """Draws of the warm-up's windows, latest first."""
        self.more: np.random.Generator | None = None
        self.seen: dict[tuple[int, int], int] = {}
        """(window, attempt) -> days of orders its denied lots have stood for."""
        self.state: dict[int, list] = {}
        """Window -> [current attempt, whether its denial has been decided]."""

    def draw(self, day: int) -> tuple[int, int, float, float]:
        """The application a lot ordered on scenario ``day`` joins: ``(window, attempt,
        u_approval, u_review)``, two uniform draws in [0, 1)."""
        w = day // self.window
        state = self.state.get(w)
        if state is None:
            state = self.state[w] = [0, False]
        elif state[1]:  # the window's application was denied: this lot starts another
            state[0] += 1
            state[1] = False
        attempt = state[0]
        if attempt >= ATTEMPTS:
            if self.more is None:
                self.more = self.streams.get(f"{self.name}:more")
            u, v = self.more.random(2)
            return w, attempt, float(u), float(v)
        row = self.ahead.row(w) if w >= 0 else self.behind.row(-w - 1)
        return w, attempt, float(row[attempt, 0]), float(row[attempt, 1])

    def denied_days(self, window: int, attempt: int, span: int) -> int:
        """Days of orders the denial of a lot standing for ``span`` days in application
        (``window``, ``attempt``) teaches its buyer: ``span``, less the days of the window
        its other denied lots already stood for. A daily run's buyer orders once a day, so
        a window's denial weighs at most ``application_days`` days; a lot re-ordered
        between steps in a window the step's order stands for adds nothing (before
        2026-12-07 it weighed a day more, and at 14-day steps a buyer saw a licensed
        supplier fail half as often again as daily)."""
        key = (window, attempt)
        seen = self.seen.get(key, 0)
        days = min(span, self.window - seen)
        self.seen[key] = seen + days
        return days

    def denied(self, window: int, attempt: int) -> None:
        """The application (``window``, ``attempt``) has been denied: the window's next lot
        starts a new one."""
        state = self.state[window]
        if state[0] == attempt:
            state[1] = True


class _Draws:
    """One stream's uniform draws as rows of (attempt, [approval, review]): ``expected``
    rows drawn at first use, more from where the stream stopped when a step runs past them
    (a 28-day step files its last window's part after the end date), so a row's draws never
    depend on how many were drawn before it."""

    __slots__ = ("expected", "name", "streams", "table")

    def __init__(self, streams: RandomStreams, name: str, expected: int):
        self.streams = streams
        self.name = name
        self.expected = expected
        self.table: np.ndarray | None = None

    def row(self, index: int) -> np.ndarray:
        table = self.table
        if table is None:
            table = self.table = self.streams.get(self.name).random(
                (max(self.expected, index + 1), ATTEMPTS, 2))
        elif index >= len(table):
            more = self.streams.get(self.name).random((index + 1 - len(table), ATTEMPTS, 2))
            table = self.table = np.concatenate([table, more])
        return table[index]
