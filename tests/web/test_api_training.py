"""The run controls through the API on real tiny training runs: pause, resume, stop, continue, branch,
render, delete, and the live event stream while a run trains."""

from __future__ import annotations

import importlib.util
import json

import pytest
from fastapi.testclient import TestClient

from retroml.runs.service import RunService
from retroml.web.server import create_app
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.expensive

TINY = {
    "game": "pong",
    "algo": "ppo",
    "total_timesteps": 2048,
    "n_envs": 4,
    "n_threads": 1,
    "overrides": ["train.n_steps=64", "train.batch_size=64", "train.n_epochs=1"],
}


def status(client: TestClient, run_id: str) -> str:
    return str(client.get(f"/api/runs/{run_id}").json()["status"])


def test_pause_resume_stop_and_conflicts_on_a_training_run(client: TestClient, service: RunService) -> None:
    body = {**TINY, "total_timesteps": 400_000}
    created = client.post("/api/runs", json=body)
    assert created.status_code == 201 and created.json()["status"] == "running"
    run_id = created.json()["run_id"]
    assert client.post(f"/api/runs/{run_id}/start").status_code == 409
    assert client.delete(f"/api/runs/{run_id}").status_code == 409
    assert client.post(f"/api/runs/{run_id}/continue", json={"steps": 1000}).status_code == 409
    assert client.post(f"/api/runs/{run_id}/render", json={}).status_code == 409
    assert client.get("/api/system").json()["running_runs"] == [run_id]
    # A restarted server (a new app and service on the same home) shows the run still training.
    with TestClient(create_app(RunService(service.home))) as restarted:
        wait_until(lambda: restarted.get(f"/api/runs/{run_id}").json()["timesteps"] > 0, timeout=60)
        assert restarted.get(f"/api/runs/{run_id}").json()["status"] == "running"

    # The live stream shows metrics arriving while the run trains.
    seen: list[str] = []
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                seen.append(line.removeprefix("event: "))
            if "metrics" in seen and "log" in seen:
                break
    assert seen[0] == "status" and "run" in seen

    paused = client.post(f"/api/runs/{run_id}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert client.post(f"/api/runs/{run_id}/pause").status_code == 409
    assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    wait_until(lambda: status(client, run_id) == "stopped", timeout=60)
    run = client.get(f"/api/runs/{run_id}").json()
    assert 0 < run["progress"] < 1 and run["eta_seconds"] is None
    assert client.delete(f"/api/runs/{run_id}").status_code == 204


def test_continue_branch_render_and_delete_a_finished_run(client: TestClient, service: RunService) -> None:
    run_id = client.post("/api/runs", json={**TINY, "name": "parent"}).json()["run_id"]
    wait_until(lambda: status(client, run_id) in ("completed", "failed"), timeout=120, poll=0.5)
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed", client.get(f"/api/runs/{run_id}/logs").json()
    assert run["progress"] == 1.0 and run["timesteps"] >= 2048
    metrics = client.get(f"/api/runs/{run_id}/metrics").json()
    assert metrics and metrics[-1]["timesteps"] >= 1024
    assert client.get(f"/api/runs/{run_id}/logs?tail=3").json()["lines"]

    branched = client.post(
        f"/api/runs/{run_id}/branch",
        json={"from_milestone_pct": 50, "overrides": ["train.learning_rate=1e-4"], "steps": 1024, "name": "child"},
    )
    assert branched.status_code == 201, branched.json()
    child = branched.json()
    assert child["parent_run_id"] == run_id and child["changes"]["train.learning_rate"] == "1e-4"
    assert client.get(f"/api/runs/{run_id}").json()["branches"][0]["run_id"] == child["run_id"]

    continued = client.post(f"/api/runs/{run_id}/continue", json={"steps": 1024})
    assert continued.status_code == 200 and continued.json()["leg"] == 2
    wait_until(lambda: status(client, run_id) == "completed", timeout=120, poll=0.5)
    wait_until(lambda: status(client, child["run_id"]) in ("completed", "failed"), timeout=120, poll=0.5)
    assert len(client.get(f"/api/runs/{run_id}").json()["legs"]) == 2

    if importlib.util.find_spec("retroml.video.journey") is None:
        pytest.skip("the journey renderer (retroml.video.journey) is not installed yet")
    rendering = client.post(f"/api/runs/{run_id}/render", json={"length": "3s", "layout": "single"})
    assert rendering.status_code == 202 and rendering.json()["status"] == "rendering"
    assert client.post(f"/api/runs/{run_id}/render", json={}).status_code == 409
    wait_until(lambda: bool(client.get(f"/api/videos?run_id={run_id}&kind=journey").json()), timeout=120, poll=0.5)
    wait_until(lambda: status(client, run_id) == "completed", timeout=30)
    journey = client.get(f"/api/videos?run_id={run_id}").json()[0]
    assert journey["kind"] == "journey" and journey["length"] == "3s" and journey["poster_url"]
    head = client.get(journey["file_url"], headers={"Range": "bytes=0-11"})
    assert head.status_code == 206 and head.content[4:8] == b"ftyp"
    replay = client.get(f"/api/runs/{run_id}/events?follow=false").text
    assert "event: video" in replay and json.dumps(journey["id"]) in replay

    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert client.get(f"/api/videos?run_id={run_id}").json() == []
    assert client.get(journey["file_url"]).status_code == 404
