"""One licence application per lane and window of ``application_days``, whatever the step.

Found 2026-12-06: every lot drew its own approval, so a daily run made seven decisions a
week where a weekly run made one (V7: Japan's Dy/Tb metal plant cut off in 5 of 16 daily
replications against 9 of 16 weekly), and a re-order of two nanotonnes drew a decision of its
own, so the threat scenario written in kilograms gave another licence history than in
tonnes (fill rates 2-6 points apart). Now the lots a buyer orders on a lane in one window
share one decision, drawn from a table indexed by (window, attempt).
"""

from __future__ import annotations

import pytest

from simulator.engine import run_replication
from simulator.engine.events.applications import Applications
from simulator.engine.rng import RandomStreams
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, date, flows_by_day

DELAY = 14


def _licence(step: int, reapply: int = 1, delay: int = DELAY, **extra) -> dict:
    """BASE (AU ore to JP, 10 t/day, 5-day lane) with every AU export to JP licensed from
    day 0, half of the applications approved after ``delay`` days; a denied buyer may not
    re-order for ``reapply`` days."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(0),
           "licence": {"approval_probability": 0.5, "delay_days": delay,
                       "reapply_days": reapply, **extra}}
    return deep_update(BASE, {"simulation": {"step_days": step},
                              "events": {"lic": lic}})


def _shipped(step: int, seed: int, **kw) -> tuple[set[int], set[int], float]:
    """(windows of the filing days of the lots that shipped (shipping day - DELAY), those
    filing days, tonnes shipped)."""
    flows = flows_by_day(run_replication(make_scenario(_licence(step, **kw)), seed=seed))
    filed = {d - DELAY for d, t in flows.items() if t > 0.0}
    return {d // 7 for d in filed}, filed, float(flows.sum())


@pytest.mark.parametrize("seed", range(4))
def test_the_decisions_do_not_depend_on_the_step(seed: int) -> None:
    """Daily, weekly and 14-day runs approve the same weeks (a run files in a week only when
    its buyer orders then, so a few differ) and ship within 5% of each other; before, a
    daily run drew seven decisions a week and a 14-day run one a fortnight (seed 0: 2,810 t
    daily against 2,129 t weekly)."""
    daily, _, daily_t = _shipped(1, seed)
    assert 15 < len(daily) < 38  # about half of the year's 52 windows
    for step in (7, 14):
        windows, filed, tonnes = _shipped(step, seed)
        assert len(daily ^ windows) <= 0.25 * len(daily | windows), (step, daily, windows)
        if step == 7:
            assert tonnes == pytest.approx(daily_t, rel=0.05)
        else:  # a 14-day step files each week's part of its order on the week's first day
            assert any(d % 14 == 7 for d in filed)


def test_a_denied_window_applies_again_after_the_denial() -> None:
    """A lot ordered in a window after its application was denied is a new application
    (the next attempt) with a decision of its own; lots ordered before share the first."""
    apps = Applications(RandomStreams(0, 0), "licence:test", 7, 365, 28)
    first = apps.draw(8)
    assert apps.draw(9) == first and apps.draw(13) == first  # the same window: shared
    apps.denied(*first[:2])
    again = apps.draw(12)
    assert again[:2] == (1, 1) and again[2:] != first[2:]
    assert apps.draw(13) == again
    apps.denied(1, 0)  # a late denial of the first attempt changes nothing now
    assert apps.draw(13) == again


def test_a_windows_decision_does_not_depend_on_the_others_or_the_horizon() -> None:
    """Common random numbers: window w's draws are the same whichever windows came first,
    however long the horizon and the warm-up."""
    a = Applications(RandomStreams(3, 2), "licence:x", 7, 365, 28)
    b = Applications(RandomStreams(3, 2), "licence:x", 7, 3650, 182)
    assert [a.draw(d) for d in (3, 50, 200, -20)] == [b.draw(d) for d in (3, 50, 200, -20)]
    c = Applications(RandomStreams(3, 2), "licence:x", 7, 365, 28)
    assert c.draw(200) == a.draw(200) and c.draw(-20) == a.draw(-20)
    assert a.draw(-20)[2:] != a.draw(20)[2:]  # the warm-up draws from its own stream


def test_a_step_past_the_horizon_files_in_a_window_beyond_it() -> None:
    """A 28-day step that starts before the end date files its last window's part after it
    (every shipped licence scenario crashed at 28-day steps: the table stopped at the
    horizon); the extra windows draw as a longer horizon would have."""
    short = Applications(RandomStreams(0, 0), "licence:x", 7, 100, 0)
    long = Applications(RandomStreams(0, 0), "licence:x", 7, 1000, 0)
    assert short.draw(5) == long.draw(5)
    assert short.draw(126) == long.draw(126)  # window 18, past the 16 rows drawn at first
    assert short.draw(-3) == long.draw(-3)
    assert short.draw(-50) == long.draw(-50)  # before a warm-up of 0 days (7 weeks early)
