"""Figures say whose price each export tier is when a control hits only some buyers
(docs/markets.md, "Tiers"): under the heavy-REE threat (licences for the US and Japan only)
their Dy/Tb oxide price is the tier ``ex-CN:JP,US``, and ``ex-CN`` is Germany's, Korea's
and the other buyers' outside China."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.analysis.tiers import partial_controls, tier_notes
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_a_control_of_some_destinations_is_noted_on_the_materials_it_selects() -> None:
    threat = load_scenario(SCENARIOS / "china_heavy_ree_controls_2026.yaml")
    controls = partial_controls(threat)
    # elements [Dy, Tb]: the Dy/Tb oxide and metal, and magnets (they hold Dy), all priced
    assert set(controls) == {"dytb_oxide", "dytb_metal", "ndfeb_magnet"}
    assert controls["ndfeb_magnet"] == [("ex-CN:JP,US", ("JP", "US"))]
    assert controls["dytb_oxide"] == [("ex-CN:JP,US", ("JP", "US"))]
    assert tier_notes([threat])["dytb_oxide"] == (
        "ex-CN:JP,US: JP, US, a price of their own while cn_heavy_ree_licences_2026 is in "
        "force; ex-CN: the other countries outside CN")


def test_controls_of_every_destination_need_no_note() -> None:
    """The April 2025 licences applied to every destination: the export price is every
    buyer's, as the tier says."""
    assert partial_controls(load_scenario(SCENARIOS / "china_controls_2025_04.yaml")) == {}
    assert tier_notes([load_scenario(SCENARIOS / "baseline.yaml")]) == {}


def test_the_price_figures_say_whose_price_the_export_tier_is(tmp_path) -> None:
    """The run report's price figure and compare's price overlay (which the workbench
    shows) carry the note in the legend of the export tier's panel."""
    import pandas as pd

    from simulator.engine import run_replication
    from simulator.viz.prices import price_figure, price_overlay_figure

    threat = load_scenario(SCENARIOS / "china_heavy_ree_controls_2026.yaml",
                           ["end_date=2027-03-01"])
    prices = run_replication(threat, seed=0).prices
    prices = prices.assign(replication=0, date=pd.Timestamp("2024-01-01")
                           + pd.to_timedelta(prices["day"], unit="D"))
    notes = tier_notes([threat])

    def legend_texts(fig) -> list[str]:
        return [t.get_text().replace("\n", " ") for ax in fig.axes if ax.get_legend()
                for t in ax.get_legend().get_texts()]

    own = ("ex-CN:JP,US: JP, US, a price of their own while cn_heavy_ree_licences_2026 is "
           "in force")
    others = "ex-CN: the other countries outside CN"
    assert notes["dytb_metal"] == notes["dytb_oxide"] == f"{own}; {others}"
    fig = price_figure(prices, "threat", 1, tier_notes=notes)
    panel = {ax.get_title(loc="left"): [t.get_text().replace("\n", " ")
                                        for t in ax.get_legend().get_texts()]
             for ax in fig.axes if ax.get_legend()}
    assert notes["dytb_metal"] in panel["dytb_metal"]
    assert notes["dytb_oxide"] in panel["dytb_oxide"]
    for material in ("dytb_metal", "dytb_oxide"):
        texts = legend_texts(price_overlay_figure({"threat": prices}, material,
                                                  tier_notes=notes))
        assert others in texts and own in texts  # each tier's panel carries its own part
    plain = price_overlay_figure({"threat": prices}, "ndpr_oxide", tier_notes=notes)
    assert not [t for t in legend_texts(plain) if "a price of their own" in t]


@pytest.fixture(scope="module")
def compared() -> tuple[dict, dict, dict]:
    """The demo's pair (heavy-REE threat, baseline) to March 2027, one replication each,
    through compare's price alignment: (prices, ceilings, tier notes)."""
    import pandas as pd

    from simulator.analysis.tiers import compared_prices
    from simulator.engine import run_replication

    names = {"threat": "china_heavy_ree_controls_2026.yaml", "baseline": "baseline.yaml"}
    scenarios = {n: load_scenario(SCENARIOS / f, ["end_date=2027-03-01"])
                 for n, f in names.items()}
    prices = {}
    for n, sc in scenarios.items():
        p = run_replication(sc, seed=0).prices
        prices[n] = p.assign(replication=0, date=pd.Timestamp("2024-01-01")
                             + pd.to_timedelta(p["day"], unit="D"))
    return compared_prices(prices, scenarios)


def _drawn(fig):
    import io

    fig.savefig(io.BytesIO(), format="png")  # (the layout is made when drawn)
    return fig


