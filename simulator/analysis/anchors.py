"""Dated events, and the event each demand sector's time to first shortfall counts from.

- :func:`event_windows`: every event of a scenario as a dated window (plots, reports);
- :func:`reduces_supply`: whether an event can reduce the supply reaching a demand sector,
  judged on the static network (sourcing suppliers and alternatives, recipes, facilities);
- :func:`tts_anchors`: per demand sector, the anchor of the time to survive: a named event,
  else the first event that can reduce that sector's supply (docs/metrics.md, "The anchor");
  :func:`replication_anchors`: the same per replication, at each replication's drawn dates
  when event dates are uncertain (:func:`drawn_starts`);
- :func:`disruption_start`: the earliest anchor of the scenario (or a named event's start).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenario.models import Scenario

__all__ = [
    "SUPPLY_EVENT_TYPES",
    "Anchor",
    "DateRange",
    "EventWindow",
    "anchor_tables",
    "disruption_start",
    "drawn_starts",
    "event_windows",
    "group_anchor",
    "plant_starts",
    "reduces_supply",
    "replication_anchors",
    "start_path",
    "tts_anchors",
    "uncertain_starts",
]

#: Event types that can reduce supply (a demand shock moves demand; agreements, stockpile
#: policies and substitution are responses).
SUPPLY_EVENT_TYPES = ("export_control", "facility_outage", "logistics_disruption", "tariff")

Lane = tuple[str, str, str]  # (buyer country, material, supplier country)


DateRange = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class EventWindow:
    """One scenario event as a dated window (``end`` exclusive; ``None`` = open-ended).

    ``start`` and ``end`` are the dates the scenario holds (an uncertain date's central
    value); ``start_range`` / ``end_range`` are the lowest and highest dates an uncertain
    start / end can take in a replication (``None`` when certain) and ``duration_range``
    the lowest and highest ``duration_days`` of an outage whose start or length is
    uncertain."""

    id: str
    type: str
    label: str
    start: dt.date
    end: dt.date | None
    disruption: bool = False
    """Whether it can reduce the supply of some demand sector (:func:`reduces_supply`)."""
    start_range: DateRange | None = None
    end_range: DateRange | None = None
    duration_range: tuple[int, int] | None = None

    @property
    def uncertain(self) -> bool:
        """Whether the window's start or end differs between replications."""
        return self.start_range is not None or self.end_range is not None

    @property
    def earliest(self) -> dt.date:
        """The earliest day the event can be in force."""
        return self.start_range[0] if self.start_range is not None else self.start

    @property
    def latest_end(self) -> dt.date | None:
        """The latest (exclusive) end it can have; ``None``: open-ended."""
        return self.end_range[1] if self.end_range is not None else self.end


@dataclass(frozen=True)
class Anchor:
    """The event a time to first shortfall is counted from, and its start date."""

    event_id: str
    date: dt.date

    def __str__(self) -> str:
        return f"{self.event_id} ({self.date.isoformat()})"


def event_start(ev: Any, scenario: Scenario) -> dt.date:
    """``effective`` (export control), ``signed`` (agreement), else ``start`` (an outage
    without one starts at ``scenario.start_date``)."""
    if ev.type == "export_control":
        return ev.effective
    if ev.type == "cooperation_agreement":
        return ev.signed
    return ev.start if ev.start is not None else scenario.start_date


def start_path(event_id: str, ev: Any) -> str:
    """The parameter path of an event's start (:func:`event_start`), e.g.
    ``events.ban.effective``."""
    field = {"export_control": "effective", "cooperation_agreement": "signed"}.get(ev.type,
                                                                                 "start")
    return f"events.{event_id}.{field}"


def uncertain_starts(scenario: Scenario) -> dict[str, DateRange]:
    """Events whose start is a distribution: event id -> (lowest, highest) date it can draw."""
    return {eid: rng for eid, ev in scenario.events.items()
            if (rng := _date_bounds(scenario, start_path(eid, ev))) is not None}


