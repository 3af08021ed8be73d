"""Stopping, killing, continuing and branching real training processes."""

from __future__ import annotations

import itertools
import os
import signal
import time

import pytest
import yaml
from stable_baselines3 import DQN, PPO
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.engine.checkpoints import list_milestones
from retroml.errors import ConflictError, InvalidInputError, NotFoundError
from retroml.runs.model import Action
from retroml.runs.service import RunService

LONG = 2_000_000  # a budget these tests never finish: they stop or kill the run first


@pytest.fixture
def service(tmp_path) -> RunService:
    return RunService(tmp_path / "home")


def _start_long_run(service: RunService, **train: object) -> str:
    config = build_config(tiny_config("pong", LONG, train=train, recording={"enabled": False}))
    run_id = service.create(config).run_id
    wait_until(lambda: service.get(run_id).timesteps > 0, timeout=120)
    return run_id


def test_sigterm_saves_a_checkpoint_and_marks_stopped(service: RunService) -> None:
    run_id = _start_long_run(service)
    with pytest.raises(ConflictError, match="already running"):
        service.start(run_id)
    with pytest.raises(ConflictError, match="stop it before deleting"):
        service.delete(run_id)
    service.stop(run_id)
    row = service.wait(run_id, timeout=120)
    assert row.status == "stopped"
    latest = service.paths(run_id).latest_checkpoint
    model = PPO.load(latest, device="cpu")
    assert 0 < model.num_timesteps < LONG
    assert row.timesteps == model.num_timesteps


def test_sigkill_during_a_save_leaves_the_previous_checkpoint_intact(service: RunService) -> None:
    run_id = _start_long_run(service, checkpoint_every_sec=1, keep_last=0)
    folder = service.paths(run_id).checkpoints
    wait_until(lambda: (folder / "latest.zip").exists(), timeout=60)
    # Catch the worker with a save in flight: its temporary file exists only during the write.
    wait_until(lambda: any(folder.glob(".latest.zip.*.tmp")), timeout=60, poll=0.0005)
    os.kill(service.get(run_id).pid, signal.SIGKILL)
    model = PPO.load(folder / "latest.zip", device="cpu")
    assert model.num_timesteps > 0
    for checkpoint in list_milestones(folder):
        PPO.load(checkpoint.path, device="cpu")
    row = service.wait(run_id, timeout=30)
    assert row.status == "interrupted"
    assert "continue" in row.message


def test_a_killed_run_finishes_its_budget_and_its_curves_never_go_back(service: RunService) -> None:
    config = build_config(tiny_config("pong", 4096, train={"checkpoint_every_sec": 1}, recording={"enabled": False}))
    run_id = service.create(config).run_id
    wait_until(lambda: service.paths(run_id).latest_checkpoint.exists(), timeout=120)
    saved = PPO.load(service.paths(run_id).latest_checkpoint, device="cpu").num_timesteps
    # Let leg 1 train and write metrics past the checkpoint before the crash.
    wait_until(lambda: service.get(run_id).timesteps >= saved + 1024, timeout=120)
    os.kill(service.get(run_id).pid, signal.SIGKILL)
    killed = service.wait(run_id, timeout=30)
    assert killed.status == "interrupted"
    assert Action.CONTINUE in killed.actions
    saved = PPO.load(service.paths(run_id).latest_checkpoint, device="cpu").num_timesteps
    assert killed.timesteps > saved  # metrics rows of leg 1 lie past the checkpoint

    run = service.continue_run(run_id, "finish")
    assert run.leg == 2 and run.leg_start_timesteps == saved and run.total_timesteps == 4096
    run = service.wait(run_id, timeout=300)
    assert run.status == "completed" and run.progress == 1.0
    assert run.timesteps >= 4096
    rows = service.metrics(run_id)
    assert [row["timesteps"] for row in rows] == sorted(row["timesteps"] for row in rows)
    assert [row["leg"] for row in rows] == sorted(row["leg"] for row in rows)
    assert [row["wall_time"] for row in rows] == sorted(row["wall_time"] for row in rows)
    # Training time counts both legs; the run's average pace is its timesteps over that time.
    assert run.training_seconds > rows[-1]["wall_time"] * 0.9
    assert run.steps_per_sec == pytest.approx(run.timesteps / run.training_seconds)