def test_long_tier_notes_leave_the_panels_their_width(compared) -> None:
    """A tier note borrowed by compare is long; unwrapped, one legend line wider than the
    axes made the constrained layout shrink every panel of the demo's Dy/Tb oxide overlay
    to a sliver (2026-12-07). Wrapped, each panel keeps most of the figure's width."""
    from simulator.viz.prices import price_figure, price_overlay_figure

    aligned, ceilings, notes = compared
    assert len(notes["dytb_oxide"]) > 200  # the long note this is about

    def widths(fig) -> list[float]:
        return [ax.get_position().width for ax in _drawn(fig).axes]

    for draw in (lambda n: price_overlay_figure(aligned, "dytb_oxide", ceilings=ceilings,
                                                tier_notes=n),
                 lambda n: price_figure(aligned["threat"], "threat", 1, tier_notes=n)):
        noted, bare = widths(draw(notes)), widths(draw({}))
        assert min(noted) > 0.9 * min(bare), (noted, bare)


def test_a_tier_nobody_buys_in_is_priced_only_while_it_trades_with_others(compared) -> None:
    """Under the threat nobody outside CN, JP and US buys Dy/Tb oxide: its ``ex-CN`` tier
    is priced while it trades as one market with JP and US's (before the licences), not
    once they set JP and US apart (its price then is one nobody pays: until 2026-12-07 it
    was recorded at its trade link to China's, and the demo drew it); the metal, bought in
    ``ex-CN``, is priced throughout. A tier never priced in a run that prices the material
    elsewhere is noted as such; a run without prices says nothing about who buys."""
    aligned, _, notes = compared
    threat = load_scenario(SCENARIOS / "china_heavy_ree_controls_2026.yaml")
    licences = (threat.events["cn_heavy_ree_licences_2026"].effective
                - threat.start_date).days
    p = aligned["threat"]
    days = {m: p.loc[(p["material"].astype(str) == m) & (p["market"].astype(str) == "ex-CN"),
                     "day"] for m in ("dytb_oxide", "dytb_metal")}
    assert days["dytb_oxide"].min() == 0 and days["dytb_oxide"].max() < licences
    assert days["dytb_metal"].max() == p["day"].max()
    assert "ex-CN: the other countries outside CN" in notes["dytb_oxide"]
    # the figure's note says from when the tier has no price
    assert re.search(r"ex-CN in threat: no price from 2026-1[01]-\d\d \(nobody buys there "
                     r"while a control sets it apart\)", notes["dytb_oxide"])
    assert "no price" not in notes["dytb_metal"]
    never = {("dytb_oxide", "CN"), ("dytb_oxide", "ex-CN:JP,US")}
    assert (f"ex-CN in {threat.name}: nobody buys it there, no price"
            in tier_notes([threat], [never])["dytb_oxide"])
    assert "nobody buys" not in tier_notes([threat], [set()])["dytb_oxide"]


def test_the_overlay_legends_sit_beside_the_panels_not_over_the_data(compared) -> None:
    """Compare's price overlay put each tier's legend at matplotlib's "best" spot inside
    its panel: in the demo's Dy/Tb oxide overlay the JP/US tier's legend (five entries and
    a three-line note) covered the 2026-28 price path (2026-12-07). Each legend now sits to
    the right of its panel, and each panel keeps over half the figure's width."""
    from simulator.viz.prices import price_overlay_figure

    aligned, ceilings, notes = compared
    for material in ("dytb_oxide", "ndpr_oxide"):
        fig = _drawn(price_overlay_figure(aligned, material, ceilings=ceilings,
                                          tier_notes=notes))
        for ax in fig.axes:
            legend = ax.get_legend()
            assert legend is not None
            box, panel = legend.get_window_extent(), ax.get_window_extent()
            assert box.x0 >= panel.x1, (material, ax.get_title(loc="left"))
            assert box.x1 <= fig.bbox.x1 + 1  # inside the figure
            assert ax.get_position().width > 0.5


def test_unpriced_notes_name_each_stretch_without_a_price() -> None:
    """Days 3-5 and 8-9 of ten daily steps without a price in tier ``B``: two stretches,
    the last to the end of the run (from its first day); tier ``A`` has every step."""
    import pandas as pd

    from simulator.analysis.tiers import unpriced_notes

    base = load_scenario(SCENARIOS / "baseline.yaml")  # start date 2024-01-01
    days = list(range(10))
    b_days = [d for d in days if d not in (3, 4, 5, 8, 9)]
    prices = pd.DataFrame({"day": days + b_days, "material": "x",
                           "market": ["A"] * 10 + ["B"] * len(b_days),
                           "price_usd_per_kg": 1.0})
    assert unpriced_notes(prices, base) == {"x": [
        "B: no price 2024-01-04 to 2024-01-06, from 2024-01-09 (nobody buys there while a "
        "control sets it apart)"]}
    assert unpriced_notes(prices, base, "run")["x"][0].startswith("B in run: no price")
    assert unpriced_notes(prices[prices["market"] == "A"], base) == {}
