"""Mass balance: every tonne is used, delivered, held, in transit, stockpiled or lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .world import World

RELATIVE_TOLERANCE = 1e-9


class MassBalanceError(RuntimeError):
    """Raised when a run's material ledger does not close (a bug, never bad input)."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        bad = table[~table["ok"]]
        super().__init__("mass balance violated:\n" + bad.to_string())


def mass_balance(world: World) -> pd.DataFrame:
    """Per-material ledger at the end of a run, from counters and from the state itself.

    ``initial_t + produced_t = used_t + delivered_t + pools_t + inventories_t + in_transit_t
    + stockpile_t + loss_t``; ``in_transit_t`` includes ``licence_queue_t``, lots
    allocated by an exporter and waiting for an export licence; ``imbalance_t`` is the
    difference and ``ok`` whether it is within a relative tolerance of 1e-9 of the
    material's throughput. Demand destroyed by price or thrifted away is material never
    asked for, so it has no place here (it is neither delivered nor lost).
    """
    net = world.net
    rows = []
    for m in world.scenario.materials:
        pools = sum(p.stock for p in net.pools.values() if p.material == m)
        inv = sum(b.on_hand for b in net.buyers if b.material == m)
        transit = sum(lane.on_order for b in net.buyers if b.material == m for lane in b.lanes)
        stock = sum(s.holdings for s in net.stockpiles if s.material == m)
        inflow = net.initial_t.get(m, 0.0) + world.produced_t[m]
        outflow = (world.used_t[m] + world.delivered_t[m] + pools + inv + transit + stock
                   + world.loss_t[m])
        imbalance = inflow - outflow
        scale = max(1.0, inflow)
        rows.append({
            "material": m, "initial_t": net.initial_t.get(m, 0.0),
            "produced_t": world.produced_t[m], "used_t": world.used_t[m],
            "delivered_t": world.delivered_t[m], "pools_t": pools, "inventories_t": inv,
            "in_transit_t": transit, "licence_queue_t": world.licence_queue_t[m],
            "stockpile_t": stock, "loss_t": world.loss_t[m],
            "imbalance_t": imbalance, "ok": abs(imbalance) <= RELATIVE_TOLERANCE * scale,
        })
    return pd.DataFrame(rows)


def check_mass_balance(world: World) -> pd.DataFrame:
    """The ledger of :func:`mass_balance`; raises :exc:`MassBalanceError` if it does not close."""
    table = mass_balance(world)
    if not table["ok"].all():
        raise MassBalanceError(table)
    return table
