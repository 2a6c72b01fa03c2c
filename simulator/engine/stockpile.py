"""Strategic stockpiles: who may draw, whom the release trigger watches, and the release.

Release triggers are strategy classes (``release.trigger`` in the scenario): each measures
the watched buyers' state as one number that is compared with the release threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

FULL = 1.0 - 1e-9
"""A buyer that got at least this share of its last step's need was not short."""

if TYPE_CHECKING:
    from ..scenario.models import Scenario, Stockpile
    from .network import Buyer, DemandRT


class ReleaseTrigger:
    """What a stockpile watches: :meth:`level` of its watched buyers, a usage-weighted
    quantity over their use per day (``None`` when they use nothing)."""

    name: ClassVar[str] = ""

    def needy(self, b: Buyer) -> bool:
        """Whether a buyer that may draw gets a share of a release (if it has a need)."""
        return True

    def level(self, buyers: list[Buyer]) -> float | None:
        use = sum(b.usage_per_day for b in buyers)
        if use <= 0.0:
            return None
        return self.total(buyers) / use

    def total(self, buyers: list[Buyer]) -> float:
        raise NotImplementedError


class FillRate(ReleaseTrigger):
    """Usage-weighted share of the watched buyers' need met in their last step (0..1)."""

    name = "fill_rate"

    def needy(self, b: Buyer) -> bool:
        """Only the buyers that were short in their last step: the trigger is a shortage."""
        return b.last_fill < FULL

    def total(self, buyers: list[Buyer]) -> float:
        return sum(b.last_fill * b.usage_per_day for b in buyers)


class DaysOfCover(ReleaseTrigger):
    """The watched buyers' inventory in days of their use, as a daily run would count it:
    plus the days a buyer whose lanes are not whole steps normally lacks after a step's use
    (``-lead_slack``; without them a 10-day lane at weekly steps read 4 days short and a
    reserve released everything with no event). Every buyer that may draw shares a
    release by its need, short in its last step or not: the trigger acts before a shortage
    (gating on the last step's fill let a release by another stockpile on the day before
    shut this one out, so a larger reserve could lower the fill rate)."""

    name = "days_of_cover"

    def total(self, buyers: list[Buyer]) -> float:
        return sum(b.on_hand - b.usage_per_day * b.lead_slack for b in buyers)


TRIGGERS: dict[str, ReleaseTrigger] = {t.name: t() for t in (FillRate, DaysOfCover)}
"""``release.trigger`` -> its strategy."""


class StockpileRT:
    """Runtime strategic stockpile releasing into its country's buyers of the material."""

    __slots__ = (
        "buy_tpd",
        "buyer",
        "buyers",
        "country",
        "holdings",
        "material",
        "max_release_tpd",
        "pid",
        "releasing",
        "sectors",
        "target_t",
        "threshold",
        "trigger",
        "watch",
    )

    def __init__(self, pid: str, country: str, material: str):
        self.pid = pid
        self.country = country
        self.material = material
        self.holdings = 0.0
        self.trigger: ReleaseTrigger = FillRate()
        self.watch: list[Buyer] | None = None
        """Buyers whose fill or cover the trigger watches (``None``: :attr:`buyers`)."""
        self.threshold = 0.0
        self.max_release_tpd = 0.0
        self.buyers: list[Buyer] = []
        """Buyers that may draw on this stockpile."""
        self.sectors: frozenset[str] | None = None
        """Demand sectors that may draw (``None``: every buyer of the material, plants too)."""
        self.buyer: Buyer | None = None
        """The stockpile's own purchasing account (its lanes buy refills and build-ups)."""
        self.buy_tpd = 0.0
        self.target_t = 0.0
        self.releasing = False


def stockpile_buyers(sp: StockpileRT, buyers: list[Buyer], countries: set[str],
                     demand_sector: dict[int, str]) -> list[Buyer]:
    """The ``buyers`` in ``countries`` that may draw on ``sp``: of its material and, when it
    names sectors, demand sectors among them (``demand_sector``: id(buyer) -> sector)."""
    return [b for b in buyers
            if b.material == sp.material and b.country in countries
            and (sp.sectors is None or demand_sector.get(id(b)) in sp.sectors)]


def downstream_materials(s: Scenario, material: str) -> set[str]:
    """``material`` and every material made from it, through any chain of recipes."""
    out = {material}
    grew = True
    while grew:
        grew = False
        for rec in s.recipes.values():
            if out & set(rec.inputs) and not set(rec.outputs) <= out:
                out |= set(rec.outputs)
                grew = True
    return out


def watched_demand(s: Scenario, sp: Stockpile, demands: list[DemandRT]) -> list[Buyer] | None:
    """The demand sectors ``sp``'s trigger watches, or ``None`` for its own buyers."""
    watch = sp.release.watch
    if watch == "buyers":
        return None
    if watch == "end_users":
        countries = {sp.country, *sp.eligible_countries}
        made = downstream_materials(s, sp.material)
        return [d.buyer for d in demands
                if d.buyer.country in countries and d.buyer.material in made
                and (sp.sectors is None or d.sector in sp.sectors)]
    named = set(watch.demand)  # type: ignore[union-attr]
    return [d.buyer for d in demands if d.did in named]


def release(sp: StockpileRT, step: int) -> float | None:
    """Release into ``sp``'s short eligible buyers if the trigger is on: the tonnes
    released (possibly 0), else ``None``.

    The trigger compares the watched buyers' level with the threshold; the release goes to
    the eligible buyers the trigger calls needy (:meth:`ReleaseTrigger.needy`), pro rata to
    what brings each to ``cover_days + lead_slack + step`` days of use (what it normally
    holds after the next step's use; ``lead_slack`` <= 0 for lanes that are not whole steps).
    """
    level = sp.trigger.level(sp.buyers if sp.watch is None else sp.watch)
    if level is None or level >= sp.threshold:
        return None
    if sp.holdings <= 0.0:
        return 0.0
    needy = sp.trigger.needy
    needs = [max(0.0, b.usage_per_day * (b.cover_days + b.lead_slack + step) - b.on_hand)
             if needy(b) else 0.0 for b in sp.buyers]
    total_need = sum(needs)
    amount = min(sp.holdings, sp.max_release_tpd * step, total_need)
    if amount > 0.0:
        sp.holdings -= amount
        for b, need in zip(sp.buyers, needs, strict=True):
            b.on_hand += amount * need / total_need
        return amount
    return 0.0


def see_through(buyers: list[Buyer], before: list[float]) -> None:
    """Credit the pools ``buyers`` order from with what a release left in their stock
    (``before``: their ``on_hand`` before it, in the same order), split by order share.

    A buyer holding released stock orders that much less, and a plant that makes to its
    smoothed orders would read that as lost demand and make less, leaving the buyer short
    when the release is spent (with no output cover, short every other day on the network of
    ``tests/test_invariants.py::test_regression_a_release_to_a_buyer_of_a_zero_cover_plant_does_not_lower_its_fill``).
    Producers plan on orders plus these tonnes: a release stands in for orders, not use.
    """
    seen: set[int] = set()
    for b, had in zip(buyers, before, strict=True):
        kept = b.on_hand - had
        if kept <= 0.0 or id(b) in seen:
            continue
        seen.add(id(b))
        for lane in b.lanes:
            if lane.share > 0.0:
                lane.pool.released_t += kept * lane.share
