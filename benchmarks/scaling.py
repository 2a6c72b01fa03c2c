"""Scaling: synthetic networks of 10, 100 and 1,000 facilities over 1, 10 and 30 years.

A synthetic network has four stages (mine, separation, metal, magnet), its facilities spread
evenly over the stages and round-robin over ``max(2, n / 10)`` countries. Every country that
uses a material sources it from up to three producing countries (equal shares), every
country has one magnet demand sector, and capacity is about 10% above demand at each stage.
The fitted exponent is the slope of log(wall time) against log(engine events) by least
squares: 1.0 means the cost per event does not grow with the size of the network or the
horizon.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.engine import run_replication
from simulator.scenario.checks import check_scenario
from simulator.scenario.countries import ISO_ALPHA2, USER_ASSIGNED
from simulator.scenario.models import Scenario

from .common import median_time, say, section

STAGES = ["mine", "separation", "metal", "magnet"]
MATERIALS = {"mine": "ore", "separation": "oxide", "metal": "metal", "magnet": "magnet"}
COEF = {"separation": ("ore", 1.0, "oxide", 0.9), "metal": ("oxide", 1.0, "metal", 0.95),
        "magnet": ("metal", 0.3, "magnet", 1.0)}
SIZES = (10, 100, 1000)
YEARS = (1, 10, 30)


CODES = sorted({*ISO_ALPHA2, *USER_ASSIGNED})


def _code(i: int) -> str:
    """The i-th valid two-letter country code."""
    return CODES[i]


def synthetic(n_facilities: int, years: int) -> Scenario:
    """A valid scenario with ``n_facilities`` facilities simulated for ``years`` years."""
    k = max(2, math.ceil(n_facilities / 10))
    countries = [_code(i) for i in range(k)]
    demand_tpy = 1000.0 * k
    # capacity per stage (t of its output per year), about 10% above what is needed
    need = {"magnet": demand_tpy * 1.1}
    need["metal"] = need["magnet"] * 0.3 * 1.1 / 1.0
    need["separation"] = need["metal"] / 0.95 * 1.1
    need["mine"] = need["separation"] / 0.9 * 1.1
    per_stage = [n_facilities // 4 + (1 if i < n_facilities % 4 else 0) for i in range(4)]
    recipes = {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}}
    for stage, (inp, ci, out, co) in COEF.items():
        recipes[stage] = {"stage": stage, "inputs": {inp: ci}, "outputs": {out: co}}
    facilities = {}
    producers: dict[str, list[str]] = {m: [] for m in MATERIALS.values()}
    j = 0
    for stage, count in zip(STAGES, per_stage, strict=True):
        recipe = "mining" if stage == "mine" else stage
        out_coef = 1.0 if stage == "mine" else COEF[stage][3]
        for i in range(count):
            country = countries[j % k]
            j += 1
            facilities[f"{stage}_{i}"] = {"country": country, "recipe": recipe,
                                          "capacity_tpy": need[stage] / out_coef / count}
            if country not in producers[MATERIALS[stage]]:
                producers[MATERIALS[stage]].append(country)
    sourcing = {}
    for stage in STAGES[1:]:
        material = COEF[stage][0]
        users = sorted({f["country"] for f in facilities.values() if f["recipe"] == stage})
        for c, country in enumerate(users):
            prod = producers[material]
            suppliers = [prod[(c + i) % len(prod)] for i in range(min(3, len(prod)))]
            sourcing[f"{country}_{material}"] = {
                "country": country, "material": material,
                "suppliers": {s: round(1.0 / len(suppliers), 6) for s in suppliers}}
    magnet_producers = producers["magnet"]
    for c, country in enumerate(countries):
        suppliers = [magnet_producers[(c + i) % len(magnet_producers)]
                     for i in range(min(3, len(magnet_producers)))]
        sourcing[f"{country}_magnet"] = {
            "country": country, "material": "magnet",
            "suppliers": {s: round(1.0 / len(suppliers), 6) for s in suppliers}}
    for entry in sourcing.values():  # shares must sum to 1 exactly
        sup = entry["suppliers"]
        first = next(iter(sup))
        sup[first] = round(1.0 - sum(v for s, v in sup.items() if s != first), 6)
    data = {
        "name": f"synthetic_{n_facilities}_{years}y",
        "start_date": "2025-01-01",
        "end_date": f"{2025 + years}-01-01",
        "simulation": {"step_days": 7, "warmup_days": 182},
        "stages": STAGES,
        "countries": {c: {"name": c} for c in countries},
        "materials": {m: {"stage": s} for s, m in MATERIALS.items()},
        "recipes": recipes,
        "facilities": facilities,
        "demand": {f"{c}_ev": {"country": c, "sector": "ev", "material": "magnet",
                               "rate_tpy": demand_tpy / k, "cover_days": 30}
                   for c in countries},
        "sourcing": sourcing,
        "lead_times": {"domestic_days": 7, "default_days": 28},
    }
    s = Scenario.model_validate(data)
    problems = check_scenario(s)
    if problems:
        raise ValueError(problems)
    return s


def fit_exponent(events: list[int], walls: list[float]) -> float:
    """Slope of log(wall) on log(events), least squares."""
    slope, _ = np.polyfit(np.log(events), np.log(walls), 1)
    return float(slope)


def run(repeats: int, grid: list[tuple[int, int]] | None = None) -> dict:
    """Time every (facilities, years) of ``grid`` (default: every size x every horizon)."""
    grid = grid or [(n, y) for n in SIZES for y in YEARS]
    section("4. Scaling: synthetic networks, wall time against engine events")
    say(f"  {'facilities':>10} {'years':>6} {'events':>12} {'wall (s)':>10} {'events/s':>12}")
    rows = []
    for n, y in grid:
        s = synthetic(n, y)
        reps = repeats if n * y <= 1000 else 1
        wall, result = median_time(lambda s=s: run_replication(s), reps)
        rows.append({"facilities": n, "years": y, "events": result.event_count, "wall_s": wall})
        say(f"  {n:>10} {y:>6} {result.event_count:>12,} {wall:>10.3f} "
            f"{result.event_count / wall:>12,.0f}")
    exponent = fit_exponent([r["events"] for r in rows], [r["wall_s"] for r in rows])
    say(f"  fitted exponent of wall time vs events (log-log least squares): {exponent:.3f}")
    return {"rows": rows, "exponent": exponent}