def drawn_starts(scenario: Scenario, seed: int, replication: int) -> dict[str, dt.date]:
    """The start of every event with an uncertain start in replication ``replication`` of
    root ``seed``: the date the engine draws (the same stream, the same rounding)."""
    from ..engine.rng import RandomStreams
    from ..scenario.distributions import draw_param

    streams = RandomStreams(seed, replication)
    return {eid: dt.date.fromordinal(round(draw_param(scenario, start_path(eid, ev),
                                                      streams.get)))
            for eid, ev in scenario.events.items()
            if start_path(eid, ev) in scenario.uncertainty}


def _date_bounds(scenario: Scenario, path: str) -> DateRange | None:
    dist = scenario.uncertainty.get(path)
    if dist is None:
        return None
    low, high = dist.bounds()
    return dt.date.fromordinal(round(low)), dt.date.fromordinal(round(high))


def _ranges(scenario: Scenario, eid: str, ev: Any, start: dt.date, end: dt.date | None
            ) -> tuple[DateRange | None, DateRange | None, tuple[int, int] | None]:
    """(start_range, end_range, duration_range) of an event (see :class:`EventWindow`)."""
    s_rng = _date_bounds(scenario, start_path(eid, ev))
    e_rng = _date_bounds(scenario, f"events.{eid}.end")
    d_rng = None
    if ev.type == "facility_outage" and ev.end is None and ev.duration_days is not None:
        dist = scenario.uncertainty.get(f"events.{eid}.duration_days")
        d_lo, d_hi = ((round(dist.bounds()[0]), round(dist.bounds()[1])) if dist is not None
                      else (ev.duration_days, ev.duration_days))
        if s_rng is not None or dist is not None:
            lo, hi = s_rng or (start, start)
            e_rng = (lo + dt.timedelta(days=d_lo), hi + dt.timedelta(days=d_hi))
            d_rng = (d_lo, d_hi)
    return s_rng, e_rng if end is not None else None, d_rng


def _event_end(ev: Any, start: dt.date) -> dt.date | None:
    if ev.type == "facility_outage" and ev.end is None and ev.duration_days is not None:
        return start + dt.timedelta(days=ev.duration_days)
    return getattr(ev, "end", None)


def _event_label(eid: str, ev: Any) -> str:
    t = ev.type
    if t == "export_control":
        mode = {"ban": "ban", "quota": "quota", "licence": "licences"}[ev.mode]
        return f"{ev.exporter} export {mode}"
    if t == "facility_outage":
        where = " ".join(x for x in (ev.country, ev.stage) if x) or ", ".join(ev.facilities)
        kind = "random outages" if ev.random is not None else "outage"
        return f"{kind} {where}".strip()
    if t == "demand_shock":
        return f"demand x{ev.multiplier:g}"
    if t == "substitution":
        return "substitution"
    if t == "logistics_disruption":
        lane = "-".join(x for x in (ev.origin, ev.destination) if x)
        return f"logistics {lane}".strip()
    if t == "tariff":
        return f"{ev.rate:.0%} tariff on {', '.join(ev.exporters)}"
    if t == "cooperation_agreement":
        return "agreement " + "+".join(ev.members)
    if t == "stockpile_policy":
        return f"stockpile policy {ev.stockpile}"
    if t == "price_floor":
        return f"price floor {ev.floor:g} USD/kg"
    if t == "offtake":
        return f"offtake of {ev.facility}"
    if t == "investment_subsidy":
        return "investment subsidy"
    return eid  # pragma: no cover - every type is handled above


def event_windows(scenario: Scenario) -> list[EventWindow]:
    """The scenario's events as dated windows, sorted by start date (ties: declaration order).

    Start: :func:`event_start`. End: the event's ``end`` (exclusive), ``start +
    duration_days`` for an outage, else ``None``. An event with ``probability < 1`` is
    listed at its scheduled dates; one whose dates are distributions at their central
    values, with the range they can take (``start_range``, ``end_range``)."""
    net = _Network(scenario)
    labels = {eid: _event_label(eid, ev) for eid, ev in scenario.events.items()}
    count = Counter(labels.values())
    out = []
    for eid, ev in scenario.events.items():
        start = event_start(ev, scenario)
        hits = any(reduces_supply(scenario, eid, did, net) for did in scenario.demand)
        label = labels[eid] if count[labels[eid]] == 1 else f"{labels[eid]} ({eid})"
        end = _event_end(ev, start)
        out.append(EventWindow(eid, ev.type, label, start, end, hits,
                               *_ranges(scenario, eid, ev, start, end)))
    return sorted(out, key=lambda w: w.start)


