"""Allocation under shortage: how a short supplier splits its stock among orders.

Strategy classes, one per tier key of ``allocation.rule`` (Ciw-style): each
:class:`TierKey` ranks a buyer for a pool (0 goes first). :class:`TieredProRata` applies
them in order, with reserve purchases after every commercial buyer, and splits each tier pro
rata. It rations in two passes: first every order's *use* part (the lane's share of what
its buyer uses in a step: what keeps the buyer running), then the *restocking* rest
(rebuilding cover, pre-buying), so a short supplier keeps every buyer running before any
buyer rebuilds stock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .network import RESERVE_PRIORITY

if TYPE_CHECKING:
    from .network import Buyer, Lane, Pool


class TierKey:
    """One key of ``allocation.rule``: ``rank(pool, buyer)``, smaller first."""

    name: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[TierKey]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        TierKey.registry[cls.name] = cls

    def __init__(self, partners: set[tuple[str, str]]):
        self.partners = partners

    def rank(self, pool: Pool, buyer: Buyer) -> int:
        raise NotImplementedError


class Domestic(TierKey):
    """Buyers in the supplier's own country first."""

    name = "domestic"

    def rank(self, pool: Pool, buyer: Buyer) -> int:
        return 0 if buyer.country == pool.country else 1


class Agreement(TierKey):
    """Buyers in countries sharing an active cooperation agreement with the supplier first."""

    name = "agreement"

    def rank(self, pool: Pool, buyer: Buyer) -> int:
        return 0 if (pool.country, buyer.country) in self.partners else 1


class Priority(TierKey):
    """Higher demand ``priority`` first (facility inputs have priority 0)."""

    name = "priority"

    def rank(self, pool: Pool, buyer: Buyer) -> int:
        return -buyer.priority


class TieredProRata:
    """The allocation rule: tiers by ``keys`` in order, pro rata within a tier, use before
    restocking.

    ``partners`` is the world's live set of (supplier, buyer) country pairs in an active
    agreement. Raises :exc:`KeyError` for an unknown key (the scenario language refuses it
    first).
    """

    def __init__(self, keys: list[str], partners: set[tuple[str, str]], step_days: int):
        self.keys = [TierKey.registry[k](partners) for k in keys]
        self.step_days = step_days

    def tier(self, pool: Pool, buyer: Buyer, restock: int) -> tuple[int, ...]:
        """Sort key of an order part: reserve purchases last, then use before restocking,
        then the rule's keys."""
        reserve = 1 if buyer.priority <= RESERVE_PRIORITY else 0
        return (reserve, restock, *(k.rank(pool, buyer) for k in self.keys))

    def ration(self, pool: Pool, orders: list[tuple[Lane, float]], available: float
               ) -> list[tuple[Lane, float]]:
        """Split ``available`` t among ``orders``; returns the fills in the order of
        ``orders``. A negative ``available`` (a stock sold to its last bit, below 0 by
        rounding) is none: no fill is ever negative."""
        tiers: dict[tuple[int, ...], list[tuple[int, float]]] = {}
        use_left: dict[int, float] = {}  # id(lane) -> use part not yet claimed this step
        for i, (lane, q) in enumerate(orders):
            u = use_left.get(id(lane))
            if u is None:
                u = lane.buyer.usage_per_day * self.step_days * lane.share
            use = q if q < u else u
            use_left[id(lane)] = u - use
            tiers.setdefault(self.tier(pool, lane.buyer, 0), []).append((i, use))
            tiers.setdefault(self.tier(pool, lane.buyer, 1), []).append((i, q - use))
        fills = [0.0] * len(orders)
        left = available if available > 0.0 else 0.0
        for key in sorted(tiers):
            tier = tiers[key]
            want = sum(q for _, q in tier)
            share = min(1.0, left / want) if want > 0 else 0.0
            for i, q in tier:
                fills[i] += q * share
            left = max(0.0, left - want * share)
        return [(lane, q) for (lane, _), q in zip(orders, fills, strict=True)]
