"""The run report's "By country" section: a country selector (one link per country with
demand) and, per country, its demand sectors' fill-rate panels and metrics.

A sector summed over countries can look fine while one country's users go short; this is
where an analyst reads Japan's EV makers without a second run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ..scenario.models import Scenario
from .markup import _e, _figure, _png_data_uri, _table

__all__ = ["country_section"]

#: A country's panels: at most this many (its sectors with the largest shortfall first).
MAX_PANELS = 8


def country_order(metrics: pd.DataFrame) -> list[tuple[str, float]]:
    """Countries with demand and their mean cumulative shortfall per replication (t),
    largest first, then by code."""
    per = (metrics.groupby(["replication", "country"], observed=True)["cumulative_shortfall_t"]
           .sum().groupby("country", observed=True).mean())
    return sorted(((str(c), float(v)) for c, v in per.items()), key=lambda x: (-x[1], x[0]))


def country_section(scenario: Scenario, timeseries: pd.DataFrame, metrics: pd.DataFrame,
                    replications: int, events: Sequence[Any],
                    demand_rows: Callable[[Sequence[str]], list[list[str]]],
                    head: Sequence[str], figures: bool = True) -> list[str]:
    """The ``<section id="countries">`` HTML parts: a selector of every country with demand
    (short ones first, with their shortfall), then one block per country (anchor
    ``country-<code>``) with a small-multiples figure of its demand sectors (when it ran
    short and ``figures``) and the rows ``demand_rows`` gives for its demand ids under
    ``head``."""
    from ..viz.panels import small_multiples

    order = country_order(metrics)
    parts = ['<section id="countries"><h2>By country</h2>',
             "<p>Each country's own demand sectors (a sector summed over countries can look "
             "fine while one country's users go short). Countries that ran short come "
             "first.</p>"]

    def name(code: str) -> str:
        c = scenario.countries.get(code)
        return f"{c.name} ({code})" if c and c.name else code

    links = []
    for code, short in order:
        label = _e(name(code)) + (f": {short:,.0f}\u00a0t short" if short > 1e-6 else "")
        links.append(f'<a href="#country-{_e(code)}">{label}</a>')
    parts.append('<nav class="countries" aria-label="Countries"><strong>Country:</strong> '
                 + " · ".join(links) + "</nav>")
    ids_of = metrics.drop_duplicates("demand_id").groupby("country", observed=True)[
        "demand_id"].apply(lambda s: sorted(map(str, s)))
    for code, short in order:
        ids = ids_of.get(code, [])
        parts.append(f'<div class="country" id="country-{_e(code)}"><h3>{_e(name(code))}'
                     "</h3>")
        if short > 1e-6 and figures:
            ts = timeseries[timeseries["country"].astype(str) == code]
            fig = small_multiples(ts, f"{scenario.name}, {name(code)}", replications,
                                  events=events, max_panels=MAX_PANELS)
            parts.append(_figure(
                _png_data_uri(fig), f"Fill rate of each demand sector in {name(code)}",
                f"{_e(name(code))}: fill rate of each of its sectors (median, P25-P75 and "
                "P5-P95 across replications) for the sectors that ran short, the largest "
                "shortfall first.",
                f"fig-country-{code}"))
        elif short <= 1e-6:
            parts.append("<p>No demand sector of this country ran short in any "
                         "replication.</p>")
        parts.append('<div class="scroll">' + _table(list(head), demand_rows(ids),
                                                     numeric_from=2) + "</div></div>")
    parts.append("</section>")
    return parts
