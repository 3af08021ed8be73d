"""The run index can always be rebuilt from the run folders: a lost or corrupt retroml.db loses no run."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import tiny_config
from typer.testing import CliRunner

from retroml.cli import app
from retroml.config import build_config
from retroml.runs.model import RunStatus
from retroml.runs.service import RunService


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home with one real 1k-step Breakout run, some of whose metrics rows a continue has superseded."""
    home = tmp_path_factory.mktemp("reindex-template")
    service = RunService(home)
    config = build_config(tiny_config("breakout", 1024, milestones_pct=[0, 50, 100], recording={"enabled": False}))
    run = service.wait(service.create(config, start=True).run_id, timeout=300)
    assert run.status == RunStatus.COMPLETED, service.logs(run.run_id)
    rows = service.raw_store.metrics(run.run_id)
    # What continue does after a crash: rows past the checkpoint it restarts from are hidden, not deleted.
    assert service.raw_store.supersede_metrics(run.run_id, rows[len(rows) // 2]["timesteps"]) > 0
    service.raw_store.dispose()
    return home, run.run_id


@pytest.fixture
def home(trained_home: tuple[Path, str], tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(trained_home[0], copy)
    return copy


@pytest.fixture
def run_id(trained_home: tuple[Path, str]) -> str:
    return trained_home[1]


def what_a_user_sees(service: RunService, run_id: str) -> dict[str, Any]:
    """The run as every face shows it, its metrics curve and its files (ids aside: they are the index's)."""
    run = service.get(run_id)
    return {
        "run": run.model_dump(),
        "metrics": [{key: value for key, value in row.items() if key != "id"} for row in service.metrics(run_id)],
        "files": [{key: value for key, value in row.items() if key != "id"} for row in service.artifacts(run_id)],
    }


def close(service: RunService) -> None:
    service.raw_store.dispose()


def test_a_deleted_index_is_rebuilt_when_the_home_opens(
    home: Path, run_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    service = RunService(home)
    before = what_a_user_sees(service, run_id)
    assert before["run"]["status"] == "completed" and before["run"]["legs"]
    assert len([m for m in before["run"]["milestones"] if m["reached"]]) == 3
    assert before["metrics"] and before["run"]["score_best"] is not None
    last_event_seen = service.raw_store.events(run_id, limit=100_000)[-1]["id"]
    close(service)
    (home / "retroml.db").unlink()

    with caplog.at_level(logging.WARNING, logger="retroml.runs.service"):
        service = RunService(home)
    after = what_a_user_sees(service, run_id)
    assert after == before
    assert "1 runs recovered" in caplog.text
    assert [run.run_id for run in service.list_runs()] == [run_id]
    # A live page that saw the lost index's events resumes from the last id it saw: newer ones follow it.
    assert service.raw_store.events(run_id)[0]["id"] > last_event_seen

    service.delete(run_id)
    assert not (home / "runs" / run_id).exists()
    assert service.list_runs() == []


def test_a_corrupt_index_is_set_aside_and_rebuilt(home: Path, run_id: str) -> None:
    service = RunService(home)
    before = what_a_user_sees(service, run_id)
    close(service)
    garbage = bytes(range(256)) * 64
    (home / "retroml.db").write_bytes(garbage)

    service = RunService(home)
    assert what_a_user_sees(service, run_id) == before
    aside = list(home.glob("retroml.db.corrupt-*"))
    assert [path.read_bytes() for path in aside] == [garbage], "the unreadable file is kept, never deleted"


def test_a_run_that_was_training_when_the_index_was_lost_reads_as_interrupted(home: Path, run_id: str) -> None:
    service = RunService(home)
    gone = subprocess.Popen(["true"])
    gone.wait()
    service.raw_store.update_run(run_id, status=RunStatus.RUNNING, pid=gone.pid, pid_started_at=1.0, ended_at=None)
    close(service)
    (home / "retroml.db").unlink()

    run = RunService(home).get(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert "retroml runs continue" in (run.message or "")


def test_runs_reindex_command_says_what_it_found_and_twice_changes_nothing(home: Path, run_id: str) -> None:
    service = RunService(home)
    metrics_rows, files = len(service.metrics(run_id)), len(service.raw_store.artifacts(run_id))
    close(service)
    (home / "retroml.db").unlink()
    (home / "runs" / "not-a-run").mkdir()
    (home / "runs" / "half-written").mkdir()
    (home / "runs" / "half-written" / "run.json").write_text('{"run_id": "half-wr')

    runner = CliRunner()
    for new in (1, 0):
        result = runner.invoke(app, ["runs", "reindex", "--home", str(home)])
        assert result.exit_code == 0, result.output
        assert f"Reindexed 1 run ({new} new) from {home / 'runs'}" in result.output
        assert "skipped not-a-run: no run.json" in result.output
        assert "skipped half-written: run.json is not valid JSON" in result.output
    service = RunService(home)
    assert len(service.list_runs()) == 1
    assert len(service.metrics(run_id)) == metrics_rows
    assert len(service.raw_store.artifacts(run_id)) == files


def test_runs_indexed_before_their_folders_kept_everything_get_the_files_on_reindex(home: Path, run_id: str) -> None:
    """A run made before run.json listed artifacts and metrics.jsonl existed: a reindex writes both from the index."""
    folder = home / "runs" / run_id
    saved = json.loads((folder / "run.json").read_text())
    del saved["artifacts"]
    (folder / "run.json").write_text(json.dumps(saved))
    (folder / "metrics.jsonl").unlink()
    service = RunService(home)
    before = what_a_user_sees(service, run_id)
    told: list[tuple[int, int, str]] = []
    assert service.reindex(lambda done, total, run: told.append((done, total, run))).new == 0
    assert told == [(0, 1, run_id)]  # what the CLI's progress bar shows, run by run
    assert "artifacts" in json.loads((folder / "run.json").read_text())
    assert (folder / "metrics.jsonl").is_file()
    close(service)
    (home / "retroml.db").unlink()

    assert what_a_user_sees(RunService(home), run_id) == before


def test_a_folder_from_before_run_json_listed_artifacts_comes_back_with_its_milestones(home: Path, run_id: str) -> None:
    """An older run.json (the row only) and no metrics.jsonl: the milestone checkpoints are found by their names."""
    service = RunService(home)
    reached = [(m.pct, m.timesteps, m.checkpoint) for m in service.get(run_id).milestones if m.reached]
    close(service)
    folder = home / "runs" / run_id
    saved = json.loads((folder / "run.json").read_text())
    del saved["artifacts"]
    (folder / "run.json").write_text(json.dumps(saved))
    (folder / "metrics.jsonl").unlink()
    (home / "retroml.db").unlink()

    service = RunService(home)
    run = service.get(run_id)
    assert run.status == RunStatus.COMPLETED
    assert [(m.pct, m.timesteps, m.checkpoint) for m in run.milestones if m.reached] == reached
    assert service.metrics(run_id) == []
