"""Steps per second over whole collect+update cycles."""

from __future__ import annotations

import pytest

from retroml.engine.monitor import SpeedMeter


def test_a_rollout_is_never_measured_without_its_update() -> None:
    # PPO at 64 steps/s: 1,024 steps collected in 4 s, then a 12 s update; marks at each rollout start.
    meter = SpeedMeter(window_sec=30)
    assert meter.steps_per_sec is None
    now, steps = 0.0, 0
    for _ in range(10):
        meter.mark(now, steps)
        now, steps = now + 16.0, steps + 1_024
    assert meter.steps_per_sec == pytest.approx(64.0)


def test_the_window_follows_a_change_of_pace() -> None:
    meter = SpeedMeter(window_sec=30)
    now, steps = 0.0, 0
    for _ in range(60):  # 100 steps/s for a minute
        meter.mark(now, steps)
        now, steps = now + 1.0, steps + 100
    for _ in range(60):  # then 50 steps/s
        meter.mark(now, steps)
        now, steps = now + 1.0, steps + 50
    assert meter.steps_per_sec == pytest.approx(50.0)
    span = meter.marks[-1][0] - meter.marks[0][0]
    assert 30 <= span <= 31
