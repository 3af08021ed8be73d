"""Before a machine's first run, a short probe measures it; the first real run replaces the probe."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.test_cli import run_cli

from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.runs.train_estimate import measured_speed
from retroml.runs.train_probe import probe_running


def test_calibrate_measures_this_machine_and_the_estimate_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, output = run_cli("calibrate", "--home", str(home), "--game", "pong", "--algo", "a2c", "--envs", "4")
    said = " ".join(output.split())
    assert code == 0, output
    assert "timesteps/s" in said and "measured by a short probe of A2C with 4 envs" in said, output
    probed = measured_speed(home, "a2c", 4, "cpu")
    assert probed is not None and probed.legs == 0 and probed.steps_per_sec > 0
    # The first real run of that kind replaces the probe's number with its own.
    service = RunService(home)
    config = build_config(
        {
            "game": {"id": "pong"},
            "train": {"algo": "a2c", "total_timesteps": 3000, "n_envs": 4},
            "recording": {"enabled": False},
        }
    )
    run = service.wait(service.create(config).run_id, timeout=300, poll=0.2)
    assert run.status is RunStatus.COMPLETED, run.message
    measured = measured_speed(home, "a2c", 4, "cpu")
    assert measured is not None and measured.legs == 1
    assert service.training_estimate(config).basis == "measured"


def test_a_form_asking_to_measure_starts_one_background_probe(tmp_path: Path) -> None:
    service = RunService(tmp_path / "home")
    config = build_config({"game": {"id": "pong"}, "train": {"algo": "a2c", "total_timesteps": 1_000_000, "n_envs": 4}})
    first = service.training_estimate(config, probe=True)
    assert first.basis == "first guess" and first.probing and "a short probe is measuring it now" in first.note
    again = service.training_estimate(config, probe=True)  # while it measures: no second probe
    assert again.probing and len(list(service.home.glob("calibration.probe.lock"))) == 1
    deadline = time.monotonic() + 240
    while probe_running(service.home) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not probe_running(service.home), "the probe did not finish in 4 minutes"
    after = service.training_estimate(config)
    assert after.basis == "probe" and not after.probing, after
    assert after.seconds < 1_000_000 / after.steps_per_sec + 60
