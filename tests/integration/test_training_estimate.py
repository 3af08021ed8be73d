"""The training time estimate is what happens: within 30 % of a real tiny run once one run measured this machine."""

from __future__ import annotations

import time
from pathlib import Path

from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.runs.train_estimate import measured_speed
from tests.integration.conftest import tiny_config


def test_a_training_estimate_is_within_30_percent_once_this_machine_trained_one(tmp_path: Path) -> None:
    service = RunService(tmp_path / "home")
    config = build_config(tiny_config("pong", 4000, milestones_pct=[0, 100], recording={"enabled": False}))
    first = service.wait(service.create(config).run_id, timeout=300, poll=0.1)
    assert first.status is RunStatus.COMPLETED, first.message
    assert first.legs[0].device == "cpu" or first.legs[0].device.startswith("cuda")
    speed = measured_speed(service.home, "ppo", 4, first.legs[0].device)
    assert speed is not None and speed.legs == 1
    estimate = service.training_estimate(config)
    assert estimate.basis == "measured", estimate
    started = time.monotonic()
    second = service.wait(service.create(config).run_id, timeout=300, poll=0.1)
    took = time.monotonic() - started
    assert second.status is RunStatus.COMPLETED, second.message
    assert abs(estimate.seconds - took) / took <= 0.3, (estimate, took)
