"""Damaged checkpoints: one check names the file; continue falls back, render skips, both say so in a sentence."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from tests.integration.conftest import tiny_config
from tests.web.conftest import local_client
from typer.testing import CliRunner

from retroml.cli import app
from retroml.config import build_config
from retroml.engine.checkpoints import checkpoint_damage, list_milestones
from retroml.errors import DamagedCheckpointError
from retroml.runs.service import RunService
from retroml.web.server import create_app

# 4 envs × 64 steps per update: the 0 %, 50 % and 100 % milestones hold three different sets of weights.
STEPS = 1024


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("corrupt") / "home"
    service = RunService(home)
    config = build_config(tiny_config("pong", STEPS, milestones_pct=[0, 50, 100], recording={"enabled": False}))
    run_id = service.create(config).run_id
    run = service.wait(run_id, timeout=300)
    assert run.status == "completed", service.logs(run_id)
    service.raw_store.dispose()
    return home, run_id


@pytest.fixture
def copy(trained_home: tuple[Path, str], tmp_path: Path) -> tuple[RunService, str]:
    """A copy of the trained run's home that a test may damage."""
    home, run_id = trained_home
    shutil.copytree(home, tmp_path / "home")
    return RunService(tmp_path / "home"), run_id


def checkpoints(service: RunService, run_id: str) -> Path:
    return service.paths(run_id).checkpoints


def milestone(service: RunService, run_id: str, pct: int) -> Path:
    return next(c.path for c in list_milestones(checkpoints(service, run_id)) if c.milestone_pct == pct)


def cut_short(path: Path) -> None:
    """What a copy interrupted halfway leaves: the first half of the file."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_the_check_says_what_is_wrong_with_each_kind_of_damage(copy: tuple[RunService, str]) -> None:
    service, run_id = copy
    folder = checkpoints(service, run_id)
    assert checkpoint_damage(folder / "latest.zip") is None
    truncated, flipped, empty, text = (folder / f"{name}.zip" for name in ("truncated", "flipped", "empty", "text"))
    for target in (truncated, flipped):
        shutil.copy(folder / "latest.zip", target)
    cut_short(truncated)
    data = bytearray(flipped.read_bytes())
    middle = len(data) // 2  # inside policy.pth's tensors, far from the zip's headers
    data[middle : middle + 64] = bytes(byte ^ 0xFF for byte in data[middle : middle + 64])
    flipped.write_bytes(bytes(data))
    empty.write_bytes(b"")
    text.write_text("not a checkpoint", encoding="utf-8")
    assert checkpoint_damage(truncated) == "not a zip file, or cut short"
    assert checkpoint_damage(text) == "not a zip file, or cut short"
    assert checkpoint_damage(empty) == "it is empty"
    assert checkpoint_damage(flipped) is not None and "checksum" in checkpoint_damage(flipped)  # type: ignore[operator]
    assert checkpoint_damage(folder / "missing.zip") == "the file is missing"


def test_continue_from_a_damaged_latest_falls_back_to_the_newest_checkpoint_that_loads(
    copy: tuple[RunService, str],
) -> None:
    service, run_id = copy
    folder = checkpoints(service, run_id)
    cut_short(folder / "latest.zip")
    cut_short(milestone(service, run_id, 100))
    half = milestone(service, run_id, 50)
    result = CliRunner().invoke(
        app, ["runs", "continue", run_id, "--more", "256", "--detach", "--home", str(service.home)]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "checkpoints/latest.zip is damaged (not a zip file, or cut short)" in said
    assert f"continuing from checkpoints/{half.name}" in said
    run = service.wait(run_id, timeout=300)
    assert run.status == "completed", service.logs(run_id)
    assert run.legs[-1].from_checkpoint == str(half.relative_to(service.home))
    assert run.legs[-1].start_timesteps == STEPS // 2
    assert run.timesteps == STEPS + 256
    assert "latest.zip is damaged" in (run.message or "")
    # The new leg wrote a good latest.zip over the damaged one (not kept as a rolling checkpoint).
    assert checkpoint_damage(folder / "latest.zip") is None


def test_continue_with_no_checkpoint_that_loads_is_one_sentence_in_the_cli_and_a_409(
    copy: tuple[RunService, str],
) -> None:
    service, run_id = copy
    for path in checkpoints(service, run_id).glob("*.zip"):
        cut_short(path)
    result = CliRunner().invoke(app, ["runs", "continue", run_id, "--detach", "--home", str(service.home)])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "Traceback" not in result.output and "BadZipFile" not in result.output
    assert "checkpoints/latest.zip" in said and "is damaged (not a zip file, or cut short)" in said
    assert "start a new run" in said
    with local_client(create_app(service)) as client:
        answer = client.post(f"/api/runs/{run_id}/continue", json={"mode": "more", "steps": 256})
    assert answer.status_code == 409, answer.text
    assert "checkpoints/latest.zip" in answer.json()["detail"]
    assert service.get(run_id).status == "completed"


def test_branch_from_a_damaged_milestone_names_it(copy: tuple[RunService, str]) -> None:
    service, run_id = copy
    damaged = milestone(service, run_id, 50)
    cut_short(damaged)
    with pytest.raises(DamagedCheckpointError) as refused:
        service.branch(run_id, 50, start=False)
    assert f"{damaged.name} is damaged (not a zip file, or cut short)" in str(refused.value)
    assert "branch from another milestone (reached: 0 %, 100 %)" in str(refused.value)


def test_render_skips_the_checkpoints_that_do_not_load_and_names_them(
    copy: tuple[RunService, str], caplog: pytest.LogCaptureFixture
) -> None:
    service, run_id = copy
    damaged = milestone(service, run_id, 50)
    cut_short(damaged)
    with caplog.at_level(logging.WARNING):
        video = service.renders.render(run_id, length="3s", workers=1)
    skipped = [record.getMessage() for record in caplog.records if "skipping" in record.getMessage()]
    assert skipped == [f"skipping {damaged.relative_to(service.home)}: it is damaged (not a zip file, or cut short)"]
    manifest = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    shown = [pane["checkpoint"] for segment in manifest["segments"] for pane in segment["panes"]]
    assert damaged.name not in shown
    assert shown[0] == milestone(service, run_id, 0).name and len(shown) == 2


def test_render_with_no_checkpoint_that_loads_is_one_sentence(copy: tuple[RunService, str]) -> None:
    service, run_id = copy
    for path in checkpoints(service, run_id).glob("*.zip"):
        cut_short(path)
    with pytest.raises(DamagedCheckpointError, match=f"none of the checkpoints of run {run_id} loads"):
        service.renders.render(run_id, length="3s", workers=1)
    assert not list(service.paths(run_id).videos.glob("*.mp4"))
