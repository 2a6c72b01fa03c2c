"""Uncertain parameters: distributions in place of numbers, located errors, draws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulator.engine import RandomStreams, run_replication
from simulator.scenario import (
    Choice,
    Normal,
    ScenarioError,
    Triangular,
    Uniform,
    dump_scenario_yaml,
    load_scenario,
    load_scenario_text,
    parse_distribution,
    realize,
    scenario_json_schema,
    scenario_sha256,
)
from simulator.scenario.distributions import DISTRIBUTIONS

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "loader_valid.yaml"
VALID_TEXT = VALID.read_text()
TINY = FIXTURES / "tiny.yaml"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "scenario-language.md"
CAPACITY = "facilities.cn_mine.capacity_tpy"


def variant(*edits: tuple[str, str]) -> str:
    """The valid fixture's text with each ``old`` (which must occur once) replaced by ``new``."""
    text = VALID_TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return [str(p) for p in info.value.problems]


def draws(dist, n: int, seed: int = 1) -> np.ndarray:
    gen = np.random.default_rng(seed)
    return np.array([dist.draw(gen) for _ in range(n)])


# --------------------------------------------------------------------------- distributions


def test_central_values_and_bounds() -> None:
    assert Triangular(triangular=(1, 2, 6)).central() == 2
    assert Triangular(triangular=(1, 2, 6)).bounds() == (1, 6)
    assert Uniform(uniform=(10, 20)).central() == 15
    assert Uniform(uniform=(10, 20)).bounds() == (10, 20)
    assert Normal(normal=(100, 5)).central() == 100
    assert Normal(normal=(100, 5)).bounds() == (80, 120)
    assert Choice(choice=(7, 1, 3)).central() == 3
    assert Choice(choice=(4, 1, 3, 2)).central() == 2.5
    assert Choice(choice=(4, 1, 3, 2)).bounds() == (1, 4)


@pytest.mark.parametrize("dist", [
    Triangular(triangular=(1, 2, 6)), Triangular(triangular=(1, 1, 6)),
    Triangular(triangular=(3, 3, 3)), Uniform(uniform=(-2, 5)), Normal(normal=(10, 3)),
    Normal(normal=(10, 0)), Choice(choice=(5, 1, 3)),
], ids=lambda d: d.describe())
def test_draws_stay_within_bounds(dist) -> None:
    low, high = dist.bounds()
    values = draws(dist, 2000)
    assert values.min() >= low and values.max() <= high
    assert dist.quantile(0.0) == low and dist.quantile(1.0) == high
    assert all(dist.quantile(a) <= dist.quantile(b) for a, b in [(0.1, 0.2), (0.4, 0.9)])


def test_normal_draws_are_clipped_to_four_sd() -> None:
    dist = Normal(normal=(0, 1))
    assert dist.quantile(1e-12) == -4 and dist.quantile(1 - 1e-12) == 4
    assert dist.quantile(0.5) == pytest.approx(0)


def test_choice_values_are_equally_likely() -> None:
    values = draws(Choice(choice=(3, 1, 2)), 3000)
    counts = [int((values == v).sum()) for v in (1, 2, 3)]
    assert sum(counts) == 3000
    assert all(abs(c - 1000) < 5 * math.sqrt(3000 * (1 / 3) * (2 / 3)) for c in counts)


def test_triangular_sample_mean_within_three_standard_errors() -> None:
    a, m, b = 1000.0, 1500.0, 4000.0
    values = draws(Triangular(triangular=(a, m, b)), 200, seed=20240101)
    mean = (a + m + b) / 3
    sd = math.sqrt((a * a + m * m + b * b - a * m - a * b - m * b) / 18)
    assert abs(values.mean() - mean) < 3 * sd / math.sqrt(200)
    assert values.std() == pytest.approx(sd, rel=0.2)


