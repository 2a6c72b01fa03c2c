"""Prices that form from scarcity, per material and market tier (docs/markets.md).

Each priced material has one price per **tier**: the home market (``market.home``, the
controlling exporter, e.g. China) and the export tier (every other country), or one world
tier without a home. Once per step, after allocation, each price moves towards a target set
by the **scarcity** its tier's buyers (and, weighted, its producers) see:

    supply_days = sum over buyers of on_hand + usage * step_days * fill
                  + w * sum over the tier's producer pools of stock
    normal_days = sum over buyers of usage * (cover_days + lead_slack + step_days)
                  + w * sum over the tier's producer pools of normal output cover
    scarcity    = supply_days / normal_days           (1 in steady state)
    target      = reference * scarcity ** (-1 / elasticity)          (scarcity < 1)
                  reference * scarcity ** (-1 / surplus_elasticity)  (scarcity > 1)
                  within [reference / max_multiple, reference * max_multiple]
    log price  += (1 - exp(-step_days / adjustment_days)) * (log target - log price)

where ``usage`` is a buyer's expected use (t/day), ``on_hand`` its stock after the step's use,
``fill`` the share of the step's need it got and ``lead_slack`` (<= 0) how far short of its
cover its stock after a step's use is in steady state (lanes that are not whole steps);
``w`` is ``producer_stock_weight`` (default 0: buyers only; 1: total stocks-to-use) and a
pool's stock is what its producers hold after the step's shipments, its normal cover their
output cover (both t). The tiers are linked
by trade: the export price never falls below the home price times the ratio of their
reference prices (buyers abroad can always bid for the home market's material; a control
that cuts them off raises only the export price). A priced product made only from priced
inputs (a metal from its oxide) passes its inputs' cost on: in each tier its price never
falls below its reference plus what its inputs, per its recipe, cost more than at their
references (the cheapest recipe; none for co-products or routes with unpriced inputs).
Prices are recorded in USD/kg.

Demand response (short run): a demand sector with elasticity ``e_short > 0`` buys, each step,
``demand * min(1, (price / reference) ** -e_short)`` of its material, at the price of its
tier as it stood at the end of the previous step (causal: the step's own trade moves the
price only after consumption). The tonnes not bought are *destroyed by price*, not short.
Lagged thrifting and substitution, and destocking, are in :mod:`.demand_response`; plants
built on price in :mod:`.investment`. Allocation does not respond to prices.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..scenario.models import Market as MarketModel
from ..scenario.models import cost_routes

if TYPE_CHECKING:
    from ..scenario.models import Recipe
    from .network import Buyer, Network, Pool
    from .recorder import Recorder

WORLD = "world"


def tier_names(home: str | None) -> tuple[str, str | None]:
    """(home tier, export tier) names: ``("CN", "ex-CN")``, or ``("world", None)``."""
    return (WORLD, None) if home is None else (home, f"ex-{home}")


def price_ceilings(model: MarketModel) -> dict[tuple[str, str], float]:
    """(material, tier) -> the highest price the formation can reach (USD/kg): the tier's
    reference price times ``max_multiple``; none when the market is off."""
    home_tier, export_tier = tier_names(model.home)
    out: dict[tuple[str, str], float] = {}
    if not model.enabled:
        return out
    for mid, ref in model.prices.items():
        out[(mid, home_tier)] = ref.domestic * model.max_multiple
        if export_tier is not None:
            out[(mid, export_tier)] = ref.export_reference * model.max_multiple
    return out


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
        self.routes: list[list[tuple[PriceIndex, float]]] = []
        """Its recipes in its tier, each ``[(input's price index, t of input per t)]``;
        empty: no cost floor."""

    def passed_on(self) -> float:
        """What its inputs cost more than at their references, per tonne of it, by its
        cheapest recipe (negative when they cost less; 0 without routes, and exactly 0 with
        the inputs at their references): the part of its price a plant making it from those
        inputs does not earn."""
        rise = math.inf if self.routes else 0.0
        for inputs in self.routes:
            more = 0.0
            for index, coef in inputs:
                more += coef * (index.price - index.reference)
            if more < rise:
                rise = more
        return rise

    def cost_floor(self) -> float:
        """The least its price may be: its reference plus :meth:`passed_on` (its reference
        itself with the inputs at theirs)."""
        return self.reference + self.passed_on()

    def scarcity(self, step: int) -> float:
        """Supply its buyers (and, weighted, its producers) have over what they normally
        have (1 in steady state; 1 with neither)."""
        supply = normal = 0.0
        for b in self.buyers:
            use = b.usage_per_day
            supply += b.on_hand + use * step * b.last_fill
            normal += use * (b.cover_days + b.lead_slack + step)
        if self.pools:
            w = self.weight
            for p in self.pools:
                supply += w * p.stock
                normal += w * p.cover_t
        return supply / normal if normal > 0.0 else 1.0


class Market:
    """The priced materials of one replication; :meth:`update` is the clock's last phase."""

    def __init__(self, model: MarketModel, net: Network, buyers: list[Buyer], rec: Recorder,
                 recipes: dict[str, Recipe] | None = None):
        self.model = model
        self.step = net.step_days
        self.warmup = net.warmup_days
        self.weight = -math.expm1(-net.step_days / model.adjustment_days)
        self.rec = rec
        home_tier, export_tier = tier_names(model.home)
        self.pairs: list[tuple[PriceIndex, PriceIndex | None, float]] = []
        """(home or world index, export index or None, export / home reference ratio)."""
        w = model.producer_stock_weight
        for mid, ref in model.prices.items():
            mine = [b for b in buyers if b.material == mid]
            made = [p for p in net.pools.values() if p.material == mid]
            export_ref = ref.export_reference
            if model.home is None:
                self.pairs.append((PriceIndex(mid, home_tier, ref.domestic, mine, made, w),
                                   None, 1.0))
                continue
            home = PriceIndex(mid, home_tier, ref.domestic,
                              [b for b in mine if b.country == model.home],
                              [p for p in made if p.country == model.home], w)
            abroad = PriceIndex(mid, export_tier, export_ref,  # type: ignore[arg-type]
                                [b for b in mine if b.country != model.home],
                                [p for p in made if p.country != model.home], w)
            self.pairs.append((home, abroad, export_ref / ref.domestic))
        self._cost_routes(recipes or {})
        self.index_of: dict[int, PriceIndex] = {}
        """Buyer id -> the price index of its material in its tier."""
        for home, abroad, _ in self.pairs:
            for index in (home, abroad):
                if index is not None:
                    index.key = rec.price_key(index.material, index.market)
                    for b in index.buyers:
                        self.index_of[id(b)] = index

    def _cost_routes(self, recipes: dict[str, Recipe]) -> None:
        """Give each index the routes of its cost floor (``cost_routes`` of the scenario
        models), and order :attr:`pairs` so that inputs move before their products."""
        tiers: dict[tuple[str, str], PriceIndex] = {}
        for home, abroad, _ in self.pairs:
            for index in (home, abroad):
                if index is not None:
                    tiers[(index.material, index.market)] = index
        priced = {home.material for home, _, _ in self.pairs}
        made_from: dict[str, set[str]] = {}
        for mid, routes in cost_routes(recipes, priced).items():
            made_from[mid] = {inp for _, r in routes for inp in r.inputs}
            for (material, tier), index in tiers.items():
                if material == mid:
                    index.routes = [[(tiers[(inp, tier)], qty / r.outputs[mid])
                                     for inp, qty in r.inputs.items()] for _, r in routes]

        def depth(mid: str, seen: frozenset[str]) -> int:
            if mid not in made_from or mid in seen:
                return 0
            return 1 + max(depth(inp, seen | {mid}) for inp in made_from[mid])

        self.pairs.sort(key=lambda pair: depth(pair[0].material, frozenset()))

    def elasticity_of(self, sector: str) -> float:
        """The short-run price elasticity of demand of ``sector`` (``demand_response``)."""
        responses = self.model.demand_response
        return responses.sectors.get(sector, responses.default).elasticity

    def _move(self, index: PriceIndex) -> None:
        factor = price_factor(index.scarcity(self.step), self.model)
        target = index.reference * factor
        index.price *= (target / index.price) ** self.weight

    def update(self, now: int) -> None:
        """Move every price one step towards its target and record it (from the start
        date)."""
        day = now - self.warmup
        px_day, px_key, px_price = self.rec.px
        for home, abroad, ratio in self.pairs:  # (inputs before their products)
            self._move(home)
            if home.routes and (cost := home.cost_floor()) > home.price:
                home.price = cost
            if abroad is not None:
                self._move(abroad)
                floor = home.price * ratio
                if abroad.routes and (cost := abroad.cost_floor()) > floor:
                    floor = cost
                if abroad.price < floor:
                    abroad.price = floor
            if day >= 0:
                for index in (home, abroad):
                    if index is not None:
                        px_day.append(day)
                        px_key.append(index.key)
                        px_price.append(index.price)
