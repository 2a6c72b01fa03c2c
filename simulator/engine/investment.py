"""Supply response: plants built when a price calls for them (docs/markets.md, "Supply
response").

A facility with ``invest`` does not exist until its project is **committed**: at the end of
a step (after prices move), if the price of ``invest.material`` in the best tier it can sell
into (``market: export``: any export tier for a plant outside ``market.home``, whose
controls do not bind it; the base export tier for a plant in ``home``) has been at or above
``incentive_price`` since a step at least ``sustained_days`` ago, the project is committed
that day. One draw on the facility's own stream ``invest:<facility>`` decides
whether it is ever completed (``completion_probability``); a completed project starts
``lead_time_days`` later (the plant is then commissioned like any plant that starts during
the run, with its ramp-up). A price that falls below the incentive before commitment resets
the clock. Prices are known at step ends, so the commitment day is the first step end at
which the price has held long enough (up to a step after ``sustained_days``). Price floors
raise the price a project sees, investment subsidies lower the incentive it needs
(:mod:`.events.price_floor`, :mod:`.events.subsidy`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from .network import NEVER

if TYPE_CHECKING:
    from ..scenario.models import Investment
    from .market import Market, PriceIndex
    from .network import FacilityRT
    from .world import World

class Project:
    """One facility built on price: its trigger price index and its state."""

    __slots__ = ("above_since", "committed_day", "completed", "facility", "floors", "model",
                 "prices", "subsidies")

    def __init__(self, facility: FacilityRT, model: Investment, prices: list[PriceIndex]):
        self.facility = facility
        self.model = model
        self.prices = prices
        """The price indices it can sell at (:meth:`.market.Market.sold_at`)."""
        self.above_since: int | None = None
        """First step-end day of the current run of prices at or above the incentive."""
        self.committed_day: int | None = None
        self.completed: bool | None = None
        """Whether the committed project is built (drawn at commitment)."""
        self.floors: list = []
        """Price floors (events) that guarantee its output's price while active."""
        self.subsidies: list = []
        """Investment subsidies (events) that lower its incentive price while active."""

    def seen_price(self) -> float:
        """The price its investment decision sees: in the best of the tiers it can sell
        into, the market price, or a floor in force above it, less what of it only passes
        its inputs' cost rise on (:meth:`~.market.PriceIndex.passed_on`: a plant buying
        those inputs does not earn it)."""
        best = -math.inf
        for index in self.prices:
            price = index.price
            for f in self.floors:
                if f.active and f.floor > price:
                    price = f.floor
            if (net := price - index.passed_on()) > best:
                best = net
        return best

    def incentive(self) -> float:
        """The incentive price its decision needs now: ``invest.incentive_price`` lowered by
        the subsidies in force, in declaration order."""
        incentive = self.model.incentive_price
        for s in self.subsidies:
            if s.active:
                incentive = s.lower(incentive)
        return incentive


class Investments:
    """The projects of one replication; :meth:`update` runs after the market's update."""

    def __init__(self, world: World, market: Market, plants: list[tuple[FacilityRT, Investment]]):
        self.world = world
        self.warmup = world.net.warmup_days
        self.pending = [Project(f, m, market.sold_at(m.material, m.market, f.country))
                        for f, m in plants]
        self.projects = list(self.pending)

    def update(self, now: int) -> None:
        """Commit every pending project whose price has held long enough."""
        day = now - self.warmup
        still = []
        for p in self.pending:
            m = p.model
            if p.seen_price() >= p.incentive():
                if p.above_since is None:
                    p.above_since = day
                if day - p.above_since >= m.sustained_days:
                    self._commit(p, day)
                    continue
            else:
                p.above_since = None
            still.append(p)
        self.pending = still

    def _commit(self, p: Project, day: int) -> None:
        p.committed_day = day
        rng = self.world.streams.get(f"invest:{p.facility.fid}")
        p.completed = bool(rng.random() < p.model.completion_probability)
        if p.completed:
            start = day + p.model.lead_time_days
            p.facility.start_day = start
            self.world.build(p.facility)


PROJECT_COLUMNS = ["facility", "committed_day", "completed", "start_day"]


def project_frame(investments: Investments | None) -> pd.DataFrame:
    """One row per plant built on price (:data:`PROJECT_COLUMNS`): the day its project was
    committed (NaN if never), whether it is built (NaN if not committed) and its start day
    (NaN unless built); days count from the scenario's start date."""
    rows = [] if investments is None else [
        {"facility": p.facility.fid,
         "committed_day": float("nan") if p.committed_day is None else p.committed_day,
         "completed": float("nan") if p.completed is None else float(p.completed),
         "start_day": p.facility.start_day if p.completed else float("nan")}
        for p in investments.projects]
    return pd.DataFrame(rows, columns=PROJECT_COLUMNS)


__all__ = ["NEVER", "PROJECT_COLUMNS", "Investments", "Project", "project_frame"]