def plant_starts(scenario: Scenario) -> list[EventWindow]:
    """Plants that start inside the horizon (scheduled facilities and the plants cooperation
    agreements build), as open-ended windows of type ``plant_start`` (not events: figures
    mark them), sorted by start date; plants of no capacity are left out."""
    from ..engine.builder import facility_specs

    out = [EventWindow(spec.fid, "plant_start", f"new plant {spec.fid} ({spec.country})",
                       spec.start_date, None,
                       start_range=_date_bounds(scenario, f"facilities.{spec.fid}.start_date"))
           for spec in facility_specs(scenario, scenario.events)
           if spec.start_date is not None and spec.capacity_tpy > 0
           and scenario.start_date < spec.start_date < scenario.end_date]
    return sorted(out, key=lambda w: w.start)


# --------------------------------------------------------------------------- static network

class _Network:
    """Who buys what from whom, and who makes what, as the scenario declares it."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.suppliers: dict[tuple[str, str], list[str]] = {}
        for src in sc.sourcing.values():
            sups = [c for c, share in src.suppliers.items() if share > 0]
            self.suppliers[(src.country, src.material)] = sups + [
                c for c in src.alternatives if c not in sups]
        # (country, material) -> [(facility id, stage, input materials)], agreements' plants too
        self.producers: dict[tuple[str, str], list[tuple[str, str, list[str]]]] = {}
        plants = [(fid, f.country, f.recipe) for fid, f in sc.facilities.items()]
        plants += [(fid, nf.country, nf.recipe) for ev in sc.events.values()
                   if ev.type == "cooperation_agreement" for fid, nf in ev.facilities.items()]
        for fid, country, rid in plants:
            rec = sc.recipes[rid]
            for mid in rec.outputs:
                self.producers.setdefault((country, mid), []).append(
                    (fid, rec.stage, list(rec.inputs)))
        self._memo: dict[tuple[str, str], frozenset[Lane]] = {}

    def lanes(self, country: str, material: str) -> frozenset[Lane]:
        """Every lane upstream of buyers of ``material`` in ``country``, theirs included: a
        buyer orders from its sourcing's suppliers and alternatives (its own country when
        it has no sourcing entry); a supplier's plants buy their recipe's inputs the same way."""
        key = (country, material)
        if key not in self._memo:
            seen: set[tuple[str, str]] = set()
            lanes: set[Lane] = set()
            stack = [key]
            while stack:
                b, x = stack.pop()
                if (b, x) in seen:
                    continue
                seen.add((b, x))
                for s in self.suppliers.get((b, x), [b]):
                    lanes.add((b, x, s))
                    stack += [(s, y) for _, _, inputs in self.producers.get((s, x), [])
                              for y in inputs]
            self._memo[key] = frozenset(lanes)
        return self._memo[key]

    def facilities(self, lanes: Iterable[Lane]) -> set[tuple[str, str, str]]:
        """(facility id, country, stage) of every plant making what ``lanes`` carry."""
        return {(fid, s, stage) for _, x, s in lanes
                for fid, stage, _ in self.producers.get((s, x), [])}


def _tariff_bites(ev: Any) -> bool:
    """Whether a tariff lowers its routes' share (the engine's multiplier is below 1)."""
    return ev.rate >= ev.prohibitive_rate or ev.elasticity * ev.rate > 0


def reduces_supply(scenario: Scenario, event_id: str, demand_id: str,
                   network: Any = None) -> bool:
    """Whether event ``event_id`` can reduce the supply reaching demand sector ``demand_id``.

    On the static network upstream of the sector (every lane from a supplier or
    alternative to a buyer of the sector's material in its country, and of every input of
    the plants that make it, recursively):

    - ``export_control``: a lane of a controlled material (listed, or containing a listed
      element) to a controlled destination from the exporter, or (``extraterritorial``)
      from a third country whose own upstream includes the exporter;
    - ``facility_outage`` (scheduled, ``capacity_lost > 0``): it hits a plant making
      something on those lanes; random outages are a background hazard, never an anchor;
    - ``logistics_disruption`` (extra days or a capacity cap): it matches an international
      lane (origin, destination, materials);
    - ``tariff`` (a rate that lowers the route's share): it taxes the sector's own
      purchases (importer: its country; material: its material; from a taxed exporter). A
      tariff removes no supply, it moves the taxed buyers' orders to their other suppliers;
      a tariff on a plant's input re-sources that plant, it is no disruption of the plant's
      customers (China's tariff on US concentrate is none of US magnet users);
    - every other type (demand shocks, agreements, stockpile policies, substitution, price
      floors, offtakes, investment subsidies): no.
    """
    sc = scenario
    ev, d = sc.events[event_id], sc.demand[demand_id]
    net = network if network is not None else _Network(sc)
    lanes = net.lanes(d.country, d.material)
    if ev.type == "export_control":
        mats, dests = ev.selected_materials(sc.materials), ev.destination_set(sc.countries)
        for b, x, s in lanes:
            if b not in dests or x not in mats:
                continue
            if s == ev.exporter:
                return True
            if ev.extraterritorial is not None and s != b and any(
                    s2 == ev.exporter for _, _, s2 in _upstream_of(net, s, x)):
                return True
        return False
    if ev.type == "facility_outage":
        if ev.random is not None or ev.capacity_lost <= 0:
            return False
        return any(fid in ev.facilities or (
            (ev.country is not None or ev.stage is not None)
            and ev.country in (None, c) and ev.stage in (None, stage))
            for fid, c, stage in net.facilities(lanes))
    if ev.type == "logistics_disruption":
        if ev.extra_days <= 0 and ev.capacity_tpy is None:
            return False
        return any(s != b and ev.origin in (None, s) and ev.destination in (None, b)
                   and (not ev.materials or x in ev.materials) for b, x, s in lanes)
    if ev.type == "tariff":
        if d.country not in ev.importers or not _tariff_bites(ev):
            return False
        return (not ev.materials or d.material in ev.materials) and any(
            s in ev.exporters and s != b for b, x, s in lanes
            if (b, x) == (d.country, d.material))
    return False


def _upstream_of(net: _Network, country: str, material: str) -> set[Lane]:
    """The lanes feeding the plants that make ``material`` in ``country``."""
    out: set[Lane] = set()
    for _, _, inputs in net.producers.get((country, material), []):
        for y in inputs:
            out |= net.lanes(country, y)
    return out


# --------------------------------------------------------------------------- anchors

def check_event(scenario: Scenario, event_id: str) -> None:
    """Raise ``KeyError`` naming the scenario's event ids when ``event_id`` is not one."""
    if event_id not in scenario.events:
        known = ", ".join(scenario.events) or "none"
        raise KeyError(f"no event {event_id!r} in scenario {scenario.name!r} "
                       f"(events: {known})")


def tts_anchors(scenario: Scenario, event_id: str | None = None,
                starts: Mapping[str, dt.date] | None = None) -> dict[str, Anchor | None]:
    """Per demand sector id, the anchor of its time to first shortfall.

    With ``event_id``: that event (any type) for every sector; ``KeyError`` listing the
    known ids if there is no such event. Otherwise the first event, by start date
    (:func:`event_windows` order), that :func:`reduces_supply` of the sector, at its
    scheduled date even when ``probability < 1``; ``None`` when no event does. ``starts``
    gives the dates of events whose start differs from the scenario's (one replication's
    draws, :func:`drawn_starts`)."""
    return _anchors(scenario, event_id, _candidates(scenario, event_id), starts or {})


def replication_anchors(scenario: Scenario, seed: int, replications: Iterable[int],
                        event_id: str | None = None) -> dict[int, dict[str, Anchor | None]]:
    """:func:`tts_anchors` of each replication of root ``seed``, at the event dates drawn in
    it (the same for every replication when no event start is uncertain)."""
    candidates = _candidates(scenario, event_id)
    return {int(r): _anchors(scenario, event_id, candidates,
                             drawn_starts(scenario, seed, int(r))) for r in replications}


def _candidates(scenario: Scenario, event_id: str | None) -> dict[str, list[str]]:
    """Per demand sector, the events that can anchor it, in declaration order."""
    sc = scenario
    if event_id is not None:
        check_event(sc, event_id)
        return {did: [event_id] for did in sc.demand}
    net = _Network(sc)
    return {did: [eid for eid in sc.events if reduces_supply(sc, eid, did, net)]
            for did in sc.demand}


def _anchors(scenario: Scenario, event_id: str | None, candidates: Mapping[str, list[str]],
             starts: Mapping[str, dt.date]) -> dict[str, Anchor | None]:
    """The earliest candidate of each sector (ties: declaration order) at its start."""
    def start(eid: str) -> dt.date:
        return starts.get(eid) or event_start(scenario.events[eid], scenario)

    out: dict[str, Anchor | None] = {}
    for did, eids in candidates.items():
        first = min(eids, key=start, default=None)
        out[did] = None if first is None else Anchor(first, start(first))
    return out


def anchor_tables(scenario: Scenario, rep: np.ndarray, event_id: str | None,
                   anchors: Mapping[str, Anchor | None] | None, seed: int | None
                   ) -> tuple[np.ndarray, list[Mapping[str, Anchor | None]]]:
    """For the metrics of rows of replications ``rep``: the replication ids and one anchor
    table per replication (:func:`replication_anchors`) when event starts are uncertain
    (``ValueError`` without the run's ``seed``), else no ids and one table for all
    (``anchors`` if given, else :func:`tts_anchors`)."""
    if anchors is not None or not uncertain_starts(scenario):
        return np.empty(0, dtype=np.int64), [anchors if anchors is not None
                                             else tts_anchors(scenario, event_id)]
    if seed is None:
        raise ValueError(f"scenario {scenario.name!r} has uncertain event dates: the time to "
                         "survive needs the run's seed to count from each replication's date")
    reps = np.unique(rep)
    by_rep = replication_anchors(scenario, seed, reps.tolist(), event_id)
    return reps, [by_rep[int(r)] for r in reps]


def group_anchor(scenario: Scenario, anchors: Mapping[str, Anchor | None], demand_id: str,
                 labels: Mapping[str, str]) -> Anchor | None:
    """The anchor of a time series group: its own for a demand sector of the scenario; for a
    sum of sectors (``country``/``sector``/``material`` label ``all`` matches any), the
    earliest anchor of the demand sectors it sums; for a group matching none, the earliest
    of the scenario."""
    if demand_id in anchors:
        return anchors[demand_id]
    members = [did for did, d in scenario.demand.items()
               if all(labels.get(k, "all") in ("all", getattr(d, k))
                      for k in ("country", "sector", "material"))]
    found = [a for did in (members or anchors) if (a := anchors.get(did)) is not None]
    return min(found, key=lambda a: a.date) if found else None


def disruption_start(scenario: Scenario, event_id: str | None = None) -> dt.date | None:
    """Start of event ``event_id`` (any type; ``KeyError`` if unknown), or the earliest
    default anchor of the scenario's demand sectors (:func:`tts_anchors`), or ``None``; the
    central date of an uncertain start (a replication's own: :func:`drawn_starts`)."""
    if event_id is not None:
        check_event(scenario, event_id)
        return event_start(scenario.events[event_id], scenario)
    dates = [a.date for a in tts_anchors(scenario).values() if a is not None]
    return min(dates) if dates else None
