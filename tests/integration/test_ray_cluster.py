"""Runs on a real Ray cluster set up as docs/cluster.md says: a head node started by the test on 127.0.0.1,
torn down at the end, and the store on a real PostgreSQL server (``postgres_url``, tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import tiny_config, wait_until

from retroml.config import build_config
from retroml.runs.service import RunService

# Token authentication on both ends, with a token made for this test session (a fresh machine has no
# ~/.ray/auth_token, and `ray start` refuses to run without one), and every Ray address on the loopback
# interface: Ray would otherwise replace 127.0.0.1 by the machine's own IP. Ray reads these variables
# when it is imported, so they are set before the import.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray", reason="the cluster extra (ray) is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A one-node Ray cluster with 2 CPUs, reachable on 127.0.0.1 only."""
    ray_cli = shutil.which("ray")
    assert ray_cli, "the `ray` command of the cluster extra is missing"
    address = f"127.0.0.1:{_free_port()}"
    start = [
        ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={address.split(':')[1]}",
        "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
    ]  # fmt: skip
    subprocess.run(start, check=True, capture_output=True, timeout=120)
    os.environ["RAY_ADDRESS"] = address
    try:
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)
        os.environ.pop("RAY_ADDRESS", None)


@pytest.fixture
def service(cluster: str, tmp_path: Path, postgres_url: str) -> RunService:
    from retroml.runs.ray_executor import RayExecutor

    return RunService(tmp_path / "home", db_url=postgres_url, executor=RayExecutor(cluster))


def test_two_runs_train_in_parallel_on_the_cluster(service: RunService) -> None:
    configs = [build_config(tiny_config(game, steps=2048, train={"n_threads": 1})) for game in ("pong", "breakout")]
    runs = [service.create(config) for config in configs]
    assert all(run.executor == "ray" for run in runs)
    # Both are placed at once: the cluster has 2 CPUs and each run asks for one.
    wait_until(lambda: all(service.get(run.run_id).status == "running" for run in runs), timeout=60)
    finished = [service.wait(run.run_id, timeout=240) for run in runs]
    for run in finished:
        assert run.status == "completed", run.message
        assert run.timesteps >= 2048
        assert service.metrics(run.run_id), "no metrics reached the store"
        checkpoints = service.paths(run.run_id).checkpoints
        assert (checkpoints / "latest.zip").is_file()
        assert any(checkpoints.glob("milestone_100pct_*.zip"))
    # A second face on the same store sees the cluster runs as they are.
    other = RunService(service.home, db_url=service.raw_store.url)
    assert {run.run_id: run.status for run in other.list_runs()} == {run.run_id: "completed" for run in finished}


def test_a_killed_cluster_worker_is_interrupted_and_continues(service: RunService) -> None:
    config = build_config(tiny_config("pong", steps=200_000, train={"n_threads": 1, "checkpoint_every_sec": 1}))
    run_id = service.create(config).run_id
    wait_until(lambda: service.get(run_id).timesteps >= 1024, timeout=120)
    wait_until(lambda: service.paths(run_id).latest_checkpoint.exists(), timeout=60)
    pid = service.get(run_id).pid
    assert pid, "a running cluster run knows its worker's pid"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: service.get(run_id).status == "interrupted", timeout=60)
    # Continuing trains what is left of the plan, from the last checkpoint, on the cluster again.
    resumed = service.continue_run(run_id)
    assert (resumed.leg, resumed.total_timesteps, resumed.executor) == (2, 200_000, "ray")
    assert resumed.leg_start_timesteps > 0
    wait_until(lambda: service.get(run_id).timesteps > resumed.leg_start_timesteps, timeout=120)
    service.stop(run_id)
    assert service.wait(run_id, timeout=120).status == "stopped"


def test_a_run_waits_for_free_cpus_and_can_be_stopped_while_waiting(service: RunService) -> None:
    # Asks for more CPUs than the whole cluster has: Ray keeps it pending, RetroML shows it queued.
    config = build_config(tiny_config("pong", steps=2048, train={"n_threads": 4}))
    run = service.create(config)
    assert run.status == "queued" and run.active
    assert "waiting for a cluster node" in (run.message or "")
    stopped = service.stop(run.run_id)
    assert stopped.status == "stopped"
    assert service.get(run.run_id).status == "stopped"


def test_a_journey_rendered_as_ray_tasks_equals_the_local_render(service: RunService) -> None:
    import json

    from fastapi.testclient import TestClient

    from retroml.video.encoder import probe
    from retroml.web.server import create_app

    config = build_config(tiny_config("breakout", 2048, train={"n_threads": 1}, recording={"enabled": False}))
    run_id = service.create(config).run_id
    run = service.wait(run_id, timeout=240)
    assert run.status == "completed", run.message

    # The web app shows the cluster run like a local one, with the node it ran on.
    runs = TestClient(create_app(service=service), base_url="http://127.0.0.1").get("/api/runs").json()
    shown = next(run for run in runs if run["run_id"] == run_id)
    assert shown["executor"] == "ray" and shown["status"] == "completed" and shown["host"]

    on_ray = service.renders.render(run_id, length="6s", workers=2)
    ray_manifest = json.loads(on_ray.with_suffix(".json").read_text(encoding="utf-8"))
    ray_frames = probe(on_ray).frames
    local = RunService(service.home, db_url=service.raw_store.url).renders.render(run_id, length="6s", workers=1)
    assert local == on_ray
    local_manifest = json.loads(local.with_suffix(".json").read_text(encoding="utf-8"))
    assert probe(local).frames == ray_frames == 180
    assert local_manifest["segments"] == ray_manifest["segments"]


def test_a_gpu_run_is_refused_by_a_cluster_without_a_gpu_and_auto_trains_on_its_cpus(service: RunService) -> None:
    from retroml.errors import InvalidInputError

    # This cluster's head node was started without GPUs (this machine has none): nothing is created.
    for device, words in (("cuda", "has no GPU for device cuda"), ("cuda:1", "ask for cuda or auto")):
        with pytest.raises(InvalidInputError, match=words):
            service.create(build_config(tiny_config("pong", steps=1024, train={"device": device})))
    assert service.list_runs() == []
    run = service.create(build_config(tiny_config("pong", steps=1024, train={"device": "auto", "n_threads": 1})))
    finished = service.wait(run.run_id, timeout=240)
    assert finished.status == "completed", finished.message
    assert finished.device == "cpu"
