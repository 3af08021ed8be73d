"""A render's measured cost has a fixed part and a part per frame: a longer render is not its start-up times more."""

from __future__ import annotations

from pathlib import Path

import pytest

from retroml.calibration import record_render, render_cost


def test_the_fixed_part_of_a_render_is_measured_apart_from_its_frames(tmp_path: Path) -> None:
    # 2 workers, 7 s of wall time, of which the segments spent 4 worker-seconds on their 600 frames.
    record_render(tmp_path, "single", "640x480", 600, 2, 7.0, 20.0, 200_000, frame_seconds=4.0)
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None
    assert cost.start_seconds == pytest.approx(5.0)
    assert cost.worker_seconds_per_frame == pytest.approx(4.0 / 600)
    # Four times the frames on the same two workers: 5 s + 4 × 2 s, not 4 × 7 s.
    assert cost.start_seconds + 2400 * cost.worker_seconds_per_frame / 2 == pytest.approx(13.0)


def test_a_second_render_blends_both_parts(tmp_path: Path) -> None:
    record_render(tmp_path, "single", "640x480", 600, 2, 7.0, 20.0, 200_000, frame_seconds=4.0)
    record_render(tmp_path, "single", "640x480", 1200, 2, 9.0, 40.0, 400_000, frame_seconds=8.0)
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None and cost.renders == 2
    assert cost.start_seconds == pytest.approx(5.0)  # 5 and 5
    assert cost.worker_seconds_per_frame == pytest.approx(4.0 / 600)  # the same rate twice
