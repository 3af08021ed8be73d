"""Stopping, killing, continuing and branching real training processes."""

from __future__ import annotations

import os
import signal

import pytest
import yaml
from stable_baselines3 import PPO

from retroml.config import build_config
from retroml.engine.checkpoints import list_milestones
from retroml.errors import ConflictError, InvalidInputError, NotFoundError
from retroml.runs.service import RunService
from tests.integration.conftest import tiny_config, wait_until

LONG = 2_000_000  # a budget these tests never finish: they stop or kill the run first


@pytest.fixture
def service(tmp_path) -> RunService:
    return RunService(tmp_path / "home")


def _start_long_run(service: RunService, **train: object) -> str:
    config = build_config(tiny_config("pong", LONG, train=train, recording={"enabled": False}))
    run_id = service.create(config)["run_id"]
    wait_until(lambda: service.get(run_id)["timesteps"] > 0, timeout=120)
    return run_id


def test_sigterm_saves_a_checkpoint_and_marks_stopped(service: RunService) -> None:
    run_id = _start_long_run(service)
    with pytest.raises(ConflictError, match="already running"):
        service.start(run_id)
    with pytest.raises(ConflictError, match="stop it before deleting"):
        service.delete(run_id)
    service.stop(run_id)
    row = service.wait(run_id, timeout=120)
    assert row["status"] == "stopped"
    latest = service.paths(run_id).latest_checkpoint
    model = PPO.load(latest, device="cpu")
    assert 0 < model.num_timesteps < LONG
    assert row["timesteps"] == model.num_timesteps


def test_sigkill_during_a_save_leaves_the_previous_checkpoint_intact(service: RunService) -> None:
    run_id = _start_long_run(service, checkpoint_every_sec=1, keep_last=0)
    folder = service.paths(run_id).checkpoints
    wait_until(lambda: (folder / "latest.zip").exists(), timeout=60)
    # Catch the worker with a save in flight: its temporary file exists only during the write.
    wait_until(lambda: any(folder.glob(".latest.zip.*.tmp")), timeout=60, poll=0.0005)
    os.kill(service.get(run_id)["pid"], signal.SIGKILL)
    model = PPO.load(folder / "latest.zip", device="cpu")
    assert model.num_timesteps > 0
    for checkpoint in list_milestones(folder):
        PPO.load(checkpoint.path, device="cpu")
    row = service.wait(run_id, timeout=30)
    assert row["status"] == "interrupted"
    assert "continue" in row["message"]


def test_a_process_that_dies_silently_is_shown_interrupted_and_can_continue(service: RunService) -> None:
    run_id = _start_long_run(service, checkpoint_every_sec=1)
    wait_until(lambda: service.paths(run_id).latest_checkpoint.exists(), timeout=60)
    os.kill(service.get(run_id)["pid"], signal.SIGKILL)
    assert service.wait(run_id, timeout=30)["status"] == "interrupted"
    saved = PPO.load(service.paths(run_id).latest_checkpoint, device="cpu").num_timesteps
    row = service.continue_run(run_id, 512)
    assert row["leg"] == 2 and row["leg_start_timesteps"] == saved
    row = service.wait(run_id, timeout=120)
    assert row["status"] == "completed"
    assert row["timesteps"] >= saved + 512
    assert service.progress(row) == 1.0


def test_continue_keeps_counting_and_branch_records_lineage(service: RunService) -> None:
    config = build_config(tiny_config("breakout", 1024, milestones_pct=[0, 50, 100], recording={"enabled": False}))
    run_id = service.create(config)["run_id"]
    first = service.wait(run_id, timeout=120)
    assert first["status"] == "completed"

    service.continue_run(run_id, 1024)
    second = service.wait(run_id, timeout=120)
    assert second["status"] == "completed" and second["leg"] == 2
    assert second["timesteps"] >= first["timesteps"] + 1024
    assert service.progress(second) == 1.0
    legs = second["legs"]
    assert [leg["budget"] for leg in legs] == [1024, 1024]
    assert legs[1]["start_timesteps"] == first["timesteps"]
    leg2_milestones = [
        c for c in list_milestones(service.paths(run_id).checkpoints) if c.timesteps > first["timesteps"]
    ]
    assert [c.milestone_pct for c in leg2_milestones] == [50, 100]  # leg 2's 0 % is leg 1's 100 %
    leg_of_metrics = [row["leg"] for row in service.metrics(run_id)]
    assert leg_of_metrics == sorted(leg_of_metrics) and leg_of_metrics[-1] == 2

    child = service.branch(run_id, 50, overrides=["train.learning_rate=1e-4"], steps=512)
    child = service.wait(child["run_id"], timeout=120)
    assert child["status"] == "completed"
    assert child["parent_run_id"] == run_id
    assert "milestone_50pct_" in child["parent_checkpoint"]
    assert child["changes"] == {"train.learning_rate": "1e-4", "train.total_timesteps": 512}
    written = yaml.safe_load(service.paths(child["run_id"]).config.read_text())
    assert written["train"]["learning_rate"] == pytest.approx(1e-4)
    parent_at_50 = int(child["parent_checkpoint"].rsplit("_", 1)[1].removesuffix(".zip"))
    assert child["leg_start_timesteps"] == parent_at_50
    assert child["timesteps"] >= parent_at_50 + 512


def test_bad_requests_are_one_sentence(service: RunService) -> None:
    with pytest.raises(NotFoundError, match="there is no run 'run-00000000'"):
        service.get("run-00000000")
    with pytest.raises(NotFoundError):
        service.get("../../etc")
    run_id = service.create(build_config(tiny_config()), start=False)["run_id"]
    with pytest.raises(InvalidInputError, match="no checkpoint to continue from"):
        service.continue_run(run_id, 1000)
    with pytest.raises(InvalidInputError, match="--steps must be between"):
        service.continue_run(run_id, -5)
    with pytest.raises(InvalidInputError, match="no checkpoint at the 50 % milestone"):
        service.branch(run_id, 50)
    service.delete(run_id)
    assert not service.paths.__self__.home.joinpath("runs", run_id).exists()
