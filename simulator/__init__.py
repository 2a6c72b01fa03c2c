"""critmin: a discrete-event simulator of critical-mineral supply chains."""

from .api import simulate

__all__ = ["simulate"]