@pytest.mark.parametrize(("data", "message"), [
    ({"triangular": [5, 1, 3]}, "invalid triangular [5, 1, 3]: low 5 is above high 3"),
    ({"triangular": [1, 4, 3]}, "invalid triangular [1, 4, 3]: mode 4 is not between low 1 "
                                "and high 3"),
    ({"uniform": [2, 1]}, "invalid uniform [2, 1]: low 2 is above high 1"),
    ({"normal": [1, -0.5]}, "invalid normal [1, -0.5]: sd -0.5 is negative"),
    ({"choice": []}, "choice takes at least one value [v1, v2, ...]"),
    ({"uniform": [1, 2, 3]}, "uniform takes 2 numbers [low, high], not 3"),
    ({"normal": 5}, "normal takes a list [mean, sd], not a number"),
    ({"uniform": [1, "x"]}, "uniform value 'x' is not a number"),
    ({"uniform": [1, True]}, "uniform value True is not a number"),
    ({"uniform": [1, math.inf]}, "uniform value inf is not a finite number"),
    ({"triangel": [1, 2, 3]}, "unknown distribution 'triangel' (did you mean 'triangular'?); "
                              "expected one of triangular, uniform, normal, choice"),
    ({"uniform": [1, 2], "normal": [1, 2]}, "expected a distribution (a mapping with one key: "
     "triangular, uniform, normal or choice), not a mapping with keys 'uniform', 'normal'"),
])
def test_invalid_distribution_messages(data, message) -> None:
    with pytest.raises(ValueError) as info:
        parse_distribution(data)
    assert str(info.value) == message


def test_parse_distribution() -> None:
    assert parse_distribution({"uniform": [1, 2]}) == Uniform(uniform=(1, 2))
    assert parse_distribution({"choice": [3]}).to_data() == {"choice": [3.0]}


# ---------------------------------------------------------------------------------- loading


def test_inline_distribution_loads_at_its_central_value(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    capacity_tpy: 1000",
                                 "    capacity_tpy: {triangular: [1000, 2000, 3000]}")))
    s = load_scenario(f)
    assert s.facilities["cn_mine"].capacity_tpy == 2000
    assert s.uncertainty == {CAPACITY: Triangular(triangular=(1000, 2000, 3000))}


def test_block_style_and_override_distributions() -> None:
    text = variant(("    capacity_tpy: 1000", "    capacity_tpy:\n      uniform: [500, 1500]"))
    s = load_scenario_text(text, overrides=["demand.jp_magnets.rate_tpy={normal: [500, 50]}"])
    assert s.uncertainty == {CAPACITY: Uniform(uniform=(500, 1500)),
                             "demand.jp_magnets.rate_tpy": Normal(normal=(500, 50))}
    assert s.demand["jp_magnets"].rate_tpy == 500


def test_int_field_central_value_is_rounded() -> None:
    s = load_scenario(VALID, ["lead_times.default_days={uniform: [10, 21]}"])
    assert s.lead_times.default_days == 16 and isinstance(s.lead_times.default_days, int)


def test_without_distributions_nothing_changes() -> None:
    s = load_scenario(VALID)
    assert s.uncertainty == {}
    assert "uncertainty" not in dump_scenario_yaml(s)


def test_invalid_distribution_is_located_at_the_distribution(tmp_path: Path) -> None:
    f = write(tmp_path, variant(
        ("    capacity_tpy: 1000", "    capacity_tpy: {triangular: [3000, 1000, 2000]}"),
        ("    rate_tpy: 500", "    rate_tpy: {uniform: [1, x]}"),
        ("  domestic_days: 5", "  domestic_days: {triangle: [1, 2, 3]}"),
    ))
    assert problems_of(f) == [
        f"{f}:28:20: facilities.cn_mine.capacity_tpy: invalid triangular [3000, 1000, 2000]: "
        "low 3000 is above high 2000",
        f"{f}:39:29: demand.jp_magnets.rate_tpy: uniform value 'x' is not a number",
        f"{f}:46:19: lead_times.domestic_days: unknown distribution 'triangle' "
        "(did you mean 'triangular'?); expected one of triangular, uniform, normal, choice",
    ]


