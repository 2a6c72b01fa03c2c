"""Draw a scenario's supply network from the scenario itself (matplotlib Figure API).

Columns are the chain's stages (upstream on the left) followed by final demand; a node is a
country's facilities at a stage (or its demand), sized by capacity (or demand); an edge is a
sourcing relation, from the supplier country's producing stage to the buyer country's
consuming stage, as wide as the tonnes per year it would carry at full use (buyer need x
share). Countries without a sourcing entry for a material buy from their own producers.

    python docs/_ext/network_diagram.py scenarios/baseline.yaml out.png
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.scenario import Scenario, load_scenario  # noqa: E402

DEMAND = "demand"
_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 8}
COLORS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
          "#EE8866", "#000000"]


def network(sc: Scenario) -> tuple[dict, dict]:
    """Nodes {(column, country): tonnes/yr} and edges {(src, dst, material): tonnes/yr}."""
    nodes: dict[tuple[str, str], float] = defaultdict(float)
    producer_stage: dict[str, str] = {}
    need: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for f in sc.facilities.values():
        recipe = sc.recipes[f.recipe]
        nodes[(recipe.stage, f.country)] += f.capacity_tpy
        for m in recipe.outputs:
            producer_stage.setdefault(m, recipe.stage)
        for m, coef in recipe.inputs.items():
            need[(f.country, m)].append((recipe.stage, f.capacity_tpy * coef))
    for d in sc.demand.values():
        nodes[(DEMAND, d.country)] += d.rate_tpy
        need[(d.country, d.material)].append((DEMAND, d.rate_tpy))
    shares = {(s.country, s.material): dict(s.suppliers) for s in sc.sourcing.values()}
    edges: dict[tuple[tuple[str, str], tuple[str, str], str], float] = defaultdict(float)
    for (country, material), users in need.items():
        src_stage = producer_stage.get(material)
        if src_stage is None:
            continue
        for supplier, share in shares.get((country, material), {country: 1.0}).items():
            for stage, tonnes in users:
                if share > 0 and tonnes > 0:
                    edges[((src_stage, supplier), (stage, country), material)] += share * tonnes
    return dict(nodes), dict(edges)


def network_figure(sc: Scenario) -> Figure:
    """The network of ``sc`` as a Figure (no pyplot)."""
    nodes, edges = network(sc)
    columns = [*sc.stages, DEMAND]
    order = list(sc.countries)
    pos: dict[tuple[str, str], tuple[float, float]] = {}
    for x, col in enumerate(columns):
        here = sorted((c for s, c in nodes if s == col), key=order.index)
        for i, country in enumerate(here):
            pos[(col, country)] = (x, (len(here) - 1) / 2 - i)
    materials = list(dict.fromkeys(m for *_, m in sorted(
        edges, key=lambda e: columns.index(e[0][0]))))
    color = {m: COLORS[i % len(COLORS)] for i, m in enumerate(materials)}
    biggest = max(edges.values())
    with mpl.rc_context(_RC):
        height = max(4.5, 0.42 * max(sum(1 for s, _ in nodes if s == c) for c in columns))
        fig = Figure(figsize=(11, height), layout="constrained")
        ax = fig.add_subplot()
        for (src, dst, m), tonnes in sorted(edges.items(), key=lambda kv: kv[1]):
            if src not in pos or dst not in pos:
                continue
            width = 0.3 + 5.5 * math.sqrt(tonnes / biggest)
            same_col = pos[src][0] == pos[dst][0]
            ax.add_patch(FancyArrowPatch(
                pos[src], pos[dst], arrowstyle="-", lw=width, color=color[m], alpha=0.45,
                connectionstyle="arc3,rad=0.35" if same_col else "arc3,rad=0.06",
                shrinkA=6, shrinkB=6, zorder=1))
        scale = {col: max(v for (c, _), v in nodes.items() if c == col) for col in columns}
        for (col, country), tonnes in nodes.items():
            x, y = pos[(col, country)]
            size = 40 + 360 * math.sqrt(tonnes / scale[col])
            ax.scatter([x], [y], s=size, color="white", edgecolor="0.2", lw=1, zorder=2)
            label = f"{country}  {tonnes / 1000:,.1f} kt" if tonnes >= 100 else \
                f"{country}  {tonnes:,.0f} t"
            ax.annotate(label, (x, y), xytext=(9, 0), textcoords="offset points",
                        va="center", fontsize=7, zorder=3,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 0.4})
        top = max(y for _, y in pos.values()) + 0.9
        for x, col in enumerate(columns):
            title = "final demand" if col == DEMAND else col
            ax.text(x, top, title, ha="center", va="bottom", fontsize=9, weight="bold")
        ax.set_xlim(-0.4, len(columns) - 0.35)
        ax.set_ylim(min(y for _, y in pos.values()) - 0.7, top + 0.6)
        ax.axis("off")
        handles = [Line2D([], [], color=color[m], lw=3, alpha=0.7,
                          label=f"{m} ({sc.materials[m].unit})") for m in materials]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01),
                  ncol=min(4, len(handles)), frameon=False, title="flows (width: t/yr at "
                  "full use = buyer need x sourcing share)")
        ax.set_title(f"{sc.name}: {len(sc.facilities)} facilities, {len(sc.demand)} demand "
                     f"sectors, {len(sc.countries)} countries. Node labels: capacity "
                     "(demand: t/yr)", fontsize=9)
        return fig


def write_network_png(scenario_path: Path, out: Path) -> Path:
    """Draw ``scenario_path`` and save it as a byte-reproducible PNG at ``out``."""
    fig = network_figure(load_scenario(scenario_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(_RC):
        fig.savefig(out, dpi=130, metadata={"Software": None})
    return out


if __name__ == "__main__":
    write_network_png(Path(sys.argv[1]), Path(sys.argv[2]))
