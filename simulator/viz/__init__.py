"""Figures (matplotlib Figure API, Agg; no pyplot)."""

from .compare import overlay_figure, scenario_colors
from .curves import PALETTE, fill_rate_figure, group_colors, save_figure
from .fan import fan_chart
from .panels import concentration_figure, origin_mix_figure, small_multiples
from .stockpiles import stockpile_figure, stockpile_groups

__all__ = [
    "PALETTE",
    "concentration_figure",
    "fan_chart",
    "fill_rate_figure",
    "group_colors",
    "origin_mix_figure",
    "overlay_figure",
    "save_figure",
    "scenario_colors",
    "small_multiples",
    "stockpile_figure",
    "stockpile_groups",
]
