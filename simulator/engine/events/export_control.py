"""Export controls: ban, quota or licence on an exporter's materials to some destinations.

Semantics (docs/events.md): from ``announced`` to ``effective`` importers' lanes from the
exporter order ``prebuy_cover_days`` of extra cover. From ``effective`` until ``end``, at each
allocation the exporter's pools vet orders from controlled destinations: a ban refuses them; a
quota lets through at most the allowance accrued so far (``quota_tpy`` spread evenly, unused
allowance carried forward); a licence takes the allocated lot out of stock into a queue where
it waits ``delay_days`` (+ jitter) and is then approved (shipped, its lead time starting then)
or denied (returned to the exporter's stock), as its window's application is
(:mod:`.applications`). Lots already shipped are not affected; licence
applications already filed are decided on their own schedule even if the control ends.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ...scenario.events import ExportControl as ExportControlModel
from ..gate import days_in_force
from ..network import stale_lead
from .applications import Applications
from .base import PolicyEvent

if TYPE_CHECKING:
    import simpy

    from ..network import Lane, Network, Pool
    from ..world import World

MODE_RANK = {"ban": 0, "quota": 1, "licence": 2}


class ExportControl(PolicyEvent):
    """One export control in a replication (a ban, a quota or a licence regime)."""

    type = "export_control"

    def __init__(self, world: World, eid: str, ev: ExportControlModel):
        super().__init__(world, eid, ev)
        self.mode = ev.mode
        self.seq = list(world.net.events).index(eid)
        self.allowance = 0.0
        """Quota tonnes accrued and not yet used."""
        self.quota_tpd = (ev.quota_tpy or 0.0) / 365.0
        self.accrued_to: int | None = None
        """Scenario day up to which the quota has accrued (exclusive)."""
        self.licence = ev.licence
        self.window_days = ev.licence.application_days if ev.mode == "licence" else 0
        """Days of orders one licence application covers (0: not a licence regime)."""
        self.streams = world.streams
        self.applications: dict[int, Applications] = {}
        """Lane id -> its licence applications (one stream per control and lane: common
        random numbers per lane)."""
        self.stream_names: set[str] = set()
        self.materials = controlled_materials(world, ev)
        self.destinations = set(ev.destination_set(world.scenario.countries))
        self.origin = (exporter_origin_share(world.net, world, ev.exporter)
                       if ev.extraterritorial else {})
        self.direct: list[Lane] = []
        """Controlled lanes from the exporter itself (pre-buying happens on these)."""
        self.controlled: list[Lane] = []
        self.prebuying = False
        day = world.scenario.day_of
        self.start_day = day(ev.effective)
        self.end_day = None if ev.end is None else day(ev.end)
        self.announced_day = None if ev.announced is None else day(ev.announced)
        #: (mode rank, -day it takes effect, -declaration index): the smallest decides a lane
        self.precedence: tuple[int, int, int] = (MODE_RANK[ev.mode], -self.start_day,
                                                 -self.seq)

    def applies_to(self, lane: Lane) -> bool:
        """A lane is controlled when its buyer is in a controlled destination, its material
        is controlled and its supplier is the exporter (or, with ``extraterritorial``, a
        third country whose product traces back to the exporter enough)."""
        ev = self.model
        buyer, pool = lane.buyer, lane.pool
        if buyer.country not in self.destinations or buyer.material not in self.materials:
            return False
        if pool.country == ev.exporter:
            return True
        if ev.extraterritorial is None or pool.country == buyer.country:
            return False
        content = self.origin.get((pool.country, pool.material), 0.0) * self.materials[
            pool.material]
        return content >= ev.extraterritorial.min_content

    def attach(self, lane: Lane) -> None:
        lane.controls.append(self)
        self.controlled.append(lane)
        if lane.pool.country == self.model.exporter:
            self.direct.append(lane)
            if self.prebuying:
                self._prebuy(lane, True)
        if self.mode == "quota":
            lane.caps.append(self)
        lane.pool.gated = True
        if self.active:
            refresh_licence_days(lane)

    # -- time -----------------------------------------------------------------------------------
    def schedule(self) -> None:
        world = self.world
        announce = None
        if self.announced_day is not None and self.model.prebuy_cover_days > 0:
            announce = world.wake(self.announced_day)
        effective = world.wake(self.start_day)
        end = None if self.end_day is None else world.wake(self.end_day)
        world.env.process(self.lifecycle(announce, effective, end))

    def lifecycle(self, announce: simpy.Event | None, effective: simpy.Event,
                  end: simpy.Event | None) -> Generator[simpy.Event, object, None]:
        """Announcement (pre-buying), effective day, end."""
        world = self.world
        if announce is not None:
            yield announce
            self.prebuying = True
            for lane in self.direct:
                self._prebuy(lane, True)
            world.order_now(self.direct)  # importers pre-buy from the announcement day
        yield effective
        if self.prebuying:
            self.prebuying = False
            for lane in self.direct:
                self._prebuy(lane, False)
        self.start(world.day())
        if end is not None:
            yield end
            self.end(world.day())

    def budget(self, day: int, step: int) -> float:
        """Quota tonnes available for the step starting on ``day``: ``quota_tpy / 365`` per
        day in force, accrued once per step; unused tonnes carry forward."""
        if self.accrued_to is None or day + step > self.accrued_to:
            start = day if self.accrued_to is None else max(day, self.accrued_to)
            self.allowance += self.quota_tpd * days_in_force(self, start, day + step - start)
            self.accrued_to = day + step
        return self.allowance

    def _prebuy(self, lane: Lane, on: bool) -> None:
        days = self.model.prebuy_cover_days
        lane.extra_cover_days += days if on else -days
        stale_lead(lane)
        lane.prebuy_t = lane.share * lane.buyer.usage_per_day * days if on else 0.0

    def start(self, day: int) -> None:
        self.active = True
        longer = []
        for lane in self.controlled:  # buyers plan for the deciding licence's processing time
            before = lane.licence_days
            refresh_licence_days(lane)
            if lane.licence_days > before:
                longer.append(lane)
        if longer:  # they order for the longer wait today, not at the next step
            self.world.replan(longer)

    def end(self, day: int) -> None:
        self.active = False
        for lane in self.controlled:
            refresh_licence_days(lane)

    def use(self, q: float) -> None:
        self.allowance = max(0.0, self.allowance - q)

    def expected_delay(self, destination: str) -> float:
        """Mean processing days of an application for ``destination``."""
        assert self.licence is not None
        return self.terms(destination)[1] + self.licence.delay_jitter_days / 2

    def terms(self, destination: str) -> tuple[float, int, int]:
        """(approval probability, minimum delay days, re-application days) for
        ``destination``."""
        lic = self.licence
        assert lic is not None
        p, delay, reapply = lic.approval_probability, lic.delay_days, lic.reapply_days
        over = lic.by_destination.get(destination)
        if over is not None:
            p = p if over.approval_probability is None else over.approval_probability
            delay = delay if over.delay_days is None else over.delay_days
            reapply = reapply if over.reapply_days is None else over.reapply_days
        return p, delay, reapply

    def apply(self, world: World, pool: Pool, lane: Lane, q: float, day: int,
              span: int = 1) -> None:
        """File a lot of ``q`` t allocated on ``lane`` on scenario ``day`` under its window's
        application (:mod:`.applications`); the lot stands
        for ``span`` days of orders (an approved lot lands as a daily run's lots would, over
        that many days; a denied one weighs those days in its buyer's view of the supplier,
        each day of an application's window once: :meth:`.Applications.denied_days`)."""
        assert self.licence is not None
        p, delay, reapply = self.terms(lane.buyer.country)
        jitter = self.licence.delay_jitter_days
        apps = self.applications.get(id(lane))
        if apps is None:
            name = f"licence:{self.eid}:{lane.pool.country}:{lane.buyer.label}"
            if name in self.stream_names:  # a plant's second input from this exporter
                name += f":{lane.buyer.material}"
            self.stream_names.add(name)
            apps = self.applications[id(lane)] = Applications(
                self.streams, name, self.licence.application_days,
                world.scenario.horizon_days, world.net.warmup_days)
        window, attempt, u, v = apps.draw(day)
        approved = u < p
        if jitter:
            delay += min(int(v * (jitter + 1)), jitter)
        material = pool.material
        pool.stock -= q
        lane.on_order += q
        world.licence_queue_t[material] += q

        def decide(today: int) -> None:
            world.licence_queue_t[material] -= q
            banned = any(c.active and c.mode == "ban" for c in lane.controls)
            if approved and not banned:
                world.dispatch(lane, q, int(world.env.now), None, span)
            else:  # denied, or a ban has started since: the lot is cancelled (it stays in
                # the exporter's stock); its buyer's view of this supplier drops, so it buys
                # elsewhere if it can
                if not approved:
                    apps.denied(window, attempt)
                lane.on_order -= q
                pool.stock += q
                seen = apps.denied_days(window, attempt, span)
                if seen > 0:  # each day of orders the application stood for, once
                    world.observe(lane, 0.0, today, world.fill_weight(seen))
                # the buyer may re-order it only after preparing a new application
                # (``reapply``); a lot standing for ``span`` days of orders is a daily
                # run's lots of those days, denied and re-ordered a day apart: on average
                # ``span // 2`` days later than the first (re-ordered all on the first day,
                # a 14-day step's tonnes went round the licence queue 3 days faster than a
                # daily run's, and its buyers got more through it)
                wait = 0 if banned else reapply + span // 2
                if wait > 0:  # it still counts them as coming until then
                    lane.held_t += q

                    def release(_day: int) -> None:
                        lane.held_t -= q
                        world.reorder_today(lane, q)  # it re-orders on that day, not at
                        # the next step

                    world.at_day(today + wait, release)
                else:  # it re-orders today
                    world.reorder_today(lane, q)

        world.at_day(day + delay, decide)


def deciding_control(lane: Lane) -> ExportControl | None:
    """The active control whose terms a lot on ``lane`` follows: a ban before a quota before a
    licence; among controls of one mode, the one that took effect last (then the one declared
    last), so a new regime replaces the terms of an older one on the lanes both cover."""
    best = None
    for c in lane.controls:
        if c.active and (best is None or c.precedence < best.precedence):
            best = c
    return best


def refresh_licence_days(lane: Lane) -> None:
    """Set the processing time ``lane``'s buyer plans for: that of the deciding licence."""
    ctrl = deciding_control(lane)
    lane.licence_days = (ctrl.expected_delay(lane.buyer.country)
                         if ctrl is not None and ctrl.mode == "licence" else 0.0)
    stale_lead(lane)


def controlled_materials(world: World, ev: ExportControlModel) -> dict[str, float]:
    """Material id -> mass fraction of controlled content (1.0 for listed materials)."""
    out: dict[str, float] = {m: 1.0 for m in ev.materials}
    for mid, mat in world.scenario.materials.items():
        content = sum(mat.elements.get(e, 0.0) for e in ev.elements)
        if content > 0 and mid not in out:
            out[mid] = content
    return out


def exporter_origin_share(net: Network, world: World, exporter: str) -> dict:
    """(country, material) -> share of that pool's material that traces back to the exporter,
    propagated through recipes (largest share among a facility's inputs) and sourcing shares."""
    memo: dict[tuple[str, str], float] = {}
    producers: dict[tuple[str, str], list] = {}
    for f in net.facilities:
        for pool, _, _ in f.outputs:
            producers.setdefault((pool.country, pool.material), []).append(f)

    def pool_share(country: str, material: str, depth: int = 0) -> float:
        key = (country, material)
        if country == exporter:
            return 1.0
        if key in memo or depth > 20:
            return memo.get(key, 0.0)
        memo[key] = 0.0
        share = 0.0
        for f in producers.get(key, []):
            for buyer, _ in f.inputs:
                share = max(share, sum(lane.base_share * pool_share(
                    lane.pool.country, lane.pool.material, depth + 1) for lane in buyer.lanes))
        memo[key] = share
        return share

    return {key: pool_share(*key) for key in net.pools}