def test_bound_violating_a_constraint_is_located(tmp_path: Path) -> None:
    f = write(tmp_path, variant(
        ("    capacity_tpy: 900", "    capacity_tpy: {triangular: [-5, 1, 3]}"),
        ("    rate_tpy: 500", "    rate_tpy: {normal: [100, 30]}"),
        ("  domestic_days: 5", "  domestic_days: {uniform: [-0.4, 5]}"),
    ))
    assert problems_of(f) == [
        f"{f}:32:20: facilities.cn_refinery.capacity_tpy: lower bound -5 of triangular "
        "[-5, 1, 3]: Input should be greater than or equal to 0",
        f"{f}:39:16: demand.jp_magnets.rate_tpy: lower bound -20 (mean - 4 sd) of normal "
        "[100, 30]: Input should be greater than or equal to 0",
    ]  # the int field's bounds are rounded: -0.4 days gives 0, which is fine
    g = write(tmp_path, variant(("  step_days: 7", "  step_days: {choice: [7, 14, 100]}")),
              "g.yaml")
    assert problems_of(g) == [
        f"{g}:7:15: simulation.step_days: upper bound 100 of choice [7, 14, 100]: "
        "Input should be less than or equal to 91"
    ]


def test_invalid_central_value_is_reported_as_such(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    capacity_tpy: 900",
                                 "    capacity_tpy: {triangular: [-5, -1, 3]}")))
    assert problems_of(f) == [
        f"{f}:32:20: facilities.cn_refinery.capacity_tpy: central value -1 of triangular "
        "[-5, -1, 3]: Input should be greater than or equal to 0"
    ]


def test_distribution_where_no_number_is_expected(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    recipe: refinery",
                                 "    recipe: {uniform: [1, 2]}")))
    assert problems_of(f) == [
        f"{f}:31:14: facilities.cn_refinery.recipe: a uniform distribution is not allowed "
        "here: only numbers and dates can be uncertain"
    ]
    h = write(tmp_path, variant(("    start_date: 2025-03-01",
                                 "    start_date: {uniform: [1, 2]}")), "h.yaml")
    assert problems_of(h) == [
        f"{h}:33:28: facilities.cn_refinery.start_date: uniform value 1 is not a date",
        f"{h}:33:31: facilities.cn_refinery.start_date: uniform value 2 is not a date",
    ]
    g = write(tmp_path, variant(("    capacity_tpy: 1000", "    capacity_tpy: {a: 1, b: 2}")),
              "g.yaml")
    assert problems_of(g) == [
        f"{g}:28:5: facilities.cn_mine.capacity_tpy: expected a number or a distribution (a "
        "mapping with one key: triangular, uniform, normal or choice), not a mapping with keys "
        "'a', 'b'"
    ]


# ------------------------------------------------------------------------ the uncertainty map


def test_explicit_uncertainty_map(tmp_path: Path) -> None:
    f = write(tmp_path, VALID_TEXT + "uncertainty:\n"
              f"  {CAPACITY}: {{uniform: [0, 2000]}}\n"
              "  facilities.cn_mine.ramp_up_days: {choice: [0, 10, 30]}\n")
    s = load_scenario(f)
    assert s.uncertainty == {CAPACITY: Uniform(uniform=(0, 2000)),
                             "facilities.cn_mine.ramp_up_days": Choice(choice=(0, 10, 30))}
    assert s.facilities["cn_mine"].ramp_up_days == 10  # not written: takes the central value


