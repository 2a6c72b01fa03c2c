"""A tiny two-country network shared by the examples: one mine in Australia selling ore to
Japan's EV makers, with a scheduled mine outage. Shortfall is known by hand: 50 t while the
first order is in transit, plus 10 t for every day of outage times the share of capacity lost.
"""

from __future__ import annotations

TINY: dict = {
    "name": "tiny_outage",
    "start_date": "2024-01-01",
    "end_date": "2025-01-01",
    "simulation": {"step_days": 1, "warmup_days": 0},
    "stages": ["mine"],
    "countries": {"AU": {"name": "Australia"}, "JP": {"name": "Japan"}},
    "materials": {"ore": {}},
    "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}},
    "facilities": {"au_mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 3650,
                               "output_cover_days": 0}},
    "demand": {"jp_ev": {"country": "JP", "sector": "ev", "material": "ore",
                         "rate_tpy": 3650, "cover_days": 0}},
    "sourcing": {"jp_ore": {"country": "JP", "material": "ore", "suppliers": {"AU": 1.0}}},
    "lead_times": {"default_days": 5},
    "events": {"mine_outage": {"type": "facility_outage", "facilities": ["au_mine"],
                               "start": "2024-04-10", "duration_days": 10,
                               "capacity_lost": 1.0}},
}
