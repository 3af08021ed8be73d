"""The ``retroml`` command: bad input gets one sentence and exit code 2; the happy path trains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.integration.conftest import tiny_config, wait_until
from typer.testing import CliRunner

from retroml.cli import app
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService

runner = CliRunner()


def run_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path) -> str:
    return str(tmp_path / "home")


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--game", "pongg"], "unknown game 'pongg' — did you mean 'pong'?"),
        (["--steps", "-5"], "--steps '-5' must be positive"),
        (["--steps", "1e15"], "--steps '1e15' is more than the 1,000,000,000 timesteps a run can train"),
        (["--steps", "lots"], "--steps 'lots' is not a number of timesteps"),
        (["--algo", "sac"], "--algo 'sac' is not one of ppo, a2c, dqn, qrdqn"),
        (["--set", "train.batch_size=100"], "batch_size 100 must divide n_envs × n_steps = 1024"),
        (["--set", "train.nope=1"], "train.nope: is not a known setting"),
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["--render-only"], "--render-only needs --run-id RUN"),
        (["--render-only", "--run-id", "run-deadbeef"], "there is no run 'run-deadbeef'"),
    ],
)
def test_bad_train_input_is_one_sentence_and_exit_code_2(home: str, args: list[str], sentence: str) -> None:
    code, output = run_cli("train", "--home", home, *args)
    assert code == 2, output
    assert sentence in output
    assert "Traceback" not in output
    assert not list(Path(home).glob("runs/*")), "a refused run must leave no folder behind"


def test_bad_yaml_files(home: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("train: [unclosed", encoding="utf-8")
    code, output = run_cli("train", "--home", home, "--config", str(broken))
    assert code == 2 and "is not valid YAML" in output
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("train:\n  algo: ppo\n  learning_rat: 0.1\n", encoding="utf-8")
    code, output = run_cli("train", "--home", home, "--config", str(unknown))
    assert code == 2 and "train.learning_rat: is not a known setting" in output
    code, output = run_cli("train", "--home", home, "--config", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read config file" in output


@pytest.mark.parametrize("command", ["show", "stop", "pause", "resume", "continue", "logs", "delete"])
def test_unknown_run_ids(home: str, command: str) -> None:
    extra = ["--yes"] if command == "delete" else []
    code, output = run_cli("runs", command, "run-00000000", "--home", home, *extra)
    assert code == 2 and "there is no run 'run-00000000'" in output


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["run-a", "run-b"], "give one run (several only with --compare)"),
        (["--compare", "run-a"], "a comparison takes 2 to 4 runs, not 1"),
        (["--compare", "a", "b", "c", "d", "e"], "a comparison takes 2 to 4 runs, not 5"),
        (["run-a", "--timelapse", "5m", "--highlights", "60s"], "choose one of --timelapse and --highlights"),
        (["run-a", "--highlights", "60s", "--layout", "grid"], "--layout is for journeys; --highlights has its own"),
        (["run-00000000"], "there is no run 'run-00000000'"),
        (["--compare", "run-00000000", "run-00000001"], "there is no run 'run-00000000'"),
    ],
)
def test_bad_render_requests_are_one_sentence(home: str, args: list[str], sentence: str) -> None:
    code, output = run_cli("render", "--home", home, *args)
    assert code == 2 and sentence in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--finish", "--more", "512"], "choose --finish (train what is left) or --more N (train N more), not both"),
        (["--more", "lots"], "--more 'lots' is not a number of timesteps"),
        (["--more", "1.5"], "--more '1.5' must be a whole number of timesteps"),
    ],
)
def test_bad_continue_requests_are_one_sentence(home: str, args: list[str], sentence: str) -> None:
    code, output = run_cli("runs", "continue", "run-00000000", "--home", home, *args)
    assert code == 2 and sentence in output, output
    assert "Traceback" not in output


def test_path_tricks_in_run_ids(home: str) -> None:
    code, output = run_cli("runs", "show", "../../etc", "--home", home)
    assert code == 2 and "there is no run '../../etc'" in output


def test_games_lists_the_catalogue() -> None:
    code, output = run_cli("games")
    assert code == 0
    for title in ("Pong", "Breakout", "Space Invaders", "Asteroids", "Ms. Pac-Man", "Frogger"):
        assert title in output


def test_train_fast_from_config_file_with_flags_and_list(home: str, tmp_path: Path) -> None:
    config = tmp_path / "my.yaml"
    config.write_text(
        yaml.safe_dump({"game": {"id": "breakout"}, "train": {"n_envs": 4, "n_steps": 64, "batch_size": 64}}),
        encoding="utf-8",
    )
    code, output = run_cli(
        "train",
        "--home",
        home,
        "--config",
        str(config),
        "--steps",
        "1_024",
        "--seed",
        "3",
        "--fast",
        "--name",
        "breakout try 2",
        "--set",
        "train.n_epochs=1",
        "--set",
        "milestones_pct=[0,100]",
    )
    assert code == 0, output
    assert "completed" in output
    run_folder = next(Path(home).glob("runs/run-*"))
    written = yaml.safe_load((run_folder / "config.yaml").read_text())
    assert written["name"] == "breakout try 2"
    assert written["train"]["seed"] == 3 and written["train"]["total_timesteps"] == 1024
    assert written["fast_mode"] is True and written["recording"]["enabled"] is False
    code, output = run_cli("runs", "show", run_folder.name, "--home", home)
    assert code == 0 and "name: breakout try 2" in output and "status: completed" in output
    code, output = run_cli("runs", "list", "--home", home)
    assert code == 0 and "run-" in output


def test_the_installed_entry_point_answers() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retroml.cli", "train", "--game", "pongg"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "unknown game 'pongg' — did you mean 'pong'?" in result.stderr


def tiny_run_file(tmp_path: Path, steps: int) -> str:
    """A config file for a Pong run of ``steps`` timesteps with four milestones and no recording."""
    data = tiny_config("pong", steps, milestones_pct=[0, 25, 50, 100], recording={"enabled": False})
    path = tmp_path / f"tiny_{steps}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_continue_finish_trains_a_stopped_run_to_its_planned_total(home: str, tmp_path: Path) -> None:
    # 4096 steps: the stop lands well before the end even on an idle machine, and finishing takes seconds.
    code, output = run_cli("train", "--home", home, "--config", tiny_run_file(tmp_path, 4096), "--detach")
    assert code == 0, output
    service = RunService(home)
    (run,) = service.list_runs()
    wait_until(lambda: service.get(run.run_id).timesteps > 0, timeout=120)
    code, output = run_cli("runs", "stop", run.run_id, "--home", home)
    assert code == 0 and f"run {run.run_id} stopped" in output, output
    stopped = service.get(run.run_id)
    assert 0 < stopped.timesteps < 4096 and stopped.remaining_timesteps == 4096 - stopped.timesteps
    code, output = run_cli("runs", "show", run.run_id, "--home", home)
    assert code == 0 and "status: stopped" in output and "planned" in output, output
    assert f"remaining_timesteps: {stopped.remaining_timesteps:,}" in output

    code, output = run_cli("runs", "continue", run.run_id, "--finish", "--home", home)
    assert code == 0, output
    assert f"run {run.run_id} leg 2: training from {stopped.timesteps:,} to 4,096 timesteps" in output
    assert f"run {run.run_id} completed" in output
    finished = service.get(run.run_id)
    assert (finished.status, finished.leg, finished.total_timesteps) == (RunStatus.COMPLETED, 2, 4096)
    assert finished.timesteps >= 4096 and finished.progress == 1.0
    assert all(milestone.reached for milestone in finished.milestones)


def test_finish_on_a_completed_run_is_refused_and_more_extends_it(home: str, tmp_path: Path) -> None:
    code, output = run_cli("train", "--home", home, "--config", tiny_run_file(tmp_path, 512))
    assert code == 0 and "completed" in output, output
    service = RunService(home)
    (run,) = service.list_runs()
    code, output = run_cli("runs", "show", run.run_id, "--home", home)
    assert code == 0, output
    for label in ("0 %", "50 %", "100 %"):
        assert label in output
    assert "reached" in output and "planned" not in output
    assert "run_budget: 512" in output

    code, output = run_cli("runs", "continue", run.run_id, "--finish", "--home", home)
    assert code == 2, output
    assert (
        f"run {run.run_id} has trained its whole budget of 512 timesteps; "
        f"train more with `retroml runs continue {run.run_id} --more 512`"
    ) in output
    assert "Traceback" not in output

    code, output = run_cli("runs", "continue", run.run_id, "--more", "512", "--home", home)
    assert code == 0 and f"run {run.run_id} completed" in output, output
    extended = service.get(run.run_id)
    assert (extended.status, extended.leg, extended.total_timesteps) == (RunStatus.COMPLETED, 2, 1024)
    assert extended.timesteps >= 1024 and extended.run_budget == 512
    # The milestones reached in the first leg stay; their labels now read against the new total.
    code, output = run_cli("runs", "show", run.run_id, "--home", home)
    assert code == 0, output
    for milestone in extended.milestones:
        assert milestone.reached and milestone.label in output
    assert "25 %" in output and "planned" not in output
