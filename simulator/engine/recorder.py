"""Tidy records of one replication, collected column-wise and turned into DataFrames."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .network import DemandRT, FacilityRT

TIMESERIES_COLUMNS = [
    "day", "country", "sector", "demand_id", "material",
    "demand_t", "delivered_t", "shortfall_t", "inventory_t", "stockpile_t",
]
FLOW_COLUMNS = ["day", "origin", "destination", "material", "tonnes"]
PRODUCTION_COLUMNS = ["day", "facility", "country", "stage", "material", "tonnes"]


class Recorder:
    """Appends rows column-wise; :meth:`frames` builds the three tidy tables."""

    def __init__(self) -> None:
        self.ts: list[tuple] = []
        self.fl: list[tuple] = []
        self.pr: list[tuple] = []

    def demand(self, day: int, d: DemandRT, demand_t: float, delivered_t: float,
               inventory_t: float, stockpile_t: float) -> None:
        b = d.buyer
        self.ts.append((day, b.country, d.sector, d.did, b.material, demand_t, delivered_t,
                        demand_t - delivered_t, inventory_t, stockpile_t))

    def flow(self, day: int, origin: str, destination: str, material: str, tonnes: float) -> None:
        self.fl.append((day, origin, destination, material, tonnes))

    def production(self, day: int, f: FacilityRT, material: str, tonnes: float) -> None:
        self.pr.append((day, f.fid, f.country, f.stage, material, tonnes))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(timeseries, flows, production) with int32 days, categorical labels, float64 t."""
        return (
            _frame(self.ts, TIMESERIES_COLUMNS),
            _frame(self.fl, FLOW_COLUMNS),
            _frame(self.pr, PRODUCTION_COLUMNS),
        )


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data: dict[str, object] = {}
    for name, values in zip(columns, cols, strict=True):
        if name == "day":
            data[name] = np.asarray(values, dtype=np.int32)
        elif name.endswith("_t") or name == "tonnes":
            data[name] = np.asarray(values, dtype=np.float64)
        else:
            data[name] = pd.Categorical(list(values))
    return pd.DataFrame(data, columns=columns)
