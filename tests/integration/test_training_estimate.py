"""The training time estimate is what happens: within 30 % of a real tiny run once one run measured this machine."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from tests.integration.conftest import tiny_config
from tests.integration.test_cli import run_cli

from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.runs.train_estimate import measured_speed


def test_a_training_estimate_is_within_30_percent_once_this_machine_trained_one(tmp_path: Path) -> None:
    data = tiny_config("pong", 4000, milestones_pct=[0, 100], recording={"enabled": False})
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    home = tmp_path / "home"
    # The first run, from the CLI (detached: its console would share the cores the estimate measures):
    # it says its estimate is a first guess, then measures this machine.
    code, output = run_cli("train", "--home", str(home), "--config", str(config_file), "--detach")
    said = " ".join(output.split())  # the console wraps long lines
    assert code == 0, output
    assert "Estimated training time: ≈" in said and "(cpu; a first guess: no run measured" in said, output
    service = RunService(home)
    (started_run,) = service.list_runs()
    first = service.wait(started_run.run_id, timeout=300, poll=0.1)
    assert first.status is RunStatus.COMPLETED, first.message
    assert first.device == "cpu" or (first.device or "").startswith("cuda")
    speed = measured_speed(service.home, "ppo", 4, first.device or "cpu")
    assert speed is not None and speed.legs == 1
    config = build_config(data)
    estimate = service.training_estimate(config)
    assert estimate.basis == "measured", estimate
    started = time.monotonic()
    second = service.wait(service.create(config).run_id, timeout=300, poll=0.1)
    took = time.monotonic() - started
    assert second.status is RunStatus.COMPLETED, second.message
    assert abs(estimate.seconds - took) / took <= 0.3, (estimate, took)
