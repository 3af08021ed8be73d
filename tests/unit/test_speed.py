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


def test_a_slow_start_leaves_the_number_within_the_window() -> None:
    # The first three PPO cycles measure layouts and thread counts (2.1 s each, 512 steps), then
    # 1.4 s each: ten seconds on, the number is the pace of now, not of the start.
    meter = SpeedMeter()
    now, steps = 0.0, 0
    for cycle in range(20):
        meter.mark(now, steps)
        now, steps = now + (2.1 if cycle < 3 else 1.4), steps + 512
    assert meter.steps_per_sec == pytest.approx(512 / 1.4)


def test_long_cycles_are_averaged_over_several_of_them() -> None:
    # A big PPO config on a slow machine: 8,192 steps in 20 s cycles, alternating 18 and 22 s.
    meter = SpeedMeter()
    now, steps = 0.0, 0
    for cycle in range(10):
        meter.mark(now, steps)
        now, steps = now + (18.0 if cycle % 2 else 22.0), steps + 8_192
    assert len(meter.marks) == meter.window_cycles + 1
    span = meter.marks[-1][0] - meter.marks[0][0]
    assert meter.steps_per_sec == pytest.approx(3 * 8_192 / span)
