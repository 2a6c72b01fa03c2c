"""Figures (matplotlib Figure API, Agg; no pyplot)."""

from .curves import PALETTE, fill_rate_figure, group_colors, save_figure

__all__ = ["PALETTE", "fill_rate_figure", "group_colors", "save_figure"]
