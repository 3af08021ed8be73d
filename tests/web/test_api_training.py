"""The run controls through the API on real tiny training runs: pause, resume, stop, continue, branch,
render, delete, and the live event stream while a run trains."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.integration.conftest import wait_until
from tests.web.conftest import local_client

from retroml.runs.service import RunService
from retroml.web.server import create_app

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
    assert created.json()["actions"] == ["stop", "pause", "branch"]
    run_id = created.json()["run_id"]
    assert client.post(f"/api/runs/{run_id}/start").status_code == 409
    assert client.delete(f"/api/runs/{run_id}").status_code == 409
    assert client.post(f"/api/runs/{run_id}/continue", json={"mode": "more", "steps": 1000}).status_code == 409
    assert client.post(f"/api/runs/{run_id}/render", json={}).status_code == 409
    assert client.get("/api/system").json()["running_runs"] == [run_id]
    # A restarted server (a new app and service on the same home) shows the run still training.
    with local_client(create_app(RunService(service.home))) as restarted:
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
    assert paused.json()["actions"] == ["stop", "resume", "branch"] and paused.json()["eta_seconds"] is None
    assert client.post(f"/api/runs/{run_id}/pause").status_code == 409
    assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 200
    wait_until(lambda: status(client, run_id) == "stopped", timeout=60)
    run = client.get(f"/api/runs/{run_id}").json()
    assert 0 < run["progress"] < 1 and run["eta_seconds"] is None and run["training_seconds"] > 0
    assert run["remaining_timesteps"] == 400_000 - run["timesteps"]

    # "Finish" trains what is left of the plan: a second leg with the same total.
    finishing = client.post(f"/api/runs/{run_id}/continue", json={"mode": "finish"})
    assert finishing.status_code == 200, finishing.json()
    assert finishing.json()["leg"] == 2 and finishing.json()["total_timesteps"] == 400_000
    assert finishing.json()["status"] == "running"
    wait_until(lambda: client.get(f"/api/runs/{run_id}").json()["timesteps"] > run["timesteps"], timeout=60)
    client.post(f"/api/runs/{run_id}/stop")
    wait_until(lambda: status(client, run_id) == "stopped", timeout=60)
    assert client.delete(f"/api/runs/{run_id}").status_code == 204


def test_continue_branch_render_and_delete_a_finished_run(client: TestClient, service: RunService) -> None:
    run_id = client.post("/api/runs", json={**TINY, "name": "parent"}).json()["run_id"]
    wait_until(lambda: status(client, run_id) in ("completed", "failed"), timeout=240, poll=0.5)
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed", client.get(f"/api/runs/{run_id}/logs").json()
    assert run["progress"] == 1.0 and run["timesteps"] >= 2048 and run["remaining_timesteps"] == 0
    assert set(run["actions"]) >= {"continue", "branch", "render", "delete"}
    assert not set(run["actions"]) & {"stop", "pause", "resume", "start"}
    assert run["milestones"] and all(milestone["reached"] for milestone in run["milestones"])
    assert run["milestones"][-1]["label"] == "100 %" and run["milestones"][-1]["checkpoint"]
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

    # Nothing is left of the plan to finish; "more" trains the run's budget again by default.
    finish = client.post(f"/api/runs/{run_id}/continue", json={"mode": "finish"})
    assert finish.status_code == 422 and "has trained its whole budget of 2,048 timesteps" in finish.json()["detail"]
    continued = client.post(f"/api/runs/{run_id}/continue", json={"mode": "more"})
    assert continued.status_code == 200, continued.json()
    assert continued.json()["leg"] == 2 and continued.json()["total_timesteps"] == run["timesteps"] + 2048
    planned = [milestone for milestone in continued.json()["milestones"] if not milestone["reached"]]
    assert planned and planned[-1]["label"] == "100 %" and planned[-1]["timesteps"] == run["timesteps"] + 2048
    wait_until(lambda: status(client, run_id) == "completed", timeout=240, poll=0.5)
    wait_until(lambda: status(client, child["run_id"]) in ("completed", "failed"), timeout=240, poll=0.5)
    after = client.get(f"/api/runs/{run_id}").json()
    assert len(after["legs"]) == 2 and after["progress"] == 1.0
    assert after["training_seconds"] > run["training_seconds"]
    assert all(milestone["reached"] for milestone in after["milestones"])

    # The branch trains a little more with an explicit budget.
    more = client.post(f"/api/runs/{child['run_id']}/continue", json={"mode": "more", "steps": 512})
    assert more.status_code == 200 and more.json()["total_timesteps"] == child["total_timesteps"] + 512
    wait_until(lambda: status(client, child["run_id"]) in ("completed", "failed"), timeout=240, poll=0.5)

    # Before rendering: what it will make (a subset of milestones when the length is short) and cost.
    estimate = client.get(f"/api/runs/{run_id}/render/estimate?length=3s&layout=single").json()
    assert estimate["seconds"] == 3 and estimate["frames"] == 90 and estimate["expected_render_seconds"] > 0
    assert estimate["segments"] == 2 and "milestones (always the first and the last)" in estimate["note"]
    assert client.get(f"/api/runs/{run_id}/render/estimate?layout=highlights").json() is None
    assert client.get(f"/api/runs/{run_id}/render/estimate?length=soon").status_code == 422
    rendering = client.post(f"/api/runs/{run_id}/render", json={"length": "3s", "layout": "single"})
    assert rendering.status_code == 202 and rendering.json()["status"] == "rendering"
    assert client.post(f"/api/runs/{run_id}/render", json={}).status_code == 409
    wait_until(lambda: bool(client.get(f"/api/videos?run_id={run_id}&kind=journey").json()), timeout=240, poll=0.5)
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
