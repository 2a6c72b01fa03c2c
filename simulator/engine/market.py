"""Prices that form from scarcity, per material and market tier (docs/markets.md).

Each priced material has one price per **tier**: the home market (``market.home``, the
controlling exporter, e.g. China) and one export tier per group of countries outside it that
its export controls tell apart (:mod:`simulator.scenario.tiers`: ``ex-CN``, ``ex-CN:JP,US``),
or one world tier without a home. Once per step, after allocation, each price moves towards
a target set by the **scarcity** its tier's buyers (and, weighted, its producers) see:

    supply_days = sum over buyers of on_hand * cover_days / (cover_days + lead_slack)
                                     + usage * window * fill
                  + w * sum over the tier's producer pools of stock
    normal_days = sum over buyers of usage * (cover_days + window)
                  + w * sum over the tier's producer pools of normal output cover
    scarcity    = supply_days / normal_days           (1 in steady state)
    target      = reference * scarcity ** (-1 / elasticity)          (scarcity < 1)
                  reference * scarcity ** (-1 / surplus_elasticity)  (scarcity > 1)
                  within [reference / max_multiple, reference * max_multiple]
    log price  += (1 - exp(-step_days / adjustment_days)) * (log target - log price)

where ``usage`` is a buyer's expected use (t/day), ``on_hand`` its stock after the step's use,
``fill`` the share of the step's need it gets (for a buyer short at a multi-day step's start,
counting the lots on their way that land in the step, as the step's recorded fill will),
``window`` is ``scarcity_window_days`` (7: the same whatever the step) and ``lead_slack``
(<= 0) how far short of its cover its stock after a step's use is in steady state (lanes
that are not whole steps), so its stock is read as days of its cover (a buyer planned to
hold under 5% of its cover after a step's use counts its cover while its fill is whole,
nothing while it is short);
``w`` is ``producer_stock_weight`` (default 0: buyers only; 1: total stocks-to-use) and a
pool's stock is what its producers hold after the step's shipments, its normal cover their
output cover (both t). The tiers are linked
by trade: an export price never falls below the home price times the ratio of their
reference prices (buyers abroad can always bid for the home market's material; a control
that cuts them off raises only the export price). Export tiers that no control in force
tells apart are one market: their scarcity is that of all their buyers (and pools) together,
so their prices move alike, exactly as one tier's would. A priced product made only from priced
inputs (a metal from its oxide) passes its inputs' cost on: in each tier its price never
falls below its reference plus what its inputs, per its recipe, cost more than at their
references (the cheapest recipe; none for co-products or routes with unpriced inputs; in an
export tier each input at its cheapest tier among the tier's countries).
Prices are recorded in USD/kg, on the steps someone buys the material in the tier's market
(a demand sector, or a plant that exists; or, with ``w > 0``, producers), in the tier itself
or, for an export tier, in one it trades as one market with: a tier nobody buys in that a
control in force sets apart still moves (its price is the cost of an input there and a
plant's sale price) but is not recorded, and a planned plant's tier from its start day.

Demand response (short run): a demand sector with elasticity ``e_short > 0`` buys, each step,
``demand * min(1, (price / reference) ** -e_short)`` of its material, at the price of its
tier as it stood at the end of the previous step (causal: the step's own trade moves the
price only after consumption). The tonnes not bought are *destroyed by price*, not short.
Lagged thrifting and substitution, and destocking, are in :mod:`.demand_response`; plants
built on price in :mod:`.investment`. Allocation does not respond to prices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..scenario.models import Market as MarketModel
from ..scenario.models import cost_routes
from ..scenario.tiers import WORLD, ExportTier, price_ceilings, tier_names
from .late import FULL

if TYPE_CHECKING:
    from ..scenario.models import Recipe
    from .events.base import PolicyEvent
    from .network import Buyer, Network, Pool
    from .recorder import Recorder

__all__ = ["WORLD", "Market", "MaterialPrices", "PriceIndex", "price_ceilings", "price_factor",
           "scarcity_of", "tier_names"]


def price_factor(scarcity: float, model: MarketModel) -> float:
    """Target price over the reference price at ``scarcity`` (supply over normal supply):
    ``scarcity ** (-1 / elasticity)`` below 1, ``** (-1 / surplus_elasticity)`` above, kept
    within ``[1 / max_multiple, max_multiple]`` (no overflow however small ``scarcity``)."""
    cap = model.max_multiple
    if scarcity <= cap ** -model.elasticity:
        return cap
    if scarcity >= cap ** model.surplus_elasticity:
        return 1.0 / cap
    return scarcity ** (-1.0 / (model.elasticity if scarcity < 1.0 else
                                 model.surplus_elasticity))


SLACK_FLOOR = 0.05
"""A buyer whose planned stock after a step's use is under this share of its cover (lanes
that land mid-step, a cover shorter than the wait) is read by its fill alone."""


def scarcity_of(buyers: Iterable[Buyer], pools: Iterable[Pool], weight: float,
                window: float, fills: dict[int, float] | None = None) -> float:
    """Supply ``buyers`` (and, weighted by ``weight``, ``pools``) have over what they
    normally have (1 in steady state; 1 with neither), counting ``window`` days of each
    buyer's use at its step's fill as supply: its last fill, or for a buyer short at a
    multi-day step's start, the fill the lots on their way that land in the step will give
    it (``fills``, by ``id``)."""
    supply = normal = 0.0
    for b in buyers:
        use = b.usage_per_day
        fill = b.last_fill
        if fills and fill < 1.0:
            fill = fills.get(id(b), fill)
        cover = b.cover_days
        slack = b.lead_slack
        if slack == 0.0:  # (the next line with cover / cover = 1, without its rounding)
            supply += b.on_hand + use * window * fill
        elif cover + slack > SLACK_FLOOR * cover:  # its stock, as days of its cover
            supply += b.on_hand * cover / (cover + slack) + use * window * fill
        else:  # it holds (nearly) nothing after a step's use: as a daily run's buyer,
            # its cover while it gets all it needs, nothing while it is short
            supply += use * ((cover if fill >= FULL else 0.0) + window * fill)
        normal += use * (cover + window)
    for p in pools:
        supply += weight * p.stock
        normal += weight * p.cover_t
    return supply / normal if normal > 0.0 else 1.0


class PriceIndex:
    """The price of one material in one tier (USD/kg) and the buyers (and, with a
    producer-stock weight, the producers' pools) whose scarcity sets it."""

    __slots__ = ("buyers", "key", "market", "material", "pools", "price", "reference",
                 "routes", "weight")

    def __init__(self, material: str, market: str, reference: float, buyers: list[Buyer],
                 pools: list[Pool] | None = None, weight: float = 0.0):
        self.material = material
        self.market = market
        self.reference = reference
        self.price = reference
        self.buyers = buyers
        self.pools = pools if weight > 0.0 and pools else []
        """The material's pools in the tier's countries (empty when their weight is 0)."""
        self.weight = weight
        self.key = -1
        self.routes: list[list[tuple[tuple[PriceIndex, ...], float]]] = []
        """Its recipes in its tier, each ``[(input's price indices, t of input per t)]``:
        the input costs the cheapest of its indices (several when the tier's countries
        span several tiers of the input); empty: no cost floor."""

    def passed_on(self) -> float:
        """What its inputs cost more than at their references, per tonne of it, by its
        cheapest recipe (negative when they cost less; 0 without routes, and exactly 0 with
        the inputs at their references): the part of its price a plant making it from those
        inputs does not earn."""
        rise = math.inf if self.routes else 0.0
        for inputs in self.routes:
            more = 0.0
            for indices, coef in inputs:
                first = indices[0]
                price = first.price
                for other in indices[1:]:
                    if other.price < price:
                        price = other.price
                more += coef * (price - first.reference)
            if more < rise:
                rise = more
        return rise

    def cost_floor(self) -> float:
        """The least its price may be: its reference plus :meth:`passed_on` (its reference
        itself with the inputs at theirs)."""
        return self.reference + self.passed_on()

    def bought(self) -> bool:
        """Whether someone buys in this tier now: a demand sector, a plant that exists (a
        planned plant's purchases start on its start day) or, weighted, producers with
        stock to keep (:meth:`MaterialPrices.recorded`)."""
        for b in self.buyers:
            if b.plant is None or b.plant.online:
                return True
        return any(p.cover_t > 0.0 for p in self.pools)

    def scarcity(self, window: float, fills: dict[int, float] | None = None) -> float:
        """Supply its buyers (and, weighted, its producers) have over what they normally
        have (1 in steady state; 1 with neither; :func:`scarcity_of`)."""
        return scarcity_of(self.buyers, self.pools, self.weight, window, fills)


class MaterialPrices:
    """One priced material's tiers: the home (or world) index and its export indices, with
    the controls that tell the export tiers apart."""

    __slots__ = ("buyers", "controls", "exports", "home", "pools", "ratio", "tiers")

    def __init__(self, home: PriceIndex, exports: list[PriceIndex], tiers: list[ExportTier],
                 ratio: float, buyers: list[Buyer], pools: list[Pool]):
        self.home = home
        self.exports = exports
        """Export indices, one per tier of :attr:`tiers` (the base tier first); empty
        without a home."""
        self.tiers = tiers
        self.ratio = ratio
        """Export over home reference price."""
        self.buyers = [(b, i) for b in buyers for i, t in enumerate(tiers)
                       if b.country in t.countries]
        """Every buyer outside home, in the network's order, with its tier's position."""
        self.pools = [(p, i) for p in pools for i, t in enumerate(tiers)
                      if p.country in t.countries]
        self.controls: list[list[PolicyEvent]] = [[] for _ in tiers]
        """Per export tier, the controls (this replication's) that name its countries."""

    @property
    def material(self) -> str:
        return self.home.material

    def indices(self) -> list[PriceIndex]:
        """Home (or world) first, then the export tiers."""
        return [self.home, *self.exports]

    def recorded(self, groups: list[list[int]]) -> list[bool]:
        """Per index of :meth:`indices`, whether its price is recorded now: someone buys in
        its market (:meth:`PriceIndex.bought`), in the tier itself or, for an export tier,
        in one it trades as one market with now (``groups``: :meth:`linked`). A tier nobody
        buys in that a control in force sets apart has a price nobody pays."""
        flags = [self.home.bought()]
        exports = self.exports
        if len(exports) == 1:
            flags.append(exports[0].bought())
        elif exports:
            bought = [index.bought() for index in exports]
            linked = [False] * len(exports)
            for group in groups:
                anyone = any(bought[i] for i in group)
                for i in group:
                    linked[i] = anyone
            flags += linked
        return flags

    def linked(self) -> list[list[int]]:
        """The export tiers that trade as one market now: groups of positions whose
        controls in force are the same (one group while none is)."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, controls in enumerate(self.controls):
            key = tuple(id(c) for c in controls if c.active)
            groups.setdefault(key, []).append(i)
        return list(groups.values())


class Market:
    """The priced materials of one replication; :meth:`update` is the clock's last phase."""

    def __init__(self, model: MarketModel, net: Network, buyers: list[Buyer], rec: Recorder,
                 recipes: dict[str, Recipe], tiers: dict[str, list[ExportTier]]):
        self.model = model
        self.window = model.scarcity_window_days
        self.projected_fills: Callable[[list[Buyer]], dict[int, float]] | None = None
        """Multi-day steps: the fills buyers short at the step's start will read at its end
        (set by the world: :meth:`.late.LateLots.projected_fills`)."""
        self._fills: dict[int, float] = {}
        self.warmup = net.warmup_days
        self.weight = -math.expm1(-net.step_days / model.adjustment_days)
        self.rec = rec
        home_tier = tier_names(model.home)[0]
        self.materials: list[MaterialPrices] = []
        w = model.producer_stock_weight
        for mid, ref in model.prices.items():
            mine = [b for b in buyers if b.material == mid]
            made = [p for p in net.pools.values() if p.material == mid]
            if model.home is None:
                world = PriceIndex(mid, home_tier, ref.domestic, mine, made, w)
                self.materials.append(MaterialPrices(world, [], [], 1.0, [], []))
                continue
            home = PriceIndex(mid, home_tier, ref.domestic,
                              [b for b in mine if b.country == model.home],
                              [p for p in made if p.country == model.home], w)
            groups = tiers[mid]  # (scenario.tiers.export_tiers: every priced material)
            abroad = [b for b in mine if b.country != model.home]
            sold = [p for p in made if p.country != model.home]
            exports = [PriceIndex(mid, t.name, ref.export_reference,
                                  [b for b in abroad if b.country in t.countries],
                                  [p for p in sold if p.country in t.countries], w)
                       for t in groups]
            self.materials.append(MaterialPrices(home, exports, groups,
                                                 ref.export_reference / ref.domestic,
                                                 abroad, sold))
        self._cost_routes(recipes)
        self.buyers = [b for m in self.materials for index in m.indices() for b in index.buyers]
        """Every buyer of a priced material (each once)."""
        self.index_of: dict[int, PriceIndex] = {}
        """Buyer id -> the price index of its material in its tier."""
        for m in self.materials:
            for index in m.indices():
                index.key = rec.price_key(index.material, index.market)
                for b in index.buyers:
                    self.index_of[id(b)] = index

    def watch(self, events: list[PolicyEvent]) -> None:
        """Give each export tier the controls of this replication that name its countries
        (the engine's events, installed after the market)."""
        by_id = {e.eid: e for e in events}
        for m in self.materials:
            for i, tier in enumerate(m.tiers):
                m.controls[i] = [by_id[eid] for eid in tier.controls if eid in by_id]

    def sold_at(self, material: str, tier: str, country: str) -> list[PriceIndex]:
        """The price indices of ``material`` a plant in ``country`` can sell at in ``tier``:
        ``home``, the home (or world) index; ``export``, every export tier for a plant
        outside ``market.home`` (the home country's controls do not bind its sales), the base
        export tier for one in it (the world index without a home). Raises ``KeyError`` if
        the material is not priced."""
        for m in self.materials:
            if m.material == material:
                if tier != "export" or not m.exports:
                    return [m.home]
                return [m.exports[0]] if country == self.model.home else list(m.exports)
        raise KeyError(material)

    def _cost_routes(self, recipes: dict[str, Recipe]) -> None:
        """Give each index the routes of its cost floor (``cost_routes`` of the scenario
        models), and order :attr:`materials` so that inputs move before their products."""
        by_material = {m.material: m for m in self.materials}
        made_from: dict[str, set[str]] = {}
        for mid, routes in cost_routes(recipes, set(by_material)).items():
            made_from[mid] = {inp for _, r in routes for inp in r.inputs}
            product = by_material[mid]

            def sources(inp: str, tier: ExportTier | None) -> tuple[PriceIndex, ...]:
                of = by_material[inp]
                if tier is None or not of.exports:
                    return (of.home,)
                hit = tuple(index for index, t in zip(of.exports, of.tiers, strict=True)
                            if t.countries & tier.countries)
                return hit or (of.exports[0],)

            tiers: list[ExportTier | None] = [None, *product.tiers]
            for index, tier in zip(product.indices(), tiers, strict=True):
                index.routes = [[(sources(inp, tier), qty / r.outputs[mid])
                                 for inp, qty in r.inputs.items()] for _, r in routes]

        def depth(mid: str, seen: frozenset[str]) -> int:
            if mid not in made_from or mid in seen:
                return 0
            return 1 + max(depth(inp, seen | {mid}) for inp in made_from[mid])

        self.materials.sort(key=lambda m: depth(m.material, frozenset()))

    def elasticity_of(self, sector: str) -> float:
        """The short-run price elasticity of demand of ``sector`` (``demand_response``)."""
        responses = self.model.demand_response
        return responses.sectors.get(sector, responses.default).elasticity

    def _move(self, index: PriceIndex, scarcity: float) -> None:
        target = index.reference * price_factor(scarcity, self.model)
        index.price *= (target / index.price) ** self.weight

    def _move_exports(self, m: MaterialPrices, groups: list[list[int]]) -> None:
        exports = m.exports
        if len(exports) == 1:
            self._move(exports[0], exports[0].scarcity(self.window, self._fills))
            return
        for group in groups:
            if len(group) == 1:
                index = exports[group[0]]
                self._move(index, index.scarcity(self.window, self._fills))
                continue
            members = set(group)
            weight = exports[group[0]].weight
            pools = [p for p, i in m.pools if i in members] if weight > 0.0 else []
            scarcity = scarcity_of([b for b, i in m.buyers if i in members], pools, weight,
                                   self.window, self._fills)
            for i in group:
                self._move(exports[i], scarcity)

    def update(self, now: int) -> None:
        """Move every price one step towards its target and record it (from the start
        date)."""
        day = now - self.warmup
        px_day, px_key, px_price = self.rec.px
        if self.projected_fills is not None:
            self._fills = self.projected_fills(self.buyers)
        for m in self.materials:  # (inputs before their products)
            home = m.home
            self._move(home, home.scarcity(self.window, self._fills))
            if home.routes and (cost := home.cost_floor()) > home.price:
                home.price = cost
            groups = m.linked() if len(m.exports) > 1 else []  # (trading as one now)
            if m.exports:
                self._move_exports(m, groups)
                floor = home.price * m.ratio
                for abroad in m.exports:
                    least = floor
                    if abroad.routes and (cost := abroad.cost_floor()) > least:
                        least = cost
                    if abroad.price < least:
                        abroad.price = least
            if day >= 0:
                for index, recorded in zip(m.indices(), m.recorded(groups), strict=True):
                    if not recorded:
                        continue
                    px_day.append(day)
                    px_key.append(index.key)
                    px_price.append(index.price)