def test_unknown_uncertainty_paths(tmp_path: Path) -> None:
    f = write(tmp_path, VALID_TEXT + "uncertainty:\n"
              "  facilities.cn_mine.capacty_tpy: {uniform: [0, 2000]}\n"
              "  facilities.cn_mines.capacity_tpy: {uniform: [0, 2000]}\n"
              "  facilities.cn_mine.country: {uniform: [0, 2000]}\n"
              "  nope: {uniform: [0, 2000]}\n")
    assert problems_of(f) == [
        f"{f}:50:3: uncertainty.facilities.cn_mine.capacty_tpy: unknown parameter "
        "'facilities.cn_mine.capacty_tpy': no 'capacty_tpy' in facilities.cn_mine "
        "(did you mean 'capacity_tpy'?)",
        f"{f}:51:3: uncertainty.facilities.cn_mines.capacity_tpy: unknown parameter "
        "'facilities.cn_mines.capacity_tpy': no 'cn_mines' in facilities "
        "(did you mean 'cn_mine'?)",
        f"{f}:52:3: uncertainty.facilities.cn_mine.country: facilities.cn_mine.country is not "
        "a numeric parameter or a date (it is a string); only numbers and dates can be "
        "uncertain",
        f"{f}:53:3: uncertainty.nope: unknown parameter 'nope': no 'nope' at the top level",
    ]


def test_explicit_entry_conflicting_with_the_written_value(tmp_path: Path) -> None:
    f = write(tmp_path, VALID_TEXT + f"uncertainty:\n  {CAPACITY}: {{uniform: [0, 3000]}}\n")
    assert problems_of(f) == [
        f"{f}:28:5: {CAPACITY}: value 1000 differs from the central value 1500 of its "
        "uncertainty entry uniform [0, 3000]; write the distribution in place of the value, "
        f"or set uncertainty.{CAPACITY} to null"
    ]
    assert problems_of(f, (f"{CAPACITY}={{uniform: [0, 2000]}}",)) == [
        f"{f}:50:37: uncertainty.{CAPACITY}: uniform [0, 3000] conflicts with the "
        f"distribution uniform [0, 2000] written at {CAPACITY}"
    ]
    assert load_scenario(f, (f"{CAPACITY}={{uniform: [0, 3000]}}",)).uncertainty == {
        CAPACITY: Uniform(uniform=(0, 3000))}


def test_null_entry_drops_an_inherited_distribution(tmp_path: Path) -> None:
    parent = write(tmp_path, dump_scenario_yaml(
        load_scenario(VALID, [f"{CAPACITY}={{uniform: [0, 2000]}}"])), "parent.yaml")
    child = write(tmp_path, f"extends: {parent.name}\nuncertainty:\n  {CAPACITY}: null\n")
    s = load_scenario(child)
    assert s.uncertainty == {} and s.facilities["cn_mine"].capacity_tpy == 1000


def test_dump_and_reload_round_trip(tmp_path: Path) -> None:
    s = load_scenario(VALID, [f"{CAPACITY}={{triangular: [500, 1000.5, 1500]}}",
                              "lead_times.default_days={choice: [14, 21, 28, 35]}",
                              "demand.jp_magnets.growth_pa={normal: [0.05, 0.01]}"])
    text = dump_scenario_yaml(s)
    assert "uncertainty:" in text
    again = load_scenario(write(tmp_path, text))
    assert again == s
    assert again.lead_times.default_days == 24  # median 24.5 rounded to even
    assert scenario_sha256(again) == scenario_sha256(s)
    assert scenario_sha256(s) != scenario_sha256(load_scenario(VALID))


# ----------------------------------------------------------------------------------- realize


def test_realize_draws_per_replication_within_bounds() -> None:
    s = load_scenario(VALID, [f"{CAPACITY}={{triangular: [1000, 2000, 3000]}}",
                              "demand.jp_magnets.rate_tpy={uniform: [400, 600]}"])
    r0 = realize(s, RandomStreams(1, 0).get)
    r1 = realize(s, RandomStreams(1, 1).get)
    again = realize(s, RandomStreams(1, 0).get)
    assert r0 == again
    assert r0.uncertainty == {} and s.uncertainty  # pure: the input keeps its uncertainty
    caps = [r.facilities["cn_mine"].capacity_tpy for r in (r0, r1)]
    rates = [r.demand["jp_magnets"].rate_tpy for r in (r0, r1)]
    assert caps[0] != caps[1] and rates[0] != rates[1]
    assert all(1000 <= c <= 3000 for c in caps) and all(400 <= r <= 600 for r in rates)
    gen = RandomStreams(1, 0).get(f"param:{CAPACITY}")  # its own named stream
    assert caps[0] == s.uncertainty[CAPACITY].draw(gen)


