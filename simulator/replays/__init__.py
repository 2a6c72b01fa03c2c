"""Historical replays (DATA.md section 2): each module runs a shipped scenario against its
baseline and returns checks with tolerances plus a figure against the historical points."""

from .base import Check, Replay, at_least, at_most, monthly_flows, relative, run_pair, within

__all__ = ["Check", "Replay", "at_least", "at_most", "monthly_flows", "relative", "run_pair",
           "within"]
