"""The peer: the same toy network in SupplyNetPy and in critmin.

One mine, one refinery, one magnet plant and one demand (20 t/day of magnets, ordered
daily), fixed 7-day lead times between the sites, 10 years simulated, no randomness.

- critmin: a scenario with ``step_days: 1`` (daily planning, as SupplyNetPy's daily
  orders), a 1:1 recipe at each stage, 7-day lanes between three countries.
- SupplyNetPy (``pip install 'critmin[bench]'``): a finite raw-material ``Supplier`` (the
  mine, 30 units/day), a ``Manufacturer`` (the refinery, (s, S) replenishment of its
  product), an ``InventoryNode`` distributor (the magnet plant: SupplyNetPy's manufacturers
  buy raw materials from raw-material suppliers only, so the second transformation stage is a
  stocking site), and a ``Demand`` of 20 units every day at the magnet plant.

Both deliver all 73,000 t demanded; the ratio is SupplyNetPy's wall time over critmin's
(median of the repeats, in this process).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import warnings

from simulator.engine import run_replication
from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario

from .common import median_time, section, table, timed

DAILY_T = 20.0
LEAD_DAYS = 7
START, END = "2025-01-01", "2035-01-01"

TOY = {
    "name": "toy_chain",
    "start_date": START,
    "end_date": END,
    "simulation": {"step_days": 1, "warmup_days": 0},
    "stages": ["mine", "separation", "magnet"],
    "countries": {"AU": {"name": "Australia"}, "MY": {"name": "Malaysia"},
                  "JP": {"name": "Japan"}},
    "materials": {"ore": {"stage": "mine"}, "oxide": {"stage": "separation"},
                  "magnet": {"stage": "magnet"}},
    "recipes": {
        "mining": {"stage": "mine", "outputs": {"ore": 1.0}},
        "refining": {"stage": "separation", "inputs": {"ore": 1.0}, "outputs": {"oxide": 1.0}},
        "magnets": {"stage": "magnet", "inputs": {"oxide": 1.0}, "outputs": {"magnet": 1.0}},
    },
    "facilities": {
        "mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 30 * 365},
        "refinery": {"country": "MY", "recipe": "refining", "capacity_tpy": 30 * 365},
        "magnet_plant": {"country": "JP", "recipe": "magnets", "capacity_tpy": 30 * 365},
    },
    "demand": {"jp_magnets": {"country": "JP", "sector": "ev", "material": "magnet",
                              "rate_tpy": DAILY_T * 365, "cover_days": 14}},
    "sourcing": {
        "my_ore": {"country": "MY", "material": "ore", "suppliers": {"AU": 1.0}},
        "jp_oxide": {"country": "JP", "material": "oxide", "suppliers": {"MY": 1.0}},
    },
    "lead_times": {"domestic_days": LEAD_DAYS, "default_days": LEAD_DAYS},
}


def critmin_toy() -> Scenario:
    s = Scenario.model_validate(TOY)
    problems = check_scenario(s)
    if problems:
        raise ValueError(problems)
    return s


def run_critmin(s: Scenario) -> float:
    """Tonnes delivered to demand over the run."""
    r = run_replication(s)
    return float(r.timeseries["delivered_t"].sum())


def run_supplynetpy(horizon_days: int) -> float:
    """Units delivered to customers over the run (SupplyNetPy's own accounting)."""
    import SupplyNetPy.Components as scm

    ore = scm.RawMaterial(ID="ore", name="ore", extraction_quantity=30, extraction_time=1,
                          mining_cost=1, cost=1)
    oxide = scm.Product(ID="oxide", name="oxide", manufacturing_cost=1, manufacturing_time=1,
                        sell_price=2, raw_materials=[(ore, 1)], batch_size=30)
    nodes = [
        {"ID": "mine", "name": "mine", "node_type": "supplier", "capacity": 3000,
         "initial_level": 1000, "inventory_holding_cost": 0.0, "raw_material": ore},
        {"ID": "refinery", "name": "refinery", "node_type": "manufacturer", "capacity": 2000,
         "initial_level": 600, "inventory_holding_cost": 0.0, "product_sell_price": 2,
         "replenishment_policy": scm.SSReplenishment, "policy_param": {"s": 400, "S": 1200},
         "product": oxide},
        {"ID": "magnet_plant", "name": "magnet_plant", "node_type": "distributor",
         "capacity": 600, "initial_level": 300, "inventory_holding_cost": 0.0,
         "replenishment_policy": scm.SSReplenishment, "policy_param": {"s": 200, "S": 600},
         "product_buy_price": 2, "product_sell_price": 3},
    ]
    links = [
        {"ID": "l1", "source": "mine", "sink": "refinery", "cost": 0,
         "lead_time": lambda: LEAD_DAYS},
        {"ID": "l2", "source": "refinery", "sink": "magnet_plant", "cost": 0,
         "lead_time": lambda: LEAD_DAYS},
    ]
    demands = [{"ID": "d", "name": "d", "order_arrival_model": lambda: 1,
                "order_quantity_model": lambda: DAILY_T, "demand_node": "magnet_plant"}]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        net = scm.create_sc_net(nodes=nodes, links=links, demands=demands)
        net = scm.simulate_sc_net(net, sim_time=horizon_days, logging=False)
    return float(net["fulfillment_received_by_customers"][1])


def run(repeats: int) -> dict:
    section("3. Peer: a toy chain (mine, refinery, magnet plant, demand; 10 years, daily)")
    s = critmin_toy()
    run_critmin(s)
    critmin_s, critmin_t = median_time(lambda: run_critmin(s), repeats)
    out = {"critmin_s": critmin_s, "critmin_delivered_t": critmin_t}
    try:
        import SupplyNetPy.Components  # noqa: F401
    except ImportError:
        table([("critmin", f"{critmin_s:.3f} s, {critmin_t:,.0f} t delivered"),
               ("SupplyNetPy", "SKIPPED: not importable (pip install 'critmin[bench]')")])
        out["skipped"] = "supplynetpy not importable"
        return out
    run_supplynetpy(s.horizon_days)
    ours, theirs = [], []  # alternately, so both see the same machine load
    snp_t = 0.0
    for _ in range(repeats):
        ours.append(timed(lambda: run_critmin(s))[0])
        wall, snp_t = timed(lambda: run_supplynetpy(s.horizon_days))
        theirs.append(wall)
    critmin_s, snp_s = statistics.median(ours), statistics.median(theirs)
    out["critmin_s"] = critmin_s
    out.update(supplynetpy_s=snp_s, supplynetpy_delivered=snp_t, speedup=snp_s / critmin_s)
    table([
        (f"critmin (median of {repeats})", f"{critmin_s:.3f} s, {critmin_t:,.0f} t delivered"),
        ("SupplyNetPy 0.5", f"{snp_s:.3f} s, {snp_t:,.0f} units delivered"),
        ("speed-up vs SupplyNetPy", f"{snp_s / critmin_s:.1f}x"),
    ])
    return out
