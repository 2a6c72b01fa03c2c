"""Analytic steady state of a scenario, and the DATA.md V1 calibration table.

With no events and constant demand, critmin's engine settles into a steady state in which
every flow is a linear function of final demand (production is pulled by orders). This script
computes that state directly, without simulating:

1. final demand (t/yr) is split over supplier countries by the buyer country's sourcing
   shares (the buyer's own country when it has no sourcing entry);
2. stage by stage, downstream first, each pool's withdrawals set its producers' run rates,
   exactly as the engine pulls them: a facility's runs are proportional to its
   ``capacity_tpy * (output_cover_days + step_days)`` times the largest relative need among
   its output pools, capped at capacity; so co-producing plants run until the most-demanded
   output is covered and the other outputs pile up as *surplus*;
3. each facility's inputs are then ordered from its country's suppliers, and so on upstream.

It prints the V1 table (mine output per country vs USGS 2024, China's share of separated
oxide and of magnets, China's magnet exports, demand served), the surplus of every pool and
every facility's utilisation (flagging any above 100%). With ``--engine`` it also runs one
replication of the engine and compares annual averages over the horizon.

Usage::

    python scripts/steady_state.py [scenarios/baseline.yaml] [--engine] [--seed N]

Exit status 1 if a V1 check fails (2 for usage errors).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.scenario.models import Scenario  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "baseline.yaml"

# DATA.md section 1 / validation V1 targets.
USGS_MINE_2024 = {  # t REO, USGS Mineral Commodity Summaries 2025
    "CN": 270_000, "US": 45_000, "MM": 31_000, "AU": 13_000,
    "NG": 13_000, "TH": 13_000, "IN": 2_900, "RU": 2_500,
}
USGS_WORLD_2024 = 390_000
MINE_TOLERANCE = 0.05
CN_SEPARATION_SHARE = (0.91, 0.92)  # IEA GCMO 2024 (92% of 2023) and IEA Oct 2025 (91%)
CN_MAGNET_SHARE = (0.94, 0.02)  # IEA Oct 2025: ~94%, +-2 points
CN_MAGNET_EXPORTS = (58_152, 0.05)  # Adamas Intelligence 2024, +-5%
FILL_TOLERANCE = 1e-6

Pool = tuple[str, str]  # (country, material)


def load(path: str | Path) -> Scenario:
    """Load and validate a scenario file (the loader if present, else plain ruamel + pydantic)."""
    try:
        from simulator.scenario import load_scenario
    except ImportError:  # pragma: no cover - before the loader existed
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(Path(path).read_text())
        data.pop("extends", None)
        return Scenario.model_validate(data)
    return load_scenario(path)


@dataclass
class SteadyState:
    """Annual steady-state quantities (t/yr)."""

    runs: dict[str, float] = field(default_factory=dict)
    """Recipe runs per year per facility."""
    unconstrained_runs: dict[str, float] = field(default_factory=dict)
    """Runs the pull would ask for without the capacity cap (utilisation may exceed 1)."""
    production: dict[tuple[str, str], float] = field(default_factory=dict)
    """(facility, material) -> t/yr."""
    withdrawals: dict[Pool, float] = field(default_factory=lambda: defaultdict(float))
    """Orders on each pool: what buyers take from it."""
    supply: dict[Pool, float] = field(default_factory=lambda: defaultdict(float))
    flows: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    """(origin, destination, material) -> t/yr, every supplier-buyer pair incl. domestic."""
    final_demand: dict[Pool, float] = field(default_factory=lambda: defaultdict(float))

    def surplus(self, pool: Pool) -> float:
        return self.supply.get(pool, 0.0) - self.withdrawals.get(pool, 0.0)


def _suppliers(s: Scenario) -> dict[Pool, dict[str, float]]:
    return {(src.country, src.material): dict(src.suppliers) for src in s.sourcing.values()}


def steady_state(s: Scenario) -> SteadyState:
    """Solve the pulled steady state of ``s`` at its start date (growth and events ignored)."""
    out = SteadyState()
    shares = _suppliers(s)
    stage_index = {name: i for i, name in enumerate(s.stages)}

    def buy(country: str, material: str, tonnes: float) -> None:
        for sup, share in shares.get((country, material), {country: 1.0}).items():
            if share > 0 and tonnes > 0:
                out.withdrawals[(sup, material)] += tonnes * share
                out.flows[(sup, country, material)] += tonnes * share

    for d in s.demand.values():
        out.final_demand[(d.country, d.material)] += d.rate_tpy
        buy(d.country, d.material, d.rate_tpy)

    def capacity(fid: str) -> float:
        f = s.facilities[fid]
        if f.start_date is not None and f.start_date > s.start_date:
            return 0.0
        return f.capacity_tpy

    by_stage: dict[int, list[str]] = defaultdict(list)
    for fid, f in s.facilities.items():
        by_stage[stage_index[s.recipes[f.recipe].stage]].append(fid)

    for stage in sorted(by_stage, reverse=True):
        fids = by_stage[stage]
        for fid in fids:
            for mid in s.recipes[s.facilities[fid].recipe].inputs:
                mat_stage = s.materials[mid].stage
                if mat_stage is not None and stage_index[mat_stage] >= stage:
                    raise ValueError(f"{fid}: input {mid!r} is not from an upstream stage")
        runs, unconstrained = _solve_pull(s, fids, out.withdrawals, capacity)
        out.runs.update(runs)
        out.unconstrained_runs.update(unconstrained)
        for fid in fids:
            f = s.facilities[fid]
            rec = s.recipes[f.recipe]
            r = out.runs[fid]
            for m, coef in rec.outputs.items():
                out.production[(fid, m)] = r * coef
                out.supply[(f.country, m)] += r * coef
            for m, coef in rec.inputs.items():
                buy(f.country, m, r * coef)
    return out


def _solve_pull(
    s: Scenario,
    fids: list[str],
    withdrawals: dict[Pool, float],
    capacity: Callable[[str], float],
) -> tuple[dict[str, float], dict[str, float]]:
    """Run rates of one stage's facilities, with and without the capacity cap.

    The engine gives facility f ``runs = min(cap_f, cap_f * (cover_f + step) * max over its
    output pools of room/target)``; in steady state that is ``min(cap_f, w_f * phi)`` with one
    pressure ``phi`` per pool, the smallest such that every pool makes what is ordered from it.
    Raising a pool's pressure never lowers any output, so raising each short pool's pressure
    to its minimum in turn converges to the least solution.
    """
    step = s.simulation.step_days
    weight = {f: capacity(f) * (s.facilities[f].output_cover_days + step) for f in fids}
    outputs = {f: s.recipes[s.facilities[f].recipe].outputs for f in fids}
    country = {f: s.facilities[f].country for f in fids}
    pools = sorted({(country[f], m) for f in fids for m in outputs[f]})
    makers = {p: [f for f in fids if country[f] == p[0] and p[1] in outputs[f]] for p in pools}

    def runs_of(f: str, phi: dict[Pool, float], capped: bool) -> float:
        r = weight[f] * max(phi[(country[f], m)] for m in outputs[f])
        return min(capacity(f), r) if capped else r

    def made(pool: Pool, phi: dict[Pool, float], capped: bool) -> float:
        return sum(runs_of(f, phi, capped) * outputs[f][pool[1]] for f in makers[pool])

    result: list[dict[str, float]] = []
    for capped in (True, False):
        phi = dict.fromkeys(pools, 0.0)
        for _ in range(1000):
            changed = False
            for pool in pools:
                need = withdrawals.get(pool, 0.0)
                if made(pool, phi, capped) >= need * (1 - 1e-12):
                    continue
                lo, hi = phi[pool], max(phi[pool], 1e-12)
                trial = dict(phi)
                for _ in range(200):  # grow the bracket (stops at capacity when capped)
                    trial[pool] = hi
                    if made(pool, trial, capped) >= need or hi > 1e12:
                        break
                    hi *= 2
                for _ in range(100):  # bisect
                    trial[pool] = 0.5 * (lo + hi)
                    if made(pool, trial, capped) >= need:
                        hi = trial[pool]
                    else:
                        lo = trial[pool]
                if hi > phi[pool]:
                    phi[pool] = hi
                    changed = True
            if not changed:
                break
        result.append({f: runs_of(f, phi, capped) for f in fids})
    return result[0], result[1]


# ----------------------------------------------------------------------------------- metrics


@dataclass
class V1:
    mine: dict[str, float]
    separation: dict[str, float]
    magnets: dict[str, float]
    cn_magnet_exports: float
    min_fill: float
    worst_sector: str


def _stage_by_country(s: Scenario, production: dict[tuple[str, str], float],
                      stage: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for (fid, _m), t in production.items():
        f = s.facilities[fid]
        if s.recipes[f.recipe].stage == stage:
            out[f.country] += t
    return dict(out)


def analytic_v1(s: Scenario, ss: SteadyState) -> V1:
    exports = sum(t for (o, d, m), t in ss.flows.items()
                  if o == "CN" and d != "CN" and m == "ndfeb_magnet")
    # Served fraction of each final-demand pool's suppliers: delivered / ordered.
    fill, worst = 1.0, "-"
    for did, d in s.demand.items():
        for sup, share in _suppliers(s).get((d.country, d.material), {d.country: 1.0}).items():
            pool = (sup, d.material)
            ordered = ss.withdrawals.get(pool, 0.0)
            got = min(1.0, ss.supply.get(pool, 0.0) / ordered) if ordered > 0 else 1.0
            if share > 0 and got < fill:
                fill, worst = got, did
    return V1(
        mine=_stage_by_country(s, ss.production, s.stages[0]),
        separation=_stage_by_country(s, ss.production, "separation"),
        magnets=_stage_by_country(s, ss.production, "magnet"),
        cn_magnet_exports=exports, min_fill=fill, worst_sector=worst,
    )


def engine_v1(s: Scenario, seed: int = 0):
    """Run one replication; return (V1 from annual averages, result, years)."""
    from simulator.engine import run_replication

    r = run_replication(s, seed=seed)
    horizon = s.horizon_days
    years = horizon / 365.0
    prod = r.production[r.production["day"] < horizon]
    production = {(str(f), str(m)): float(t) / years for (f, m), t in
                  prod.groupby(["facility", "material"], observed=True)["tonnes"].sum().items()}
    fl = r.flows[r.flows["day"] < horizon]
    exports = float(fl[(fl["origin"] == "CN") & (fl["material"] == "ndfeb_magnet")]
                    ["tonnes"].sum()) / years
    ts = r.timeseries[r.timeseries["day"] < horizon]
    g = ts.groupby("demand_id", observed=True)[["demand_t", "delivered_t"]].sum()
    fills = (g["delivered_t"] / g["demand_t"]).fillna(1.0)
    worst = str(fills.idxmin()) if len(fills) else "-"
    v1 = V1(
        mine=_stage_by_country(s, production, s.stages[0]),
        separation=_stage_by_country(s, production, "separation"),
        magnets=_stage_by_country(s, production, "magnet"),
        cn_magnet_exports=exports,
        min_fill=float(fills.min()) if len(fills) else 1.0,
        worst_sector=worst,
    )
    return v1, r, years, production


def v1_checks(v: V1) -> list[tuple[str, str, str, bool]]:
    """Rows (metric, value, target, ok)."""
    rows: list[tuple[str, str, str, bool]] = []
    for c, target in USGS_MINE_2024.items():
        got = v.mine.get(c, 0.0)
        rows.append((f"mine output {c} (t REO)", f"{got:,.0f}",
                     f"{target:,} +-5%", abs(got / target - 1) <= MINE_TOLERANCE))
    world = sum(v.mine.values())
    rows.append(("mine output world (t REO)", f"{world:,.0f}", f"{USGS_WORLD_2024:,} +-5%",
                 abs(world / USGS_WORLD_2024 - 1) <= MINE_TOLERANCE))
    sep_total = sum(v.separation.values())
    sep = v.separation.get("CN", 0.0) / sep_total if sep_total else 0.0
    lo, hi = CN_SEPARATION_SHARE
    rows.append(("China share of separated oxide", f"{sep:.2%}", f"{lo:.0%}-{hi:.0%}",
                 lo - 5e-4 <= sep <= hi + 5e-4))
    mag_total = sum(v.magnets.values())
    mag = v.magnets.get("CN", 0.0) / mag_total if mag_total else 0.0
    centre, tol = CN_MAGNET_SHARE
    rows.append(("China share of NdFeB magnets", f"{mag:.2%}", f"{centre:.0%} +-2 pts",
                 abs(mag - centre) <= tol))
    target, rel = CN_MAGNET_EXPORTS
    rows.append(("China magnet exports (t/yr)", f"{v.cn_magnet_exports:,.0f}",
                 f"{target:,} +-5%", abs(v.cn_magnet_exports / target - 1) <= rel))
    rows.append(("lowest demand fill rate", f"{v.min_fill:.4%} ({v.worst_sector})", "100%",
                 v.min_fill >= 1 - FILL_TOLERANCE))
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(x).rjust(w) if i else str(x).ljust(w)
                             for i, (x, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)


def report(s: Scenario, ss: SteadyState, engine: tuple | None = None) -> tuple[str, bool]:
    """The printed report and whether every V1 check passed."""
    parts: list[str] = []
    a = analytic_v1(s, ss)
    checks = v1_checks(a)
    ok = all(c[3] for c in checks)
    if engine is not None:
        ev1, _result, years, _production = engine
        echecks = v1_checks(ev1)
        ok = ok and all(c[3] for c in echecks)
        rows = [[m, v, ev, t, ("ok" if g and eg else "FAIL")]
                for (m, v, t, g), (_, ev, _, eg) in zip(checks, echecks, strict=True)]
        parts.append(f"V1 calibration table: {s.name} (engine: seed 0, annual averages over "
                     f"{years:.1f} years)")
        parts.append(_table(["metric", "analytic", "engine", "target", ""], rows))
    else:
        parts.append(f"V1 calibration table: {s.name} (analytic steady state)")
        parts.append(_table(["metric", "analytic", "target", ""],
                            [[m, v, t, "ok" if g else "FAIL"] for m, v, t, g in checks]))

    # Separation output by country and China's export destinations.
    sep_total = sum(a.separation.values())
    parts.append("\nSeparated oxide by country (t/yr)")
    parts.append(_table(["country", "t/yr", "share"],
                        [[c, f"{t:,.0f}", f"{t / sep_total:.2%}"] for c, t in
                         sorted(a.separation.items(), key=lambda kv: -kv[1])]))
    mag_total = sum(a.magnets.values())
    parts.append("\nMagnet production by country (t/yr)")
    parts.append(_table(["country", "t/yr", "share"],
                        [[c, f"{t:,.0f}", f"{t / mag_total:.2%}"] for c, t in
                         sorted(a.magnets.items(), key=lambda kv: -kv[1])]))
    dest = sorted(((d, t) for (o, d, m), t in ss.flows.items()
                   if o == "CN" and d != "CN" and m == "ndfeb_magnet"), key=lambda kv: -kv[1])
    parts.append("\nChina's magnet exports by destination (t/yr)")
    parts.append(_table(["destination", "t/yr"], [[d, f"{t:,.0f}"] for d, t in dest]))

    # Pools: supply, withdrawals, surplus.
    rows = []
    for pool in sorted(ss.supply, key=lambda p: (p[1], p[0])):
        sup, wd = ss.supply[pool], ss.withdrawals.get(pool, 0.0)
        rows.append([f"{pool[0]} {pool[1]}", f"{sup:,.1f}", f"{wd:,.1f}", f"{sup - wd:,.1f}"])
    parts.append("\nPools (t/yr): production, orders taken, surplus (co-products piling up)")
    parts.append(_table(["pool", "produced", "ordered", "surplus"], rows))

    # Utilisation.
    rows = []
    over = False
    for fid, f in s.facilities.items():
        cap = f.capacity_tpy
        want = ss.unconstrained_runs.get(fid, 0.0)
        util = want / cap if cap else float("inf") if want > 0 else 0.0
        flag = "OVER CAPACITY" if util > 1 + 1e-9 else ""
        over = over or bool(flag)
        row = [fid, f.country, f"{cap:,.0f}", f"{ss.runs.get(fid, 0.0):,.0f}", f"{util:.1%}"]
        if engine is not None:
            eruns = max((t / coef for (ef, m), t in engine[3].items() if ef == fid
                         for mm, coef in s.recipes[f.recipe].outputs.items() if mm == m),
                        default=0.0)
            row.append(f"{eruns:,.0f}")
        rows.append([*row, flag])
    headers = ["facility", "country", "capacity", "runs/yr", "utilisation"]
    if engine is not None:
        headers.append("engine runs/yr")
    parts.append("\nFacilities: capacity, steady-state runs, utilisation")
    parts.append(_table([*headers, ""], rows))
    ok = ok and not over

    if engine is not None:
        result = engine[1]
        ts = result.timeseries
        short = float(ts["shortfall_t"].sum()) if len(ts) else 0.0
        parts.append(
            f"\nEngine: total shortfall over the horizon {short:,.3f} t; "
            f"SimPy events {result.event_count:,}"
        )
        bal = result.balance.set_index("material")
        try:  # initial holdings as the engine builds them
            from simulator.engine.builder import build_network

            start: dict[str, float] = defaultdict(float)
            for sp in build_network(s).stockpiles:
                start[sp.material] += sp.holdings
            for m, held in sorted(start.items()):
                end_t = float(bal.loc[m, "stockpile_t"])
                released = abs(end_t - held) > 1e-6 * max(1.0, held)
                ok = ok and not released
                parts.append(
                    f"Engine: {m} stockpiles: {held:,.1f} t at the start of the warm-up, "
                    f"{end_t:,.1f} t at the end" + ("  CHANGED" if released else "")
                )
        except Exception as exc:  # pragma: no cover - engine internals may change
            parts.append(f"Engine: stockpile holdings not available ({exc})")
        closed = bool(bal["ok"].all())
        ok = ok and closed
        parts.append(f"Engine: mass balance closes for every material: {closed}")
    parts.append("\nV1: " + ("PASS" if ok else "FAIL"))
    return "\n".join(parts), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    p.add_argument("--engine", action="store_true", help="also run the engine and compare")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    s = load(args.scenario)
    ss = steady_state(s)
    engine = None
    if args.engine:
        v1, result, years, production = engine_v1(s, args.seed)
        engine = (v1, result, years, production)
    text, ok = report(s, ss, engine)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
