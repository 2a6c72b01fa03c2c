"""Tidy records of one replication, collected as numeric rows and turned into DataFrames.

Rows hold integer keys instead of labels while the simulation runs (cheap to append); the
labels are attached once, as categoricals, when the frames are built.
"""

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
    """Collects demand, flow and production rows; :meth:`frames` builds the tidy tables.

    - ``ts``: (day, demand key, demand_t, delivered_t, inventory_t, stockpile_t)
    - ``fl``: (day, route key, tonnes) with routes registered by :meth:`route`
    - ``pr``: (day, output key, tonnes) with outputs registered by :meth:`output`
    """

    def __init__(self) -> None:
        self.ts: list[tuple] = []
        self.fl: list[tuple] = []
        self.pr: list[tuple] = []
        self._demand_labels: list[tuple[str, str, str, str]] = []
        self._demand_keys: dict[int, int] = {}
        self._routes: dict[tuple[str, str, str], int] = {}
        self._outputs: dict[tuple[str, str, str, str], int] = {}

    def route(self, origin: str, destination: str, material: str) -> int:
        """Key of a (origin, destination, material) route for :attr:`fl` rows."""
        return self._routes.setdefault((origin, destination, material), len(self._routes))

    def output(self, f: FacilityRT, material: str) -> int:
        """Key of a facility's output for :attr:`pr` rows."""
        key = (f.fid, f.country, f.stage, material)
        return self._outputs.setdefault(key, len(self._outputs))

    def demand(self, day: int, d: DemandRT, demand_t: float, delivered_t: float,
               inventory_t: float, stockpile_t: float) -> None:
        key = self._demand_keys.get(id(d))
        if key is None:
            b = d.buyer
            key = self._demand_keys[id(d)] = len(self._demand_labels)
            self._demand_labels.append((b.country, d.sector, d.did, b.material))
        self.ts.append((day, key, demand_t, delivered_t, inventory_t, stockpile_t))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(timeseries, flows, production) with int32 days, categorical labels, float64 t."""
        ts = _numeric(self.ts, 6)
        labels = _labels(self._demand_labels, ts[:, 1], 4)
        timeseries = pd.DataFrame({
            "day": ts[:, 0].astype(np.int32),
            "country": labels[0], "sector": labels[1], "demand_id": labels[2],
            "material": labels[3],
            "demand_t": ts[:, 2], "delivered_t": ts[:, 3], "shortfall_t": ts[:, 2] - ts[:, 3],
            "inventory_t": ts[:, 4], "stockpile_t": ts[:, 5],
        }, columns=TIMESERIES_COLUMNS)
        fl = _numeric(self.fl, 3)
        labels = _labels(list(self._routes), fl[:, 1], 3)
        flows = pd.DataFrame({
            "day": fl[:, 0].astype(np.int32), "origin": labels[0], "destination": labels[1],
            "material": labels[2], "tonnes": fl[:, 2],
        }, columns=FLOW_COLUMNS)
        pr = _numeric(self.pr, 3)
        labels = _labels(list(self._outputs), pr[:, 1], 4)
        production = pd.DataFrame({
            "day": pr[:, 0].astype(np.int32), "facility": labels[0], "country": labels[1],
            "stage": labels[2], "material": labels[3], "tonnes": pr[:, 2],
        }, columns=PRODUCTION_COLUMNS)
        return timeseries, flows, production


def _numeric(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of numbers as a float64 array of shape (n, width)."""
    if not rows:
        return np.empty((0, width), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


def _labels(table: list[tuple[str, ...]], keys: np.ndarray, width: int) -> list[pd.Categorical]:
    """Categorical label columns for integer ``keys`` into ``table`` (sorted categories)."""
    keys = keys.astype(np.intp)
    out = []
    for j in range(width):
        values = [row[j] for row in table]
        categories = sorted(set(values))
        index = {c: i for i, c in enumerate(categories)}
        lookup = np.array([index[v] for v in values], dtype=np.int32)
        codes = lookup[keys] if len(keys) else np.empty(0, dtype=np.int32)
        out.append(pd.Categorical.from_codes(codes, categories=categories))
    return out