def test_continue_keeps_the_history_and_milestones_of_every_leg(service: RunService) -> None:
    config = build_config(tiny_config("breakout", 2048, milestones_pct=[0, 50, 100], recording={"enabled": False}))
    run_id = service.create(config).run_id
    first = service.wait(run_id, timeout=300)
    assert first.status == "completed"
    assert first.score_best is not None and first.score_mean is not None  # Breakout games end in 2k steps
    with pytest.raises(InvalidInputError, match="has trained its whole budget of 2,048 timesteps"):
        service.continue_run(run_id, "finish")

    service.continue_run(run_id, "more")  # N defaults to the run's own budget
    second = service.wait(run_id, timeout=300)
    assert second.status == "completed" and second.leg == 2
    assert second.total_timesteps == first.total_timesteps + 2048
    assert second.timesteps >= first.timesteps + 2048
    assert second.score_best is not None and second.score_best >= first.score_best
    assert second.score_mean is not None
    assert second.training_seconds > first.training_seconds
    assert [leg.budget for leg in second.legs] == [2048, second.total_timesteps - first.timesteps]
    # Leg 1's milestones stay reached; the journey's order runs forward in timesteps and percent.
    assert all(milestone.reached for milestone in second.milestones)
    labels = [milestone.label for milestone in second.milestones]
    assert labels[:3] == ["0 %", "25 %", "50 %"] and labels[-1] == "100 %"
    steps = [milestone.timesteps for milestone in second.milestones]
    percents = [milestone.pct for milestone in second.milestones]
    assert steps == sorted(set(steps)) and percents == sorted(set(percents))
    rows = service.metrics(run_id)
    best = [row["score_best"] for row in rows if row["score_best"] is not None]
    assert best == sorted(best) and best[-1] == second.score_best  # the "best" curve never falls


def test_a_branch_trains_at_the_learning_rate_it_records(service: RunService) -> None:
    config = build_config(tiny_config("breakout", 2048, milestones_pct=[0, 50, 100], recording={"enabled": False}))
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=300).status == "completed"

    child = service.branch(run_id, 50, overrides=["train.learning_rate=1e-4"], steps=4096)
    child = service.wait(child.run_id, timeout=300)
    assert child.status == "completed"
    assert child.parent_run_id == run_id
    assert child.parent_checkpoint is not None and "milestone_50pct_" in child.parent_checkpoint
    assert child.changes == {"train.learning_rate": "1e-4", "train.total_timesteps": 4096}
    written = yaml.safe_load(service.paths(child.run_id).config.read_text())
    assert written["train"]["learning_rate"] == pytest.approx(1e-4)
    assert child.start_timesteps == 1024 and child.timesteps >= 1024 + 4096
    # SB3 logs the rate it used for each update: the first is 1e-4, annealed by the one rollout
    # (256 of 4,096 steps) collected before it; the last reaches 0 at the branch's own end.
    rates = [row["learning_rate"] for row in service.metrics(child.run_id)]
    assert rates[0] == pytest.approx(1e-4 * (1 - 256 / 4096), rel=0.02)
    assert rates == sorted(rates, reverse=True) and rates[-1] == pytest.approx(0.0, abs=1e-7)
    assert [m.label for m in child.milestones if m.reached] == ["0 %", "50 %", "100 %"]


def test_a_stop_in_the_first_moments_leaves_a_run_that_can_continue(service: RunService) -> None:
    config = build_config(tiny_config("pong", 1024, recording={"enabled": False}))
    run = service.create(config)
    assert run.pid is not None
    os.kill(run.pid, signal.SIGTERM)  # before the process has even imported torch
    run = service.wait(run.run_id, timeout=120)
    assert run.status == "stopped", service.logs(run.run_id)
    assert Action.CONTINUE in run.actions
    run = service.continue_run(run.run_id, "finish")
    run = service.wait(run.run_id, timeout=300)
    assert run.status == "completed" and run.timesteps >= 1024
    assert [milestone.reached for milestone in run.milestones] == [True] * len(run.milestones)


def test_a_continued_dqn_keeps_its_replay_buffer(service: RunService) -> None:
    train = {"algo": "dqn", "n_envs": 4, "total_timesteps": 1000, "buffer_size": 2000, "learning_starts": 400}
    config = build_config({"game": {"id": "breakout"}, "train": train, "recording": {"enabled": False}})
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=300).status == "completed"
    folder = service.paths(run_id).checkpoints
    model = DQN.load(folder / "latest.zip", device="cpu")
    model.load_replay_buffer(folder / "replay_buffer.pkl")  # stock SB3 reads it
    saved = model.num_timesteps  # DQN collects 4 steps of 4 envs between updates: 1,008 for a 1,000 budget
    assert model.replay_buffer is not None and model.replay_buffer.size() * 4 == saved

    service.continue_run(run_id, "more", 400)
    assert service.wait(run_id, timeout=300).status == "completed"
    log = "\n".join(service.logs(run_id, tail=10_000))
    assert "replay buffer: 2,000 transitions" in log  # stated before training
    assert f"replay buffer reloaded: {saved} transitions" in log
    # With the buffer back, leg 2 learns from its first steps: its first row already has a loss.
    leg2 = [row for row in service.metrics(run_id) if row["leg"] == 2]
    assert leg2 and leg2[0]["loss"] is not None


