"""Offtake contracts: a plant's output sold first to named buyer countries, by share or by
volume (docs/events.md, ``offtake``; docs/markets.md, "Policy instruments").

Each step the contract **entitles** each buyer country to its part of the plant's output:

    shares:      entitlement[c] = share[c] * made * days_in_force / step_days
    volumes_tpy: entitlement[c] = volume[c] / 365 * days_in_force,
                 scaled by made / sum(entitlements) when the plant made less than their sum

where ``made`` is what the plant made (of the contracted material) since the step began, its
late production in the step included. When the seller's pool rations (its orders exceed its
stock), each country's orders on its lanes from the pool are filled first, up to its
entitlement left in the step (split among that country's orders by the allocation rule);
everything else (the rest of the stock, and every order or part of one above an
entitlement) is allocated by the rule as before. An entitlement a buyer does not order is
released to the other buyers in the same step; entitlements do not carry over to the next
step. Several contracts on one plant are served in declaration order and together never take
more than it made. Nothing is created or lost: contracts only order the claims on the pool's
stock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import Offtake as OfftakeModel
from ..gate import days_in_force
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..allocation import TieredProRata
    from ..network import Lane, Pool
    from ..world import World

DAYS_PER_YEAR = 365.0


class Offtake(PolicyEvent):
    """One offtake contract on one plant's output of one material."""

    type = "offtake"

    def __init__(self, world: World, eid: str, ev: OfftakeModel):
        super().__init__(world, eid, ev)
        self.start_day = None if ev.start is None else world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)
        self.step = world.net.step_days
        self.warmup = world.net.warmup_days
        self.plant = next((f for f in world.net.facilities if f.fid == ev.facility), None)
        """The selling plant (None: an agreement plant whose agreement does not happen)."""
        self.k = 0
        """Index of the contracted material among the plant's outputs."""
        self.pool: Pool | None = None
        if self.plant is not None:
            mids = [mid for _, mid, _ in self.plant.outputs]
            self.k = mids.index(ev.material) if ev.material is not None else 0
            self.pool = self.plant.outputs[self.k][0]
        self.by_share = bool(ev.shares)
        self.terms: dict[str, float] = dict(ev.shares or ev.volumes_tpy)
        """Buyer country -> share of output, or tonnes per year."""
        total = sum(self.terms.values())
        if self.by_share and total > 1.0:  # shares drawn from distributions: at most all
            self.terms = {c: x / total for c, x in self.terms.items()}
        self.lanes: set[int] = set()
        """id() of the lanes it serves: from the plant's pool to a contracted country."""
        self.base = 0.0
        """The plant's cumulative output (t) when the current step began."""
        self.step_day = -self.warmup
        self.used = dict.fromkeys(self.terms, 0.0)
        """Tonnes each country got under the contract in the current step."""

    def install(self) -> None:
        """Keep the plant's output count, serve the pool's rationing, open each step."""
        plant, pool = self.plant, self.pool
        if plant is not None and pool is not None:
            if plant.made_t is None:
                plant.made_t = [0.0] * len(plant.outputs)
            pool.offtakes.append(self)
            self.world.clock.phases[0].insert(0, self.open_step)  # before production
        super().install()

    def applies_to(self, lane: Lane) -> bool:
        return self.pool is not None and lane.pool is self.pool and (
            lane.buyer.country in self.terms)

    def attach(self, lane: Lane) -> None:
        self.lanes.add(id(lane))

    def open_step(self, now: int) -> None:
        """A new step: its entitlements count the plant's output from now on."""
        self.base = self.plant.made_t[self.k]  # type: ignore[union-attr]
        self.step_day = now - self.warmup
        for c in self.used:
            self.used[c] = 0.0

    def made(self) -> float:
        """Tonnes of the material the plant made since the current step began."""
        return self.plant.made_t[self.k] - self.base  # type: ignore[union-attr]

    def left(self) -> dict[str, float]:
        """Tonnes each contracted country may still take first in the current step."""
        days = days_in_force(self, self.step_day, self.step)
        if days <= 0:
            return {}
        made = self.made()
        if self.by_share:
            due = {c: s * made * days / self.step for c, s in self.terms.items()}
        else:
            due = {c: v / DAYS_PER_YEAR * days for c, v in self.terms.items()}
            total = sum(due.values())
            if total > made:
                scale = made / total if total > 0.0 else 0.0
                due = {c: q * scale for c, q in due.items()}
        return {c: q - self.used[c] for c, q in due.items() if q - self.used[c] > 1e-12 * q}


def ration_offtakes(rule: TieredProRata, pool: Pool, orders: list[tuple[Lane, float]],
                    available: float) -> list[tuple[Lane, float]]:
    """Split ``available`` t among ``orders`` (which ask for more): each offtake contract in
    force in the current step first fills its countries' orders up to their entitlements
    left (by ``rule`` within a country), then ``rule`` splits the rest of the stock among
    what is still wanted. Returns the fills in the order of ``orders``."""
    want = [q for _, q in orders]
    fills = [0.0] * len(orders)
    for contract in pool.offtakes:  # (each knows the days of the step it is in force)
        # several contracts on one plant share its output: never more than it made
        room = contract.made() - sum(sum(c.used.values()) for c in pool.offtakes
                                     if c.plant is contract.plant and c.k == contract.k)
        for country, due in contract.left().items():
            if available <= 0.0 or room <= 0.0:
                break
            idx = [i for i, (lane, _) in enumerate(orders) if want[i] > 0.0
                   and id(lane) in contract.lanes and lane.buyer.country == country]
            if not idx:
                continue
            sub = [(orders[i][0], want[i]) for i in idx]
            cap = min(due, available, room)
            got = sub if sum(q for _, q in sub) <= cap else rule.ration(pool, sub, cap)
            for i, (_, q) in zip(idx, got, strict=True):
                fills[i] += q
                want[i] -= q
                available -= q
                room -= q
                contract.used[country] += q
    available = max(0.0, available)
    rest = [(lane, q) for (lane, _), q in zip(orders, want, strict=True)]
    if sum(want) > available:
        rest = rule.ration(pool, rest, available)
    return [(lane, f + q) for f, (lane, q) in zip(fills, rest, strict=True)]
