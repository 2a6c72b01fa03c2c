"""Lagged demand responses to price and shortage (docs/markets.md): thrifting and
substitution, and destocking.

**Thrifting and substitution** (per demand sector, ``market.demand_response.<...>.thrifting``):
each step, before the step's consumption, the share ``s`` of the sector's demand that users
have designed out moves towards a target set by last step's price and fill::

    pressure = min(1, max((price / reference - 1) / (full_price_multiple - 1),
                          shortage_weight * (1 - fill)))          (each term >= 0)
    target   = max_share * pressure
    s       += (1 - exp(-step_days / time_constant_days)) * (target - s)     if target > s
    s       += (1 - exp(-step_days / recovery_time_constant_days)) * (target - s)
                                                  if target < s (never, without recovery)
    thrifted_t = demand * s,   the rest (demand * (1 - s)) goes on to the short-run response

``price`` is the sector's tier price at the end of the previous step (0 pressure from price
when the material is not priced); ``fill`` the share of last step's demand met. With the
target held, ``s`` closes its gap as ``exp(-t / time_constant_days)`` whatever the step. At
multi-day steps a sector short in its last step moves ``s`` a day at a time on each of that
step's days' fills (:meth:`Thrift.update_days`), as a daily run does.
Both responses act from the start date: during the warm-up (whose start-up transient moves
prices) ``s`` and the cut stay 0.

**Destocking** (``market.destocking``): at the end of each step, after prices move, each
selected buyer of a priced material cuts its cover target::

    cut_target = max_cover_cut * min(1, max(0, (price / reference - 1) / (full_price_multiple - 1)))
    cut       += (1 - exp(-step_days / time_constant_days)) * (cut_target - cut)
    cover_days = normal cover_days * (1 - cut)

so it orders less while the price is high (drawing its stock down) and rebuilds as the price
falls. The price's scarcity measure counts the buyer's cover as it is now (a stock held low
on purpose is not scarcity). A buyer with tariffs on its lanes sees its landed price (the
tier price times the share-weighted ``1 + rate`` of its lanes,
:func:`~.events.logistics.landed_factor`) in both responses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .events.logistics import landed_factor

if TYPE_CHECKING:
    from ..scenario.models import Destocking as DestockingModel
    from ..scenario.models import Thrifting as ThriftingModel
    from .market import Market, PriceIndex
    from .network import Buyer, Network


def step_weight(step_days: int, time_constant_days: float | None) -> float:
    """Weight ``1 - exp(-step / tau)`` of a first-order lag's step (0 without a ``tau``)."""
    if time_constant_days is None:
        return 0.0
    return -math.expm1(-step_days / time_constant_days)


def price_pressure(index: PriceIndex, span: float, landed: float = 1.0) -> float:
    """``(price / reference - 1) / span`` within [0, 1] (``span``: full multiple - 1), with
    the buyer's price the tier price times ``landed`` (its tariffs, :func:`landed_factor`)."""
    excess = index.price * landed / index.reference - 1.0
    if excess <= 0.0:
        return 0.0
    excess /= span
    return excess if excess < 1.0 else 1.0


class Thrift:
    """The thrifted share of one demand sector's demand (a first-order lag to its target)."""

    __slots__ = ("cap", "down", "down_day", "index", "share", "span", "up", "up_day",
                 "weight")

    def __init__(self, model: ThriftingModel, index: PriceIndex | None, step_days: int):
        self.cap = model.max_share
        self.span = model.full_price_multiple - 1.0
        self.weight = model.shortage_weight
        self.up = step_weight(step_days, model.time_constant_days)
        self.down = step_weight(step_days, model.recovery_time_constant_days)
        self.up_day = step_weight(1, model.time_constant_days)
        self.down_day = step_weight(1, model.recovery_time_constant_days)
        self.index = index
        """The sector's price index (None: its material is not priced; shortage only)."""
        self.share = 0.0
        """Share of the sector's demand thrifted or substituted away (0..max_share)."""

    def update(self, fill: float, landed: float = 1.0) -> float:
        """Move the share one step on last step's price (times ``landed``, the sector's
        tariffs) and ``fill``; return it."""
        self.share = self._move(self.share, self._price(landed), fill, self.up, self.down)
        return self.share

    def update_days(self, fills: list[float], landed: float = 1.0) -> float:
        """Move the share as a daily run does over a step whose days got ``fills`` of their
        demand (:func:`~.late.daily_fills`), one day at a time on last step's price (times
        ``landed``); return it. A share that rises and never falls follows the peaks of its
        target: read once on the step's mean fill, a 14-day step's buyer short on half its
        days pressed half as hard as a daily run's did on those days, and designed out less
        (V6 with the framework: 7,306 t at 14-day steps against 7,723 t daily)."""
        price = self._price(landed)
        share = self.share
        for fill in fills:
            share = self._move(share, price, fill, self.up_day, self.down_day)
        self.share = share
        return share

    def _price(self, landed: float) -> float:
        """Pressure from last step's price (0 when the material is not priced)."""
        if self.index is None:
            return 0.0
        return price_pressure(self.index, self.span, landed)

    def _move(self, share: float, price: float, fill: float, up: float, down: float
              ) -> float:
        """``share`` moved by weight ``up`` (or ``down``) towards the target that ``price``
        pressure and a ``fill`` of demand set."""
        pressure = price
        if fill < 1.0 and self.weight > 0.0:
            short = self.weight * (1.0 - fill)
            if short > pressure:
                pressure = short if short < 1.0 else 1.0
        target = self.cap * pressure
        if target > share:
            share += up * (target - share)
        elif target < share:
            share += down * (target - share)
        return share


def thrift_for(model: ThriftingModel, market: Market | None, buyer: Buyer,
               step_days: int) -> Thrift | None:
    """The sector's :class:`Thrift`, or None when it does not thrift (``max_share`` 0)."""
    if model.max_share <= 0.0:
        return None
    index = market.index_of.get(id(buyer)) if market is not None else None
    return Thrift(model, index, step_days)


class Destocking:
    """Buyers' cover targets cut while prices are high; :meth:`update` runs in the market
    phase, after the prices move."""

    def __init__(self, model: DestockingModel, market: Market, net: Network):
        demand = {id(d.buyer) for d in net.demands}
        chosen = model.buyers
        self.entries: list[tuple[Buyer, PriceIndex, float]] = []
        """(buyer, its price index, its normal cover in days)."""
        for b in net.ordering_buyers:
            index = market.index_of.get(id(b))
            is_demand = id(b) in demand
            if index is None or (chosen == "demand" and not is_demand) or (
                    chosen == "facilities" and is_demand):
                continue
            self.entries.append((b, index, b.cover_days))
        self.cuts = [0.0] * len(self.entries)
        """Share of each buyer's normal cover given up now."""
        self.cap = model.max_cover_cut
        self.span = model.full_price_multiple - 1.0
        self.weight = step_weight(net.step_days, model.time_constant_days)
        self.warmup = net.warmup_days
        self.step = net.step_days

    def update(self, now: int) -> None:
        """Move each buyer's cut one step towards its target on the step's price (from the
        start date on)."""
        if now < self.warmup:
            return
        cuts, cap, span, weight = self.cuts, self.cap, self.span, self.weight
        day = now - self.warmup
        for i, (b, index, normal) in enumerate(self.entries):
            cut = cuts[i]
            landed = landed_factor(b, day, self.step) if b.tariffed else 1.0
            target = cap * price_pressure(index, span, landed)
            if target != cut:
                cut += weight * (target - cut)
                cuts[i] = cut
                b.cover_days = normal * (1.0 - cut)
