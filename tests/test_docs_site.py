"""The documentation site builds without warnings, and its generated pages match the code.

The build (``sphinx-build -W``) regenerates the scenario reference from the pydantic models,
the CLI reference from the Typer app, the baseline network diagram and the quickstart figure
(``docs/_ext/critmin_docs.py``); the replay check tables are kept in sync by the replay tests
(``docs/_ext/gallery.py``, ``assert_in_sync``).
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

scenario_reference = importlib.import_module("scenario_reference")
cli_reference = importlib.import_module("cli_reference")
critmin_docs = importlib.import_module("critmin_docs")
gallery = importlib.import_module("gallery")
network_diagram = importlib.import_module("network_diagram")


@pytest.mark.parametrize("page", sorted(critmin_docs.REFERENCE_PAGES))
def test_reference_pages_in_the_checkout_match_the_code(page: str) -> None:
    """docs/reference/*.md read in a checkout (they were an include of a build-only file,
    empty without a build); they must be what the code renders now."""
    text = (DOCS / page).read_text(encoding="utf-8")
    assert "_generated" not in text and len(text) > 2000
    assert text == critmin_docs.REFERENCE_PAGES[page](), (
        f"docs/{page} is stale: run `python docs/_ext/critmin_docs.py`")


def test_every_model_field_has_a_description() -> None:
    missing = scenario_reference.missing_descriptions()
    assert not missing, ("add an attribute docstring (it becomes the field's description in "
                         f"the scenario reference and the JSON Schema) to: {missing}")


def test_scenario_reference_has_every_field_of_every_section() -> None:
    text = scenario_reference.render()
    sections = scenario_reference.build_sections()
    models = {s.model for s in sections}
    for model in scenario_reference.iter_models():
        if model.__name__ in ("Triangular", "Uniform", "Normal", "Choice") or any(
                issubclass(m, model) for m in models):  # distributions; event base classes
            continue
        assert model in models, f"{model.__name__} is not reachable from Scenario"
    for sec in sections:
        assert f"({sec.anchor})=" in text
        for name, info in sec.model.model_fields.items():
            assert f"| `{name}` |" in text
            if info.is_required():
                assert re.search(rf"\| `{name}` \|[^\n]*\| required \|", text), name
    assert "| `capacity_tpy` | number | t/yr | required | >= 0, <= 1000000000 |" in text
    assert "| `step_days` | integer | days | `7` | >= 1, <= 91 | `7` |" in text


def test_cli_reference_has_every_command_and_option() -> None:
    text = cli_reference.render()
    names = [name for name, _ in cli_reference.commands()]
    assert {"run", "validate", "schema", "list", "compare", "report"} <= set(names)
    for name, cmd in cli_reference.commands():
        assert f"## `critmin {name}`" in text
        for param in cmd.params:
            for opt in param.opts:
                if opt != "--help" and param.param_type_name == "option":
                    assert opt in text, f"{name} {opt}"
    assert "[default: results]" in text  # defaults come from the app, not from prose


def test_network_diagram_is_drawn_from_the_scenario() -> None:
    from matplotlib.figure import Figure

    from simulator.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    nodes, edges = network_diagram.network(sc)
    for f in sc.facilities.values():
        assert (sc.recipes[f.recipe].stage, f.country) in nodes
    for d in sc.demand.values():
        assert ("demand", d.country) in nodes
    jp_oxide = {src[1] for (src, dst, m) in edges if dst == ("metal", "JP") and m == "ndpr_oxide"}
    assert jp_oxide == set(sc.sourcing["jp_ndpr_oxide"].suppliers)
    assert isinstance(network_diagram.network_figure(sc), Figure)


def test_needs_marker_keeps_existing_pages_only(tmp_path: Path) -> None:
    (tmp_path / "here.md").write_text("# here\n")
    text = "a\nhere <!-- needs: here -->\ngone <!-- needs: gone -->\nb"
    assert critmin_docs.resolve_needs(text, tmp_path) == "a\nhere\nb"


def test_quickstart_shows_the_command_its_figure_comes_from() -> None:
    page = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    assert f"$ {critmin_docs.quickstart_command()}\n" in page
    assert "_generated/quickstart-fill-rate.png" in page


def test_every_replay_has_a_page_a_card_and_a_figure() -> None:
    index = (DOCS / "replays" / "index.md").read_text(encoding="utf-8")
    for module in gallery.replay_modules():
        name = gallery.page_name(module)
        page = (DOCS / "replays" / f"{name}.md").read_text(encoding="utf-8")
        head = gallery._begin("checks", module).split(" (from")[0]
        assert head in page and gallery._end("checks") in page, name
        assert gallery._begin("card", module).split(" (from")[0] in index, name
        assert (DOCS / "replays" / f"{name}.png").stat().st_size > 10_000


def test_gallery_number_format() -> None:
    assert [gallery.fmt(x) for x in (0.0, 0.8945, 7.903, 22.62, 202.7, -2853.2, 2701.2)] == [
        "0", "0.894", "7.90", "22.6", "203", "-2,853", "2,701"]


@pytest.mark.slow
def test_site_builds_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("pydata_sphinx_theme")
    out = tmp_path / "html"
    res = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-5000:]
    for page in ("index", "quickstart", "concepts", "tutorials/index", "reference/scenario",
                 "reference/cli", "replays/index", "api", "metrics", "events"):
        assert (out / f"{page}.html").exists(), page
    ref = (out / "reference" / "scenario.html").read_text(encoding="utf-8")
    assert "capacity_tpy" in ref and "prebuy_cover_days" in ref
    assert "critmin run" in (out / "reference" / "cli.html").read_text(encoding="utf-8")
    assert 'class="math' in (out / "metrics.html").read_text(encoding="utf-8")
    assert "simulator.scenario.load_scenario" in (out / "api.html").read_text(encoding="utf-8")
    images = {p.name for p in (out / "_images").iterdir()}
    assert {"baseline-network.png", "quickstart-fill-rate.png"} <= images
