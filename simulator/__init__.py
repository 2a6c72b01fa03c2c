"""critmin: a discrete-event simulator of critical-mineral supply chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_attributes

if TYPE_CHECKING:
    from .api import simulate

__all__ = ["simulate"]

# imported on first use (simulator.lazy): the command line imports this package for a few
# light names and should not pay for the rest
__getattr__, __dir__ = lazy_attributes(__name__, {
    "simulate": ".api",
}, globals())
