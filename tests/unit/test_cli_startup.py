"""The commands that only read (``runs list``, ``runs show``, ``presets``, ``--help``) load no torch.

torch and Stable-Baselines3 take seconds to import; a command that lists runs has no use for them.
Each check runs the command's code in a fresh interpreter and looks at ``sys.modules`` after it
(``benchmarks/cli_startup.py`` measures the time itself).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ale_py import roms

from retroml.config import build_config
from retroml.games import _rom_ids
from retroml.runs.service import RunService

TRAINING_ONLY = ("torch", "stable_baselines3", "sb3_contrib", "ale_py", "gymnasium")

PROBE = """
import json, sys
from typer.testing import CliRunner
from retroml.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
print(json.dumps(sorted(name for name in {names} if name in sys.modules)))
"""


def modules_loaded_by(*args: str) -> list[str]:
    """Which of the training-only modules ``retroml ARGS`` leaves imported (it must succeed)."""
    probe = PROBE.format(names=repr(TRAINING_ONLY))
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one run that was created but never started."""
    home = tmp_path_factory.mktemp("startup") / "home"
    config = build_config({"game": {"id": "pong"}, "train": {"algo": "ppo", "total_timesteps": 10_000}})
    RunService(home).create(config, start=False)
    return home


@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["table", "json"])
def test_runs_list_loads_no_training_library(home: Path, as_json: list[str]) -> None:
    assert modules_loaded_by("runs", "list", "--home", str(home), *as_json) == []


def test_runs_show_loads_no_training_library(home: Path) -> None:
    (run,) = RunService(home).list_runs()
    assert modules_loaded_by("runs", "show", run.run_id, "--home", str(home)) == []


@pytest.mark.parametrize("args", [["presets"], ["presets", "--json"], ["games", "--json"], ["--help"]])
def test_catalogue_commands_load_no_training_library(args: list[str]) -> None:
    assert modules_loaded_by(*args) == []


def test_rom_ids_are_the_ones_ale_py_lists() -> None:
    # games reads ale-py's ROM list without importing ale_py; this pins it to what ale-py itself says.
    assert _rom_ids() == set(roms.get_all_rom_ids())
