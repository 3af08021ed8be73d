"""A render's measured cost: a fixed part, a set-up per segment and a part per frame, spread over its workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from retroml.calibration import record_render, render_cost
from retroml.video.pipeline import warm_setups


def test_the_fixed_part_of_a_render_is_measured_apart_from_its_frames(tmp_path: Path) -> None:
    # 2 workers, two segments of 300 frames, 7 s of wall time, of which the segments spent 4 worker-seconds on frames.
    record_render(tmp_path, "single", "640x480", [300, 300], 2, 7.0, 20.0, 200_000, frame_seconds=4.0)
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None
    assert cost.start_seconds == pytest.approx(5.0)
    assert cost.worker_seconds_per_frame == pytest.approx(4.0 / 600)
    # Four times the frames on the same two workers: 5 s + 4 × 2 s, not 4 × 7 s.
    assert cost.render_seconds([1200, 1200], 2) == pytest.approx(13.0)


def test_a_second_render_blends_both_parts(tmp_path: Path) -> None:
    record_render(tmp_path, "single", "640x480", [300, 300], 2, 7.0, 20.0, 200_000, frame_seconds=4.0)
    record_render(tmp_path, "single", "640x480", [600, 600], 2, 9.0, 40.0, 400_000, frame_seconds=8.0)
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None and cost.renders == 2
    assert cost.start_seconds == pytest.approx(5.0)  # 5 and 5
    assert cost.worker_seconds_per_frame == pytest.approx(4.0 / 600)  # the same rate twice


def test_each_segment_sets_up_and_an_odd_one_out_waits_for_a_worker(tmp_path: Path) -> None:
    # Three segments of 225 frames on two workers, 1 s of set-up each after a worker's first:
    # one worker renders two of them, so the frame part is 2 × (1 + 225 f), not 1.5 × 225 f.
    record_render(tmp_path, "single", "640x480", [225] * 3, 2, 8.0, 30.0, 300_000, 3.0, warm_setups=[1.0])
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None and cost.segment_seconds == pytest.approx(1.0)
    per_segment = 1.0 + 225 * cost.worker_seconds_per_frame
    assert cost.start_seconds == pytest.approx(8.0 - 2 * per_segment)
    # Eight segments of the same size: four per worker, so three more set-ups and frame parts.
    assert cost.render_seconds([225] * 8, 2) == pytest.approx(8.0 + 2 * per_segment)
    # A render where each worker had one segment keeps the set-up measured before.
    record_render(tmp_path, "single", "640x480", [225] * 2, 2, 6.0, 20.0, 200_000, 2.0)
    cost = render_cost(tmp_path, "single", "640x480", 2)
    assert cost is not None and cost.segment_seconds == pytest.approx(1.0)


def test_only_a_workers_later_segments_say_what_a_set_up_costs() -> None:
    results = [
        {"index": 0, "worker": "a", "setup_seconds": 2.4},
        {"index": 1, "worker": "b", "setup_seconds": 2.5},
        {"index": 2, "worker": "b", "setup_seconds": 0.4},
        {"index": 3, "worker": "a", "setup_seconds": 0.3},
    ]
    assert warm_setups(results) == [0.4, 0.3]
