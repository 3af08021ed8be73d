"""Bad input to ``retroml`` gets one sentence and exit code 2, never a traceback; names show as typed.

Nothing here trains: every input is refused before a process starts, and the runs the name tests list
are created without being started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retroml.cli import app
from retroml.config import build_config
from retroml.runs.service import RunService

runner = CliRunner()
LIMIT = "1,000,000,000"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run_id(home: Path) -> str:
    """A queued run that was never started (its id is real, it has nothing to train or render)."""
    service = RunService(home)
    return service.create(build_config({"train": {"total_timesteps": 1000}}), start=False).run_id


def refused(*args: str) -> str:
    """Run ``retroml ARGS``; it must exit 2 with one line ``error: …`` and no traceback. Returns that line."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--steps", "inf"], f"--steps 'inf' is more than the {LIMIT} timesteps a run can train"),
        (["--steps", "1e400"], f"--steps '1e400' is more than the {LIMIT} timesteps a run can train"),
        (["--steps", "nan"], f"--steps 'nan' is not a number of timesteps; write a whole number up to {LIMIT}"),
        (["--steps", "-5"], "--steps '-5' must be positive"),
        (["--set", "game=5"], "'game=5' replaces the whole game section; set one setting, e.g. game.id=…"),
        (["--set", "train=5"], "'train=5' replaces the whole train section; set one setting, e.g. train.algo=…"),
        (["--set", "train.algo=bogus"], "train.algo: Input should be 'ppo', 'a2c', 'dqn' or 'qrdqn'"),
        # With --algo, a --set that does not apply to it is refused, not silently dropped.
        (["--algo", "dqn", "--set", "train.n_steps=5"], "train: n_steps does not apply to dqn"),
        (["--algo", "ppo", "--set", "train.lerning_rate=0.1"], "train.lerning_rate: is not a known setting"),
        (["--algo", "dqn", "--preset", "quick_test", "--set", "train.device=tpu"], "train.device: must be auto"),
    ],
)
def test_train(home: Path, args: list[str], sentence: str) -> None:
    assert sentence in refused("train", "--home", str(home), *args)
    assert not list(home.glob("runs/*")), "a refused run leaves no folder"


def test_a_config_file_that_is_not_utf8(home: Path, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\u00e9\ntrain:\n  algo: ppo\n".encode("latin-1"))
    assert f"{latin1} is not UTF-8 text" in refused("train", "--home", str(home), "--config", str(latin1))


@pytest.mark.parametrize("steps", ["inf", "nan", "1e400"])
def test_continue_and_branch_budgets(home: Path, run_id: str, steps: str) -> None:
    line = refused("runs", "continue", run_id, "--more", steps, "--home", str(home))
    assert line.startswith(f"error: --more '{steps}' ")
    line = refused("runs", "branch", run_id, "--from-checkpoint", "0", "--steps", steps, "--home", str(home))
    assert line.startswith(f"error: --steps '{steps}' ")


def test_render(home: Path, run_id: str) -> None:
    line = refused("render", run_id, "--length", "nan", "--home", str(home))
    assert "--length: duration 'nan' must be more than 0 and at most 24h" in line
    line = refused("render", run_id, "--music", "/etc/passwd", "--home", str(home))
    assert "--music /etc/passwd is not an audio file RetroML can play" in line
    line = refused("render", run_id, "--music", "/no/such.mp3", "--home", str(home))
    assert "--music /no/such.mp3 is not a file" in line


def test_runs_list_status(home: Path) -> None:
    line = refused("runs", "list", "--status", "bogus", "--home", str(home))
    assert "--status 'bogus' is not one of queued, running, paused" in line


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--port", "99999"], "--port 99999 is not a port; give a number from 1 to 65535"),
        (["--port", "0"], "--port 0 is not a port"),
        (["--host", "256.1.1.1"], "--host '256.1.1.1' is not an address of this machine"),
    ],
)
def test_ui_address(home: Path, args: list[str], sentence: str) -> None:
    line = refused("ui", "--home", str(home), *args)
    assert sentence in line and "in use" not in line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt needs DISPLAY/WAYLAND_DISPLAY on Linux only")
def test_desktop_without_a_display(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert "the desktop app needs a display" in refused("desktop", "--home", str(home))


def test_user_text_in_an_error_is_shown_as_typed(home: Path) -> None:
    assert "unknown game '[/bold]'" in refused("train", "--home", str(home), "--game", "[/bold]")
    line = refused("train", "--home", str(home), "--game", "\x1b[31mpong")
    assert "unknown game '\\x1b[31mpong'" in line and "\x1b" not in line


def _retroml(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (a wide terminal, so names are not cut)."""
    environment = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    environment["COLUMNS"] = "250"
    command = [sys.executable, "-c", "from retroml.cli import app; app()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


def test_names_are_listed_literally(home: Path) -> None:
    service = RunService(home)
    names = {"[/bold]": "[/bold]", "\x1b[31mred": "\\x1b[31mred", "two\nlines [red]x[/red]": "two\\nlines [red]x[/red]"}
    for name in names:
        service.create(build_config({"name": name, "train": {"total_timesteps": 1000}}), start=False)
    listed = _retroml("runs", "list", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    assert "\x1b" not in listed.stdout, "an escape sequence in a name reached the terminal"
    for literal in names.values():
        assert literal in listed.stdout
    bold = next(run for run in service.list_runs() if run.name == "[/bold]")
    shown = runner.invoke(app, ["runs", "show", bold.run_id, "--home", str(home)])
    assert shown.exit_code == 0 and "name: [/bold]" in shown.output, shown.output
