"""Scenario loading: YAML 1.2, extends, --set overrides and located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.scenario import (
    Scenario,
    ScenarioError,
    ScenarioFileNotFound,
    dump_scenario_yaml,
    load_scenario,
    load_scenario_text,
    resolve_scenario_data,
    scenario_json_schema,
    scenario_sha256,
)

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "loader_valid.yaml"
VALID_TEXT = VALID.read_text()


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


# ------------------------------------------------------------------------------- valid files


def test_valid_fixture_loads() -> None:
    s = load_scenario(VALID)
    assert isinstance(s, Scenario)
    assert s.name == "loader_valid"
    assert s.start_date == dt.date(2025, 1, 1)
    assert s.horizon_days == 365
    assert list(s.countries) == ["CN", "JP"]
    assert s.recipes["mine"].outputs == {"ore": 1.0}
    assert s.recipes["refinery"].inputs == {"ore": 1.0}
    assert s.recipes["refinery"].outputs == {"oxide": 0.9}
    assert s.facilities["cn_mine"].capacity_tpy == 1000.0
    assert s.facilities["cn_refinery"].start_date == dt.date(2025, 3, 1)
    assert s.demand["jp_magnets"].rate_tpy == 500.0
    assert s.sourcing["jp_oxide"].suppliers == {"CN": 1.0}
    assert s.lead_time_days("JP", "CN") == 21
    assert s.lead_time_days("CN", "CN") == 5


def test_norway_key_stays_a_string(tmp_path: Path) -> None:
    text = variant(("  JP: {name: Japan}\n", "  JP: {name: Japan}\n  NO: {name: Norway}\n"))
    s = load_scenario(write(tmp_path, text))
    assert s.countries["NO"].name == "Norway"
    data = resolve_scenario_data(write(tmp_path, text))
    assert "NO" in data["countries"]
    assert data["start_date"] == "2025-01-01"


def test_yes_no_values_stay_strings() -> None:
    s = load_scenario_text(variant(("description: Two countries, one ore, one oxide.",
                                    "description: no")))
    assert s.description == "no"


def test_load_scenario_text_resolves_extends_from_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    s = load_scenario_text("extends: loader_valid.yaml\nname: from_text\n", name="nb")
    assert s.name == "from_text"
    assert s.facilities["cn_mine"].capacity_tpy == 1000.0


# ---------------------------------------------------------------------- validation problems


def test_typo_key_is_located_with_did_you_mean(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    capacity_tpy: 1000", "    capacty_tpy: 1000")))
    assert problems_of(f) == [
        f"{f}:28:5: facilities.cn_mine.capacty_tpy: unknown key 'capacty_tpy' "
        "(did you mean 'capacity_tpy'?)"
    ]


def test_unknown_top_level_key_without_suggestion(tmp_path: Path) -> None:
    f = write(tmp_path, VALID_TEXT + "zzz_extra: 1\n")
    assert problems_of(f) == [f"{f}:49:1: zzz_extra: unknown key 'zzz_extra'"]


def test_negative_capacity(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    capacity_tpy: 900", "    capacity_tpy: -900")))
    assert problems_of(f) == [
        f"{f}:32:5: facilities.cn_refinery.capacity_tpy: "
        "Input should be greater than or equal to 0"
    ]


def test_missing_required_key_is_located_at_parent_mapping(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    recipe: mine\n", "")))
    assert problems_of(f) == [
        f"{f}:25:3: facilities.cn_mine.recipe: missing required key 'recipe'"
    ]


def test_wrong_container_types(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("stages: [mine, refining]", "stages: mine"),
                                ("  CN: {name: China}", "  CN: [China]")))
    assert problems_of(f) == [
        f"{f}:9:1: stages: expected a list, not a string",
        f"{f}:11:3: countries.CN: expected a mapping, not a list",
    ]


def test_invalid_collection_key(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("  JP: {name: Japan}", "  Japan: {name: Japan}")))
    assert problems_of(f) == [
        f"{f}:12:3: countries.Japan: invalid key 'Japan': "
        "String should match pattern '^[A-Z]{2}$'"
    ]


def test_shares_not_summing_to_one(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    suppliers: {CN: 1.0}", "    suppliers: {CN: 0.7}")))
    assert problems_of(f) == [f"{f}:44:5: sourcing.jp_oxide.suppliers: shares sum to 0.7, not 1"]


def test_unknown_country_with_did_you_mean(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    country: JP\n    sector", "    country: JX\n    sector")))
    assert problems_of(f) == [
        f"{f}:36:5: demand.jp_magnets.country: unknown country 'JX' (did you mean 'JP'?)",
        f"{f}:38:5: demand.jp_magnets.material: JX consumes 'oxide' but no sourcing entry "
        "covers (JX, oxide) and JX produces none",
    ]


def test_recipe_naming_unknown_material(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("outputs: {oxide: 0.9}", "outputs: {oxyde: 0.9}")))
    assert problems_of(f) == [
        f"{f}:23:15: recipes.refinery.outputs.oxyde: unknown material 'oxyde' "
        "(did you mean 'oxide'?)",
        f"{f}:44:17: sourcing.jp_oxide.suppliers.CN: CN has no facility producing 'oxide'",
    ]


def test_facility_start_after_end_date(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    start_date: 2025-03-01", "    start_date: 2026-03-01")))
    assert problems_of(f) == [
        f"{f}:33:5: facilities.cn_refinery.start_date: "
        "date 2026-03-01 is outside the horizon (end_date 2026-01-01)"
    ]


def test_impossible_date_is_located(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    start_date: 2025-03-01", "    start_date: 2025-02-30")))
    assert problems_of(f) == [
        f"{f}:33:17: facilities.cn_refinery.start_date: invalid !!timestamp value "
        "'2025-02-30': day is out of range for month"
    ]


def test_several_problems_are_reported_at_once_sorted(tmp_path: Path) -> None:
    f = write(tmp_path, variant(
        ("  step_days: 7", "  step_days: 0"),
        ("    capacity_tpy: 1000", "    capacity_tpy: lots"),
        ("    rate_tpy: 500", "    rate_tpy: 500\n    xyzzy: red"),
    ))
    assert problems_of(f) == [
        f"{f}:7:3: simulation.step_days: Input should be greater than or equal to 1",
        f"{f}:28:5: facilities.cn_mine.capacity_tpy: "
        "Input should be a valid number, unable to parse string as a number",
        f"{f}:40:5: demand.jp_magnets.xyzzy: unknown key 'xyzzy'",
    ]


# ------------------------------------------------------------------------ YAML-level problems


def test_invalid_yaml_reports_parser_position(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("stages: [mine, refining]", "stages: [mine, refining")))
    assert problems_of(f) == [
        f"{f}:10:10: <root>: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at 9:9)"
    ]


def test_duplicate_keys_are_all_located(tmp_path: Path) -> None:
    f = write(tmp_path, variant(("    capacity_tpy: 900", "    capacity_tpy: 900\n    recipe: x"),
                                ("  domestic_days: 5", "  domestic_days: 5\n  domestic_days: 6")))
    assert problems_of(f) == [
        f"{f}:33:5: facilities.cn_refinery.recipe: "
        "duplicate key 'recipe' (first defined at line 31)",
        f"{f}:48:3: lead_times.domestic_days: "
        "duplicate key 'domestic_days' (first defined at line 47)",
    ]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    f = write(tmp_path, "# a list\n- a\n- b\n")
    assert problems_of(f) == [
        f"{f}:2:1: <root>: the top level of a scenario must be a mapping, not a list"
    ]
    g = write(tmp_path, "", "empty.yaml")
    assert problems_of(g) == [
        f"{g}:1:1: <root>: the scenario is empty; expected a mapping of keys to values"
    ]


def test_python_tags_are_refused_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = write(tmp_path, variant(
        ("description: Two countries, one ore, one oxide.",
         f"description: !!python/object/apply:os.system ['touch {marker}']"),
        ("    recipe: mine\n", "    recipe: !!python/name:os.system\n"),
        ("  ore: {stage: mine}", "  ore: !custom {stage: mine}"),
    ))
    assert problems_of(f) == [
        f"{f}:3:14: description: YAML tag !!python/object/apply:os.system is not allowed",
        f"{f}:14:8: materials.ore: YAML tag !custom is not allowed",
        f"{f}:27:13: facilities.cn_mine.recipe: YAML tag !!python/name:os.system is not allowed",
    ]
    assert not marker.exists()


def test_explicit_str_tag_is_accepted() -> None:
    s = load_scenario_text(variant(("description: Two countries, one ore, one oxide.",
                                    "description: !!str 2024")))
    assert s.description == "2024"


def test_yaml_1_1_directive_is_refused(tmp_path: Path) -> None:
    f = write(tmp_path, "%YAML 1.1\n---\n" + VALID_TEXT)
    assert problems_of(f) == [f"{f}:1:1: <root>: only YAML 1.2 is supported, not 1.1"]


# ------------------------------------------------------------------------------ missing files


def test_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioFileNotFound) as info:
        load_scenario(f)
    assert info.value.exit_code == 66
    assert [str(p) for p in info.value.problems] == [
        f"{f}: no such file"
    ]


def test_missing_extended_file_is_located_at_extends_key() -> None:
    f = FIXTURES / "loader_missing_parent.yaml"
    with pytest.raises(ScenarioFileNotFound) as info:
        load_scenario(f)
    assert info.value.exit_code == 66
    assert [str(p) for p in info.value.problems] == [
        f"{f}:2:1: extends: extended scenario file not found: "
        f"{FIXTURES / 'loader_does_not_exist.yaml'}"
    ]


def test_scenario_error_exit_code() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text("name: [x]\n")
    assert info.value.exit_code == 65
    assert not isinstance(info.value, ScenarioFileNotFound)


# ------------------------------------------------------------------------------------ extends


def test_extends_deep_merges_maps_and_replaces_lists() -> None:
    s = load_scenario(FIXTURES / "loader_child.yaml")
    assert s.name == "loader_child"
    assert s.stages == ["mine", "refining", "magnet"]  # replaced, not appended
    cn_mine = s.facilities["cn_mine"]
    assert (cn_mine.country, cn_mine.recipe, cn_mine.capacity_tpy) == ("CN", "mine", 2500.0)
    assert s.facilities["cn_refinery"].capacity_tpy == 900.0  # untouched parent entry
    assert s.lead_times.lanes == {"CN": {"JP": 14}}
    assert s.lead_times.domestic_days == 5  # kept from the parent
    data = resolve_scenario_data(FIXTURES / "loader_child.yaml")
    assert "extends" not in data


def test_extends_chain() -> None:
    s = load_scenario(FIXTURES / "loader_grandchild.yaml")
    assert s.name == "loader_child"
    assert s.description == "Third level of the chain."
    assert list(s.countries) == ["CN", "JP", "NO"]
    assert s.facilities["cn_mine"].capacity_tpy == 2500.0


def test_extends_positions_point_into_the_defining_file(tmp_path: Path) -> None:
    child = write(tmp_path, f"extends: {VALID}\nfacilities:\n  cn_mine:\n    capacity_tpy: -1\n")
    assert problems_of(child) == [
        f"{child}:4:5: facilities.cn_mine.capacity_tpy: Input should be greater than or equal to 0"
    ]
    child = write(tmp_path, f"extends: {VALID}\nstages: [mine]\n")
    assert problems_of(child) == [
        f"{VALID}:15:11: materials.oxide.stage: unknown stage 'refining'",
        f"{VALID}:21:5: recipes.refinery.stage: unknown stage 'refining'",
    ]


def test_extends_relative_path_is_displayed_relative(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, VALID_TEXT.replace("capacity_tpy: 900", "capacity_tpy: -2"), "sub/base.yaml")
    write(tmp_path, "extends: sub/base.yaml\n", "child.yaml")
    problems = problems_of(tmp_path / "child.yaml")
    assert problems == [
        f"{tmp_path / 'sub' / 'base.yaml'}:32:5: facilities.cn_refinery.capacity_tpy: "
        "Input should be greater than or equal to 0"
    ]


def test_extends_cycle() -> None:
    a, b = FIXTURES / "loader_cycle_a.yaml", FIXTURES / "loader_cycle_b.yaml"
    assert problems_of(a) == [f"{b}:1:1: extends: extends cycle: {a} -> {b} -> {a}"]


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    f = write(tmp_path, "extends: [a.yaml]\nname: x\n")
    assert problems_of(f) == [f"{f}:1:1: extends: extends must name a scenario file, not a list"]


# ---------------------------------------------------------------------------------- overrides


def test_set_existing_path() -> None:
    s = load_scenario(VALID, ["facilities.cn_mine.capacity_tpy=1500",
                              "end_date=2027-01-01", "stages=[mine, refining, magnet]"])
    assert s.facilities["cn_mine"].capacity_tpy == 1500.0
    assert s.end_date == dt.date(2027, 1, 1)
    assert s.stages == ["mine", "refining", "magnet"]


def test_set_new_collection_key_and_missing_section() -> None:
    s = load_scenario(VALID, [
        "facilities.jp_mine={country: JP, recipe: mine, capacity_tpy: 10}",
        "allocation.rule=[priority]",
        "description=Risk: high",
    ])
    assert s.facilities["jp_mine"].capacity_tpy == 10.0
    assert s.allocation.rule == ["priority"]
    assert s.description == "Risk: high"


def test_set_bad_paths_and_malformed_overrides() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(VALID, ["name.x=1", "stages.0=ore", "no_equals", "a..b=1", "name=[x"])
    assert [str(p) for p in info.value.problems] == [
        "<--set>:1:6: name.x: cannot set 'x': name is a string, not a mapping",
        "<--set>:2:8: stages.0: cannot set '0': stages is a list, not a mapping",
        "<--set>:3:1: <root>: malformed override 'no_equals': expected key.path=value",
        "<--set>:4:3: a: empty key in override path 'a..b'",
        "<--set>:5:8: name: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at 5:6)",
    ]


def test_set_value_failing_validation_is_located_at_override() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(VALID, ["simulation.step_days=7", "facilities.cn_mine.capacity_tpy=-3",
                              "facilities.new.country=CN"])
    assert [str(p) for p in info.value.problems] == [
        "<--set>:2:33: facilities.cn_mine.capacity_tpy: "
        "Input should be greater than or equal to 0",
        "<--set>:3:12: facilities.new.recipe: missing required key 'recipe'",
        "<--set>:3:12: facilities.new.capacity_tpy: missing required key 'capacity_tpy'",
    ]


def test_set_flow_value_positions_and_tags() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(VALID, ["sourcing.jp_oxide.suppliers={CN: 0.5, JP: 2}",
                              "description=!!python/name:os.system"])
    assert [str(p) for p in info.value.problems] == [
        "<--set>:2:13: description: YAML tag !!python/name:os.system is not allowed",
    ]
    with pytest.raises(ScenarioError) as info:
        load_scenario(VALID, ["sourcing.jp_oxide.suppliers={CN: 0.5, JP: 2}"])
    assert [str(p) for p in info.value.problems] == [
        "<--set>:1:39: sourcing.jp_oxide.suppliers.JP: Input should be less than or equal to 1",
    ]


# -------------------------------------------------------------------- dump, hash and schema


def test_dump_round_trips(tmp_path: Path) -> None:
    s = load_scenario(FIXTURES / "loader_grandchild.yaml", ["facilities.cn_mine.note=yes"])
    text = dump_scenario_yaml(s)
    assert text.startswith("%YAML 1.2\n---\n")
    assert "extends" not in text
    again = load_scenario_text(text)
    assert again == s
    assert again.countries["NO"].name == "Norway"
    assert again.facilities["cn_mine"].note == "yes"
    assert load_scenario(write(tmp_path, text)) == s


def test_sha256_is_stable_and_sensitive() -> None:
    a = scenario_sha256(load_scenario(VALID))
    assert len(a) == 64
    assert a == scenario_sha256(load_scenario(VALID))
    assert a == scenario_sha256(load_scenario_text(dump_scenario_yaml(load_scenario(VALID))))
    changed = load_scenario(VALID, ["facilities.cn_mine.capacity_tpy=1001"])
    assert scenario_sha256(changed) != a


def test_json_schema() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "critmin scenario"
    assert "facilities" in schema["properties"]
    assert schema["properties"]["extends"]["type"] == "string"
    assert schema["additionalProperties"] is False
    assert "name" in schema["required"]


def test_set_empty_flow_collections_are_collections_not_strings() -> None:
    """``[]`` and ``{}`` empty a list or a map (ruamel gives them no flow style)."""
    s = load_scenario(VALID, ["materials.oxide.elements={}", "lead_times.lanes={}"])
    assert s.materials["oxide"].elements == {}
    assert s.lead_times.lanes == {}
    with pytest.raises(ScenarioError) as info:
        load_scenario(VALID, ["stages=[]"])
    assert [str(p) for p in info.value.problems] == [
        "<--set>:1:8: stages: List should have at least 1 item after validation, not 0"]


def test_extends_null_removes_an_inherited_entry(tmp_path: Path) -> None:
    """``key: null`` in a child deletes the parent's entry (an optional field goes back to its
    default); a reference to the removed entry is then located in the file that makes it."""
    child = write(tmp_path, f"extends: {VALID}\nfacilities:\n  cn_refinery:\n"
                            "    start_date: null\n")
    assert load_scenario(child).facilities["cn_refinery"].start_date is None
    child = write(tmp_path, f"extends: {VALID}\nsourcing:\n  jp_oxide: null\n")
    assert problems_of(child) == [
        f"{VALID}:38:5: demand.jp_magnets.material: JP consumes 'oxide' but no sourcing "
        "entry covers (JP, oxide) and JP produces none"]


def test_a_base_parsed_once_per_process_is_located_and_copied_per_load(tmp_path: Path,
                                                                   monkeypatch) -> None:
    """The per-process parse cache (loader._parse): a base extended by several files, under
    two display names, gives each load its own positions and data; an edited file is parsed
    anew, and what one load changes never reaches the next."""
    from simulator.scenario import loader

    loader._parse_cached.cache_clear()
    (tmp_path / "sub").mkdir()
    base = write(tmp_path, VALID_TEXT.replace("capacity_tpy: 900", "capacity_tpy: -2"),
                 "sub/base.yaml")
    write(tmp_path, "extends: sub/base.yaml\n", "a.yaml")
    write(tmp_path, "extends: base.yaml\n", "sub/b.yaml")
    monkeypatch.chdir(tmp_path)
    where = "facilities.cn_refinery.capacity_tpy: Input should be greater than or equal to 0"
    for _ in range(2):
        assert problems_of("a.yaml") == [f"sub/base.yaml:32:5: {where}"]
        assert problems_of("sub/b.yaml") == [f"sub/base.yaml:32:5: {where}"]
        assert problems_of(base) == [f"{base}:32:5: {where}"]
    assert loader._parse_cached.cache_info().hits >= 4
    base.write_text("\n\n" + VALID_TEXT.replace("capacity_tpy: 900", "capacity_tpy: -2"))
    assert problems_of("a.yaml") == [f"sub/base.yaml:34:5: {where}"]
    base.write_text(VALID_TEXT)
    data = resolve_scenario_data("a.yaml", ["facilities.cn_mine.capacity_tpy=1"])
    data["countries"].clear()
    assert resolve_scenario_data("a.yaml")["facilities"]["cn_mine"]["capacity_tpy"] != 1
    assert resolve_scenario_data("a.yaml")["countries"]
    assert load_scenario("a.yaml") == load_scenario("sub/b.yaml")
