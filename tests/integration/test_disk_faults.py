"""A full disk, for real: the data home on a small tmpfs that the test fills up.

Training that meets it ends ``failed`` with the file and the fix recorded on the run, a render ends
with one sentence and leaves no video, and every read keeps working. Mounting needs root (or
CAP_SYS_ADMIN) or password-less ``sudo``; without either these tests are skipped.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stable_baselines3 import PPO
from tests.integration.conftest import tiny_config, wait_until
from tests.web.conftest import local_client

from retroml.config import build_config
from retroml.runs.model import Action
from retroml.runs.service import RunService
from retroml.web.server import create_app

TRAINING_FIX = r"free some space, then continue the run \(nothing before the last checkpoint is lost\)\."


class SmallDisk:
    """A tmpfs of ``size_mb`` mounted at ``root``; :meth:`fill` takes every free byte, :meth:`free` gives them back."""

    def __init__(self, root: Path, size_mb: int) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        mount = [*self.sudo, "mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=1777", "tmpfs", str(root)]
        try:
            mounted = subprocess.run(mount, capture_output=True, text=True)
        except FileNotFoundError as error:  # no sudo (or no mount) on this machine
            pytest.skip(f"cannot mount a small tmpfs here ({error})")
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'mount failed'})")
        self.filler = root / "filler"

    def fill(self) -> None:
        with open(self.filler, "ab", buffering=0) as handle:
            for chunk in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        handle.write(bytes(chunk))
                except OSError as error:
                    assert error.errno == errno.ENOSPC

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    @property
    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

    def unmount(self) -> None:
        subprocess.run([*self.sudo, "umount", "-l", str(self.root)], check=False)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    small = SmallDisk(tmp_path / "disk", 200)
    yield small
    small.unmount()


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny finished run on an ordinary disk, copied onto the small one by the tests that render."""
    home = tmp_path_factory.mktemp("trained") / "home"
    service = RunService(home)
    config = build_config(tiny_config("pong", 1024, milestones_pct=[0, 100], recording={"enabled": False}))
    run_id = service.create(config).run_id
    assert service.wait(run_id, timeout=300).status == "completed", service.logs(run_id)
    service.raw_store.dispose()
    return home, run_id


def stop_all(service: RunService) -> None:
    for run in service.list_runs():
        if run.active and run.pid:
            service.stop(run.run_id)
            service.wait(run.run_id, timeout=60)


def test_a_checkpoint_save_on_a_full_disk_fails_the_run_and_records_why(disk: SmallDisk) -> None:
    service = RunService(disk.root / "home")
    train = {"checkpoint_every_sec": 1, "keep_last": 0}
    config = build_config(
        tiny_config("pong", 2_000_000, train=train, milestones_pct=[0, 100], recording={"enabled": False})
    )
    run_id = service.create(config).run_id
    latest = service.paths(run_id).latest_checkpoint
    try:
        wait_until(latest.exists, timeout=180)
        disk.fill()
        run = service.wait(run_id, timeout=180)
    finally:
        stop_all(service)
    assert run.status == "failed", (run.status, run.message, service.logs(run_id)[-20:])
    folder = re.escape(str(service.paths(run_id).root))
    assert re.fullmatch(rf"The disk holding {folder}/\S+ is full: {TRAINING_FIX}", run.message or ""), run.message
    # The save that met the full disk left the previous checkpoint as it was, and no partial file.
    assert PPO.load(latest, device="cpu").num_timesteps > 0
    assert not list(latest.parent.glob(".*.tmp"))
    assert Action.CONTINUE in run.actions
    # The failure is in the store itself (and run.json), not only in what this read shows.
    assert service.raw_store.get_run(run_id)["message"] == run.message  # type: ignore[index]


def test_reads_work_while_the_disk_is_full_and_changes_get_a_507(disk: SmallDisk) -> None:
    service = RunService(disk.root / "home")
    queued = service.create(build_config(tiny_config("pong", 1024)), start=False).run_id
    gone = subprocess.Popen(["true"])
    gone.wait()
    # A run whose trainer died without a word: reading it repairs its status, which is a write.
    dead = service.create(build_config(tiny_config("pong", 1024)), start=False).run_id
    host = socket.gethostname()
    service.raw_store.update_run(dead, status="running", pid=gone.pid, pid_started_at=time.time(), host=host)
    service.raw_store.dispose()  # the last connection closed: SQLite removes -wal and -shm, a reader must remake them
    disk.fill()
    assert disk.free_bytes < 64 * 1024
    reader = RunService(disk.root / "home")
    with local_client(create_app(reader)) as client:
        runs = client.get("/api/runs")
        assert runs.status_code == 200, runs.text
        shown = {run["run_id"]: run for run in runs.json()}
        assert shown[queued]["status"] == "queued"
        assert shown[dead]["status"] == "interrupted"
        assert "disk holding" in shown[dead]["message"] and "was full" in shown[dead]["message"]
        for path in (f"/api/runs/{queued}", f"/api/runs/{queued}/metrics", f"/api/runs/{queued}/logs", "/api/videos"):
            assert client.get(path).status_code == 200, path
        created = client.post("/api/runs", json={"game": "pong", "total_timesteps": 1024})
        assert created.status_code == 507, created.text
        assert created.json()["detail"].startswith("The disk holding ")
        assert created.json()["detail"].endswith(" is full: free some space, then try again.")
    disk.free()
    time.sleep(2.5)  # a read-only connection opened on the full disk is replaced after two seconds
    assert reader.get(dead).status == "interrupted"
    assert reader.raw_store.get_run(dead)["status"] == "interrupted"  # type: ignore[index]
    reader.raw_store.dispose()


def test_a_render_that_fills_the_disk_ends_with_one_sentence_and_leaves_no_video(
    disk: SmallDisk, trained_home: tuple[Path, str]
) -> None:
    source, run_id = trained_home
    shutil.copytree(source, disk.root / "home")
    service = RunService(disk.root / "home")
    videos = service.paths(run_id).videos
    service.renders.start_render(run_id, length="30s", workers=1)
    try:
        wait_until(lambda: any(videos.glob(".render-*/segment_*.mp4")), timeout=120)
        disk.fill()
        wait_until(lambda: service.get(run_id).status != "rendering", timeout=120)
    finally:
        disk.free()
    run = service.get(run_id)
    assert run.status == "completed", service.logs(run_id)[-20:]
    name = json.loads((service.paths(run_id).root / "render_request.json").read_text())["length"]
    assert name == "30s"
    output = re.escape(str(videos)) + r"/[^/ ]+__journey_30s\.mp4"
    fix = r"free some space, then render again \(no partial video was kept\)\."
    assert re.fullmatch(rf"The disk holding {output} is full: {fix}", run.message or ""), run.message
    assert sorted(path.name for path in videos.iterdir()) == []


def test_the_cli_on_a_full_disk_says_so_in_one_sentence(disk: SmallDisk) -> None:
    home = disk.root / "home"
    RunService(home).raw_store.dispose()
    disk.fill()
    command = [sys.executable, "-m", "retroml.cli", "train", "--home", str(home), "--game", "pong", "--steps", "1000"]
    ended = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert ended.returncode in (1, 2), ended.stderr
    assert "Traceback" not in ended.stderr
    assert re.search(r"The disk holding \S+ is full: free some space", ended.stderr), ended.stderr
