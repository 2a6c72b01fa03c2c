"""Tidy records of one replication, collected as numeric rows and turned into DataFrames.

Rows hold integer keys instead of labels while the simulation runs (cheap to append); the
labels are attached once, as categoricals, when the frames are built.
"""

from __future__ import annotations

from array import array
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .network import DemandRT, FacilityRT
    from .stockpile import StockpileRT

TIMESERIES_COLUMNS = [
    "day", "country", "sector", "demand_id", "material",
    "demand_t", "delivered_t", "shortfall_t", "inventory_t", "stockpile_t", "destroyed_t",
    "thrifted_t",
]
FLOW_COLUMNS = ["day", "origin", "destination", "material", "tonnes"]
PRODUCTION_COLUMNS = ["day", "facility", "country", "stage", "material", "tonnes"]
STOCKPILE_COLUMNS = ["day", "stockpile", "country", "material", "holdings_t", "released_t",
                     "bought_t"]
PRICE_COLUMNS = ["day", "material", "market", "price_usd_per_kg"]


class Recorder:
    """Collects demand, flow, production and stockpile rows; :meth:`frames` builds the tidy
    tables.

    Rows are kept column-wise: days and keys in lists (appending to a list is the cheapest
    record there is), tonnes and prices unboxed in ``array("d")`` columns (each float is
    freed as it is recorded, and the column becomes a numpy array by copying its buffer, not
    by reading tens of thousands of scattered float objects):

    - ``ts``: day, demand key, demand_t, delivered_t, inventory_t, stockpile_t
    - ``fl``: day, route key, tonnes, with routes registered by :meth:`route`
    - ``pr``: day, output key, tonnes, with outputs registered by :meth:`output`
    - ``sp``: day, stockpile key, holdings_t, released_t, bought_t, with stockpiles
      registered by :meth:`stockpile`
    - ``px``: day, price key, price in USD/kg, with (material, market) registered by
      :meth:`price_key`
    """

    def __init__(self, last_step: tuple[int, float] | None = None) -> None:
        self.last_step = last_step
        """(scenario day, share): a last step that runs past the end date starts on that
        day and has that share of its days before it; :meth:`frames` scales its demand,
        response and production rows to them (its rates, the step's; stocks, lots and
        stockpile rows as they are). None: the horizon is whole steps."""
        self.ts: tuple[Any, ...] = ([], [], *_tonnes(4))
        self.fl: tuple[Any, ...] = ([], [], *_tonnes(1))
        self.pr: tuple[Any, ...] = ([], [], *_tonnes(1))
        self.sp: tuple[Any, ...] = ([], [], *_tonnes(3))
        self.px: tuple[Any, ...] = ([], [], *_tonnes(1))
        self.destroyed: array[float] = array("d")
        """Per :attr:`ts` row: demand tonnes destroyed by price (not bought because of it)."""
        self.thrifted: array[float] = array("d")
        """Per :attr:`ts` row: demand tonnes thrifted or substituted away (lagged response)."""
        self._prices: dict[tuple[str, str], int] = {}
        self._demand_labels: list[tuple[str, str, str, str]] = []
        self._demand_keys: dict[int, int] = {}
        self._routes: dict[tuple[str, str, str], int] = {}
        self._outputs: dict[tuple[str, str, str, str], int] = {}
        self._stockpiles: dict[tuple[str, str, str], int] = {}

    def release(self) -> None:
        """Drop the recorded rows (once :meth:`frames` and :meth:`prices` are built): numbers
        freed now, not walked by the cyclic garbage collector with the rest of the world."""
        for column in (*self.ts, *self.fl, *self.pr, *self.sp, *self.px, self.destroyed,
                       self.thrifted):
            del column[:]

    def route(self, origin: str, destination: str, material: str) -> int:
        """Key of a (origin, destination, material) route for :attr:`fl` rows."""
        return self._routes.setdefault((origin, destination, material), len(self._routes))

    def output(self, f: FacilityRT, material: str) -> int:
        """Key of a facility's output for :attr:`pr` rows."""
        key = (f.fid, f.country, f.stage, material)
        return self._outputs.setdefault(key, len(self._outputs))

    def stockpile(self, sp: StockpileRT) -> int:
        """Key of a stockpile for :attr:`sp` rows."""
        key = (sp.pid, sp.country, sp.material)
        return self._stockpiles.setdefault(key, len(self._stockpiles))

    def price_key(self, material: str, market: str) -> int:
        """Key of a (material, market) price for :attr:`px` rows."""
        return self._prices.setdefault((material, market), len(self._prices))

    def prices(self) -> pd.DataFrame:
        """day, material, market, price_usd_per_kg (one row per priced material, tier and
        step; no rows without a market)."""
        day, key, price = (_column(c, t) for c, t in zip(self.px, _KEYED, strict=True))
        labels = _labels(list(self._prices), key, 2)
        return _frame({"day": day, "material": labels[0], "market": labels[1],
                       "price_usd_per_kg": price}, PRICE_COLUMNS)

    def demand_key(self, d: DemandRT) -> int:
        """Key of a demand sector for :attr:`ts` rows (registered on first use)."""
        key = self._demand_keys.get(id(d))
        if key is None:
            b = d.buyer
            key = self._demand_keys[id(d)] = len(self._demand_labels)
            self._demand_labels.append((b.country, d.sector, d.did, b.material))
        return key

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(timeseries, flows, production, stockpiles) with int32 days, categorical labels,
        float64 t."""
        day, key, demand_t, delivered_t, inventory_t, stockpile_t = (
            _column(c, t) for c, t in zip(self.ts, _TS_TYPES, strict=True))
        destroyed = _column(self.destroyed, np.float64)
        thrifted = _column(self.thrifted, np.float64)
        self._clip(day, demand_t, delivered_t, destroyed, thrifted)
        labels = _labels(self._demand_labels, key, 4)
        timeseries = _frame({
            "day": day,
            "country": labels[0], "sector": labels[1], "demand_id": labels[2],
            "material": labels[3],
            "demand_t": demand_t, "delivered_t": delivered_t,
            "shortfall_t": demand_t - delivered_t,
            "inventory_t": inventory_t, "stockpile_t": stockpile_t,
            "destroyed_t": destroyed, "thrifted_t": thrifted,
        }, TIMESERIES_COLUMNS)
        day, key, tonnes = (_column(c, t) for c, t in zip(self.fl, _KEYED, strict=True))
        labels = _labels(list(self._routes), key, 3)
        flows = _frame({
            "day": day, "origin": labels[0], "destination": labels[1],
            "material": labels[2], "tonnes": tonnes,
        }, FLOW_COLUMNS)
        day, key, tonnes = (_column(c, t) for c, t in zip(self.pr, _KEYED, strict=True))
        self._clip(day, tonnes)
        labels = _labels(list(self._outputs), key, 4)
        production = _frame({
            "day": day, "facility": labels[0], "country": labels[1],
            "stage": labels[2], "material": labels[3], "tonnes": tonnes,
        }, PRODUCTION_COLUMNS)
        day, key, held, released, bought = (
            _column(c, t) for c, t in zip(self.sp, _SP_TYPES, strict=True))
        labels = _labels(list(self._stockpiles), key, 3)
        stockpiles = _frame({
            "day": day, "stockpile": labels[0], "country": labels[1], "material": labels[2],
            "holdings_t": held, "released_t": released, "bought_t": bought,
        }, STOCKPILE_COLUMNS)
        return timeseries, flows, production, stockpiles

    def _clip(self, day: np.ndarray, *columns: np.ndarray) -> None:
        """Scale ``columns`` (fresh arrays) in place on the rows of the last step, if it
        runs past the end date (:attr:`last_step`)."""
        if self.last_step is None or not len(day):
            return
        start, share = self.last_step
        rows = day >= start
        if rows.any():
            for column in columns:
                column[rows] *= share


_KEYED = (np.int32, np.intp, np.float64)
_TS_TYPES = (np.int32, np.intp, np.float64, np.float64, np.float64, np.float64)
_SP_TYPES = (np.int32, np.intp, np.float64, np.float64, np.float64)


def _tonnes(n: int) -> list[array[float]]:
    """``n`` empty columns of tonnes (or prices)."""
    return [array("d") for _ in range(n)]


def _column(values: list[int] | array[float], dtype) -> np.ndarray:
    """A recorded column as an array (days and keys are ints, tonnes floats)."""
    if isinstance(values, array):
        return np.array(values, dtype=dtype)  # (a copy of its buffer)
    return np.fromiter(values, dtype=dtype, count=len(values))


def _frame(data: dict[str, object], columns: list[str]) -> pd.DataFrame:
    """A frame of ``data``, whose keys must be ``columns`` in order (``pd.DataFrame(data,
    columns=columns)``, without its reindexing)."""
    if list(data) != columns:
        raise ValueError(f"columns {list(data)} are not {columns}")
    return pd.DataFrame(data)


@lru_cache(maxsize=256)
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of ``categories`` (the same labels recur in every replication
    of a scenario, and building the dtype validates them each time)."""
    return pd.CategoricalDtype(list(categories))


def _labels(table: list[tuple[str, ...]], keys: np.ndarray, width: int) -> list[pd.Categorical]:
    """Categorical label columns for integer ``keys`` into ``table`` (sorted categories)."""
    out = []
    for j in range(width):
        values = [row[j] for row in table]
        categories = sorted(set(values))
        index = {c: i for i, c in enumerate(categories)}
        lookup = np.array([index[v] for v in values], dtype=np.int32)
        codes = lookup[keys] if len(keys) else np.empty(0, dtype=np.int32)
        out.append(pd.Categorical.from_codes(codes, dtype=_dtype(tuple(categories))))
    return out