def test_bad_requests_are_one_sentence(service: RunService) -> None:
    with pytest.raises(NotFoundError, match="there is no run 'run-00000000'"):
        service.get("run-00000000")
    with pytest.raises(NotFoundError):
        service.get("../../etc")
    run_id = service.create(build_config(tiny_config()), start=False).run_id
    with pytest.raises(ConflictError, match="has not started yet: start it first"):
        service.continue_run(run_id, "finish")
    service.stop(run_id)
    with pytest.raises(InvalidInputError, match="must be between 1 and 1,000,000,000, not -5"):
        service.continue_run(run_id, "more", -5)
    with pytest.raises(InvalidInputError, match="no checkpoint at the 50 % milestone"):
        service.branch(run_id, 50)
    service.delete(run_id)
    assert not service.paths.__self__.home.joinpath("runs", run_id).exists()


def test_signals_never_reach_a_process_that_is_not_the_runs(service: RunService) -> None:
    """A shared home's row names a pid of another machine; a stale row names a pid reused by another program."""
    import subprocess

    import psutil

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        started = psutil.Process(bystander.pid).create_time()
        remote = service.create(build_config(tiny_config()), start=False).run_id
        service.raw_store.update_run(
            remote, status="running", pid=bystander.pid, pid_started_at=started, host="another-machine",
            heartbeat_at=time.time(),
        )  # fmt: skip
        with pytest.raises(ConflictError, match="trains on another-machine, not on this machine"):
            service.pause(remote)
        with pytest.raises(ConflictError, match="trains on another-machine"):
            service.stop(remote)
        assert service.get(remote).status == "running"  # nothing changed on either side

        local = service.create(build_config(tiny_config()), start=False).run_id
        service.raw_store.update_run(
            local, status="running", pid=bystander.pid, pid_started_at=started, host=service.executor.host,
            heartbeat_at=time.time(),
        )  # fmt: skip
        # `sleep` is not this run's training process: the run reads as interrupted, nothing is signalled.
        assert service.get(local).status == "interrupted"
        assert psutil.Process(bystander.pid).status() != psutil.STATUS_STOPPED
        assert bystander.poll() is None
    finally:
        bystander.kill()


def test_a_locked_database_delays_the_trainers_writes_but_never_fails_training(service: RunService) -> None:
    """A backup tool holds the database for longer than the trainer waits; training goes on, nothing is lost."""
    import sqlite3

    run_id = _start_long_run(service)
    wait_until(lambda: len(service.metrics(run_id)) >= 2, timeout=120)
    blocker = sqlite3.connect(service.home / "retroml.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    locked_at = service.raw_store.metrics(run_id)[-1]["timesteps"]
    time.sleep(8)  # four times the trainer's 2 s lock wait
    blocker.execute("COMMIT")
    blocker.close()
    wait_until(lambda: service.get(run_id).timesteps > locked_at + 512, timeout=120)
    assert service.get(run_id).status == "running"
    service.stop(run_id)
    run = service.wait(run_id, timeout=120)
    assert run.status == "stopped", run.message
    log = "\n".join(service.logs(run_id, tail=10_000))
    assert "the database is busy" in log
    # The rows of updates made during the lock were written afterwards, in order, none missing.
    steps = [row["timesteps"] for row in service.metrics(run_id)]
    assert steps == sorted(steps)
    # one row per 256-step update, and the last for the stop
    assert all(later - earlier == 256 for earlier, later in itertools.pairwise(steps[:-1])), steps
    assert steps[-1] == run.timesteps


def test_a_pause_the_store_missed_is_repaired_from_the_process(service: RunService) -> None:
    run_id = _start_long_run(service)
    run = service.get(run_id)
    assert run.pid is not None
    os.kill(run.pid, signal.SIGSTOP)  # as if the status write after the signal had failed
    try:
        wait_until(lambda: service.get(run_id).status == "paused", timeout=10)
        resumed = service.resume(run_id)
        assert resumed.status == "running"
        assert service.get(run_id).status == "running"
    finally:
        os.kill(run.pid, signal.SIGCONT)
    service.stop(run_id)
    assert service.wait(run_id, timeout=120).status == "stopped"


def test_a_killed_trainers_clip_writer_dies_with_it(service: RunService) -> None:
    """The writer is busy with a 10-minute clip of the 0 % milestone when its trainer is killed."""
    import psutil

    config = build_config(tiny_config("pong", LONG, recording={"enabled": True, "milestone_clip_seconds": 600}))
    run_id = service.create(config).run_id
    trainer = psutil.Process(service.get(run_id).pid)
    clips = service.paths(run_id).clips
    wait_until(lambda: bool(trainer.children()) and service.get(run_id).timesteps > 0, timeout=120)
    writers = trainer.children()
    time.sleep(2)  # the clip is being played and encoded now
    trainer.kill()
    _gone, alive = psutil.wait_procs(writers, timeout=5)
    assert not alive, [process.cmdline() for process in alive]
    assert service.wait(run_id, timeout=30).status == "interrupted"
    assert not list(clips.glob("*.mp4")) or all(clip.stat().st_size > 0 for clip in clips.glob("*.mp4"))
