"""``--json`` on the reading commands: the same typed models the other faces use, for scripts and ``jq``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from tests.integration.conftest import tiny_config
from typer.testing import CliRunner

from retroml.cli import app
from retroml.config import Preset, all_presets, build_config
from retroml.games import all_games
from retroml.runs.model import Run, RunStatus
from retroml.runs.service import RunService

runner = CliRunner()


def json_of(*args: str) -> object:
    """What ``retroml ARGS`` prints on stdout, parsed: it must be JSON and nothing else."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def service(tmp_path: Path) -> RunService:
    """A home with two runs that were created but never started (no training needed to list them)."""
    service = RunService(tmp_path / "home")
    service.create(build_config({**tiny_config("pong"), "name": "[/bold] pong\x1b[31m"}), start=False)
    service.create(build_config(tiny_config("breakout")), start=False)
    return service


def test_runs_list_json_is_the_run_model(service: RunService) -> None:
    listed = TypeAdapter(list[Run]).validate_python(json_of("runs", "list", "--json", "--home", str(service.home)))
    assert [run.run_id for run in listed] == [run.run_id for run in service.list_runs()]
    assert {run.game for run in listed} == {"pong", "breakout"}
    assert all(run.status is RunStatus.QUEUED and run.progress == 0.0 for run in listed)
    # A name is data here, not markup: it comes back exactly as it was given.
    assert "[/bold] pong\x1b[31m" in {run.name for run in listed}


def test_runs_list_json_filters_as_the_table_does(service: RunService) -> None:
    only = json_of("runs", "list", "--json", "--game", "breakout", "--home", str(service.home))
    assert isinstance(only, list) and [run["game"] for run in only] == ["breakout"]
    assert json_of("runs", "list", "--json", "--status", "running", "--home", str(service.home)) == []


def test_runs_show_json_is_the_run_model(service: RunService) -> None:
    run = service.list_runs(game="pong")[0]
    shown = Run.model_validate(json_of("runs", "show", run.run_id, "--json", "--home", str(service.home)))
    expected = service.get(run.run_id)
    assert shown.model_dump(exclude={"heartbeat_at"}) == expected.model_dump(exclude={"heartbeat_at"})
    assert [milestone.label for milestone in shown.milestones] == [milestone.label for milestone in expected.milestones]


def test_games_json_is_the_catalogue() -> None:
    games = json_of("games", "--json")
    assert isinstance(games, list)
    assert [game["id"] for game in games] == [game.id for game in all_games()]
    assert games[0] == {
        "id": "pong",
        "title": "Pong",
        "difficulty": "easy",
        "description": all_games()[0].description,
        "featured": True,
    }


def test_presets_json_is_the_preset_model() -> None:
    presets = TypeAdapter(list[Preset]).validate_python(json_of("presets", "--json"))
    assert presets == all_presets()
    quick = presets[0]
    assert quick.id == "quick_test"
    assert quick.effective.train.total_timesteps == quick.config["train"]["total_timesteps"]