def test_realize_common_random_numbers_across_scenarios() -> None:
    a = load_scenario(VALID, [f"{CAPACITY}={{uniform: [0, 1000]}}"])
    b = load_scenario(VALID, [f"{CAPACITY}={{uniform: [0, 1000]}}",
                              "demand.jp_magnets.rate_tpy={uniform: [400, 600]}",
                              "facilities.cn_refinery.capacity_tpy=800"])
    c = load_scenario(VALID, [f"{CAPACITY}={{uniform: [1000, 2000]}}"])
    for rep in range(3):
        xa, xb, xc = (realize(s, RandomStreams(7, rep).get).facilities["cn_mine"].capacity_tpy
                      for s in (a, b, c))
        assert xa == xb  # same parameter, same numbers, whatever else the scenario has
        assert xc == pytest.approx(xa + 1000)  # same quantile of a shifted distribution


def test_realize_int_field_gives_ints() -> None:
    s = load_scenario(VALID, ["lead_times.default_days={uniform: [10, 20]}"])
    values = {realize(s, RandomStreams(3, rep).get).lead_times.default_days for rep in range(40)}
    assert all(isinstance(v, int) and 10 <= v <= 20 for v in values)
    assert len(values) > 3


def test_realize_without_uncertainty_returns_the_same_object() -> None:
    s = load_scenario(VALID)
    assert realize(s, RandomStreams(0, 0).get) is s


def test_realize_unknown_path_is_a_value_error() -> None:
    s = load_scenario(VALID)
    bad = s.model_copy(update={"uncertainty": {"facilities.xx.capacity_tpy":
                                               Uniform(uniform=(1, 2))}})
    with pytest.raises(ValueError, match=r"'facilities\.xx\.capacity_tpy' is not in the scenario"):
        realize(bad, RandomStreams(0, 0).get)


# ------------------------------------------------------------------------------------ engine


def test_run_replication_draws_uncertain_demand() -> None:
    s = load_scenario(TINY, ["demand.jp_ev.rate_tpy={triangular: [600, 1000, 1400]}"])
    r0, r1, r0_again = (run_replication(s, seed=0, replication=r) for r in (0, 1, 0))
    assert r0.timeseries.equals(r0_again.timeseries)
    assert not r0.timeseries.equals(r1.timeseries)
    totals = [r.timeseries.demand_t.sum() for r in (r0, r1)]
    years = s.horizon_days / 365
    assert all(600 * years * 0.99 <= t <= 1400 * years * 1.01 for t in totals)
    fixed = run_replication(load_scenario(TINY), seed=0, replication=0)
    assert fixed.timeseries.demand_t.sum() == pytest.approx(1000 * years, rel=0.02)


# ------------------------------------------------------------------------------ schema, docs


def test_json_schema_accepts_distributions_for_numbers() -> None:
    schema = scenario_json_schema()
    cap = schema["$defs"]["Facility"]["properties"]["capacity_tpy"]
    assert cap["anyOf"] == [{"maximum": 1e9, "minimum": 0, "type": "number"},
                          {"$ref": "#/$defs/Distribution"}]
    assert cap["title"] == "Capacity Tpy"
    assert {"$ref": "#/$defs/Triangular"} in schema["$defs"]["Distribution"]["anyOf"]
    assert schema["properties"]["uncertainty"]["additionalProperties"] == {
        "$ref": "#/$defs/Distribution"}
    assert schema["$defs"]["Triangular"]["properties"]["triangular"]["prefixItems"] == [
        {"type": "number"}] * 3


@pytest.mark.parametrize("cls", list(DISTRIBUTIONS.values()), ids=lambda c: c.__name__)
def test_distribution_fields_are_documented(cls) -> None:
    text = DOCS.read_text()
    assert f"| `{cls.kind}` |" in text
    assert all(f"| `{name}` |" in text for name in cls.model_fields)
