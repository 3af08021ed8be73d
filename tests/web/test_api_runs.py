"""``/api/runs`` without training: creating (Fast Mode rule, 422 at the field), reading, 404/409, path tricks."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import queued_run

from retroml.runs.service import RunService

TINY = {"game": "pong", "algo": "ppo", "total_timesteps": 2000, "n_envs": 4}


def test_create_writes_the_config_and_returns_201_with_the_run(client: TestClient, service: RunService) -> None:
    body = {**TINY, "name": "my pong", "seed": 7, "n_threads": 1, "render": {"auto": False, "length": "45s"}}
    response = client.post("/api/runs?start=false", json=body)
    assert response.status_code == 201
    run = response.json()
    assert run["run_id"].startswith("run-") and run["name"] == "my pong" and run["status"] == "queued"
    assert run["progress"] == 0.0 and run["eta_seconds"] is None and run["fast_mode"] is False
    config = yaml.safe_load(service.paths(run["run_id"]).config.read_text(encoding="utf-8"))
    assert config["train"]["seed"] == 7 and config["train"]["n_envs"] == 4 and config["train"]["n_threads"] == 1
    assert config["recording"]["enabled"] is True and config["render"]["length"] == "45s"


def test_fast_mode_turns_recording_off_whatever_the_body_says(client: TestClient, service: RunService) -> None:
    recording = {"enabled": True, "milestone_clip_seconds": 30, "timelapse_fps": 2}
    run = client.post("/api/runs?start=false", json={**TINY, "fast_mode": True, "recording": recording}).json()
    assert run["fast_mode"] is True
    config = yaml.safe_load(service.paths(run["run_id"]).config.read_text(encoding="utf-8"))
    assert config["fast_mode"] is True
    assert config["recording"]["enabled"] is False and config["recording"]["milestone_clip_seconds"] == 0
    assert config["recording"]["timelapse_fps"] == 0
    assert config["render"]["auto"] is True
    filmed = client.post("/api/runs?start=false", json={**TINY, "recording": recording}).json()
    config = yaml.safe_load(service.paths(filmed["run_id"]).config.read_text(encoding="utf-8"))
    assert config["recording"]["timelapse_fps"] == 2
    too_fast = client.post("/api/runs?start=false", json={**TINY, "recording": {"timelapse_fps": 50}})
    assert too_fast.status_code == 422 and too_fast.json()["errors"][0]["field"] == "recording.timelapse_fps"


def test_a_preset_fills_what_the_body_leaves_out(client: TestClient, service: RunService) -> None:
    run = client.post("/api/runs?start=false", json={"preset": "epic_5h", "total_timesteps": 5000}).json()
    config = yaml.safe_load(client.get(f"/api/runs/{run['run_id']}/config").text)
    assert config["game"]["id"] == "breakout" and config["train"]["total_timesteps"] == 5000
    assert config["fast_mode"] is True and config["render"]["length"] == "5h"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**TINY, "total_timesteps": 0}, "total_timesteps", "greater than 0"),
        ({**TINY, "total_timesteps": 2_000_000_000}, "total_timesteps", "less than or equal to 1000000000"),
        ({**TINY, "total_timesteps": "lots"}, "total_timesteps", "Budget 'lots' is not a number of timesteps"),
        ({**TINY, "game": "pongg"}, "game", "did you mean 'pong'"),
        ({**TINY, "algo": "sac"}, "algo", "'ppo', 'a2c', 'dqn' or 'qrdqn'"),
        ({**TINY, "n_envs": 0}, "n_envs", "greater than or equal to 1"),
        ({**TINY, "n_envs": 3, "overrides": ["train.batch_size=256"]}, "overrides", "must divide n_envs × n_steps"),
        ({**TINY, "overrides": ["train.batch_size=1"]}, "overrides", "train.batch_size: Input should be greater"),
        ({**TINY, "seed": -1}, "seed", "greater than or equal to 0"),
        ({**TINY, "render": {"length": "soon"}}, "render.length", "not a duration"),
        ({**TINY, "render": {"layout": "mosaic"}}, "render.layout", "'single', 'grid' or 'analytics'"),
        ({**TINY, "recording": {"milestone_clip_seconds": -1}}, "recording.milestone_clip_seconds", "greater"),
        ({**TINY, "preset": "nope"}, "preset", "Unknown preset"),
        ({**TINY, "overrides": ["train.batch_size=7"]}, "overrides", "batch_size 7 must divide"),
        ({**TINY, "overrides": ["nonsense"]}, "overrides", "section.key=value"),
        ({**TINY, "colour": "red"}, "colour", "not a known setting"),
    ],
)
def test_bad_bodies_are_422_with_the_field_and_a_sentence(
    client: TestClient, service: RunService, body: dict[str, object], field: str, words: str
) -> None:
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == field, errors
    assert words in errors[0]["message"], errors
    assert "\n" not in errors[0]["message"] and "pydantic.dev" not in errors[0]["message"]
    assert service.list_runs() == []


def test_list_filters_by_status_and_game(client: TestClient, service: RunService) -> None:
    pong = queued_run(service)
    breakout = queued_run(service, game="breakout")
    client.post(f"/api/runs/{breakout}/stop")
    assert {run["run_id"] for run in client.get("/api/runs").json()} == {pong, breakout}
    assert [run["run_id"] for run in client.get("/api/runs?game=breakout").json()] == [breakout]
    assert [run["run_id"] for run in client.get("/api/runs?status=queued").json()] == [pong]
    assert client.get("/api/runs?status=sleeping").status_code == 422


def test_get_shows_lineage_metrics_logs_and_config(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service, name="reader")
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["name"] == "reader" and run["branches"] == [] and run["legs"][0]["budget"] == 2000
    assert client.get(f"/api/runs/{run_id}/metrics").json() == []
    assert client.get(f"/api/runs/{run_id}/logs?tail=5").json() == {"run_id": run_id, "lines": []}
    config = client.get(f"/api/runs/{run_id}/config")
    assert config.headers["content-type"].startswith("text/yaml") and "name: reader" in config.text
    settings = client.get(f"/api/runs/{run_id}/config?format=json").json()
    assert settings["name"] == "reader" and settings["milestones_pct"][:3] == [0, 1, 2]


def test_metrics_since_and_as_csv(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    for step in (512, 1024, 1536):
        row = {"leg": 1, "timesteps": step, "episodes": step // 512, "score_mean": -21.0 + step / 512, "wall_time": 1.0}
        service.raw_store.add_metrics(run_id, row)
    rows = client.get(f"/api/runs/{run_id}/metrics").json()
    assert [row["timesteps"] for row in rows] == [512, 1024, 1536]
    newer = client.get(f"/api/runs/{run_id}/metrics?since={rows[0]['id']}").json()
    assert [row["timesteps"] for row in newer] == [1024, 1536]
    download = client.get(f"/api/runs/{run_id}/metrics?format=csv")
    assert download.headers["content-disposition"] == f'attachment; filename="{run_id}-metrics.csv"'
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["timesteps"] for row in table] == ["512", "1024", "1536"] and table[2]["score_mean"] == "-18.0"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "/metrics"),
        ("get", "/logs"),
        ("get", "/config"),
        ("get", "/events"),
        ("post", "/start"),
        ("post", "/stop"),
        ("post", "/pause"),
        ("post", "/resume"),
        ("delete", ""),
    ],
)
def test_unknown_runs_are_404(client: TestClient, method: str, suffix: str) -> None:
    response = client.request(method, f"/api/runs/run-00000000{suffix}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("There is no run 'run-00000000'")


def test_unknown_runs_are_404_for_actions_with_a_body(client: TestClient) -> None:
    assert client.post("/api/runs/run-00000000/continue", json={"mode": "more", "steps": 100}).status_code == 404
    assert client.post("/api/runs/run-00000000/branch", json={"from_milestone_pct": 50}).status_code == 404
    assert client.post("/api/runs/run-00000000/render", json={}).status_code == 404


@pytest.mark.parametrize(
    "run_id", ["..%2F..%2Fetc", "%2E%2E", "..%2Fretroml.db", "%2Fetc%2Fpasswd", "run-1234%2F..%2F..%2Fretroml.db"]
)
def test_path_tricks_in_run_ids_are_404(client: TestClient, service: RunService, run_id: str) -> None:
    queued_run(service)
    for suffix in ("", "/config", "/logs", "/metrics"):
        response = client.get(f"/api/runs/{run_id}{suffix}")
        assert response.status_code == 404, (run_id, suffix)
        assert "root:" not in response.text and "SQLite" not in response.text


def test_conflicts_are_409(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    assert client.post(f"/api/runs/{run_id}/pause").status_code == 409
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 409
    stopped = client.post(f"/api/runs/{run_id}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    again = client.post(f"/api/runs/{run_id}/start")
    assert again.status_code == 409 and "continue" in again.json()["detail"]
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 409


def test_continue_branch_and_render_refuse_what_cannot_be_done(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    client.post(f"/api/runs/{run_id}/stop")
    branch = client.post(f"/api/runs/{run_id}/branch", json={"from_milestone_pct": 50})
    assert branch.status_code == 422 and "no checkpoint at the 50 % milestone" in branch.json()["detail"]
    assert client.post(f"/api/runs/{run_id}/branch", json={"from_milestone_pct": 150}).status_code == 422
    assert client.post(f"/api/runs/{run_id}/branch", json={"from_milestone_pct": -1}).status_code == 422
    render = client.post(f"/api/runs/{run_id}/render", json={"length": "10s"})
    assert render.status_code == 422 and "no milestone checkpoint" in render.json()["detail"]
    bad_length = client.post(f"/api/runs/{run_id}/render", json={"length": "forever"})
    assert bad_length.status_code == 422 and "not a duration" in bad_length.json()["detail"]
    mosaic = client.post(f"/api/runs/{run_id}/render", json={"layout": "mosaic"})
    assert mosaic.status_code == 422 and mosaic.json()["errors"][0]["field"] == "layout"
    alone = client.post(f"/api/runs/{run_id}/render", json={"layout": "compare"})
    assert alone.status_code == 422 and alone.json()["detail"] == "A comparison takes 2 to 4 runs, not 1"
    ghost = client.post(f"/api/runs/{run_id}/render", json={"layout": "compare", "compare_with": ["run-00000000"]})
    assert ghost.status_code == 404 and "run-00000000" in ghost.json()["detail"]
    stray = client.post(f"/api/runs/{run_id}/render", json={"layout": "highlights", "compare_with": [run_id]})
    assert stray.status_code == 422 and "only used by the compare layout" in stray.json()["detail"]
    assert service.get(run_id).status == "stopped"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"mode": "more", "steps": 0}, "steps", "greater than 0"),
        ({"mode": "more", "steps": -5}, "steps", "greater than 0"),
        ({"mode": "more", "steps": "lots"}, "steps", "Budget 'lots' is not a number of timesteps"),
        ({"mode": "more", "steps": 2_000_000_000}, "steps", "less than or equal to 1000000000"),
        ({"mode": "finish", "steps": 1000}, "steps", "send steps only with mode 'more'"),
        ({"mode": "again"}, "mode", "'finish' or 'more'"),
        ({"steps": 1000}, "steps", "send steps only with mode 'more'"),
        ({"mode": "more", "extra": 1}, "extra", "not a known setting"),
    ],
)
def test_bad_continue_bodies_are_422_at_their_field(
    client: TestClient, service: RunService, body: dict[str, object], field: str, words: str
) -> None:
    run_id = queued_run(service)
    client.post(f"/api/runs/{run_id}/stop")
    response = client.post(f"/api/runs/{run_id}/continue", json=body)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == field and words in error["message"], error
    assert service.get(run_id).status == "stopped" and service.get(run_id).leg == 1


def test_actions_follow_the_status(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    queued = client.get(f"/api/runs/{run_id}").json()
    assert queued["actions"] == ["start", "stop", "branch", "delete"]
    stopped = client.post(f"/api/runs/{run_id}/stop").json()
    assert stopped["actions"] == ["continue", "branch", "render", "delete"]
    assert stopped["remaining_timesteps"] == 2000 and stopped["run_budget"] == 2000
    assert stopped["training_seconds"] == 0.0 and stopped["leg_progress"] == 0.0
    assert [milestone["label"] for milestone in stopped["milestones"]][:4] == ["0 %", "1 %", "2 %", "5 %"]
    assert not any(milestone["reached"] for milestone in stopped["milestones"])
    assert stopped["milestones"][-1] == {**stopped["milestones"][-1], "label": "100 %", "timesteps": 2000}


def test_the_openapi_schema_names_the_run_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]

    def answer(path: str, method: str, status: str) -> dict[str, object]:
        return dict(paths[path][method]["responses"][status]["content"]["application/json"]["schema"])

    assert answer("/api/runs", "get", "200")["items"] == {"$ref": "#/components/schemas/Run"}
    for path, method, status in [
        ("/api/runs", "post", "201"),
        ("/api/runs/{run_id}/stop", "post", "200"),
        ("/api/runs/{run_id}/continue", "post", "200"),
        ("/api/runs/{run_id}/branch", "post", "201"),
        ("/api/runs/{run_id}/render", "post", "202"),
    ]:
        assert answer(path, method, status) == {"$ref": "#/components/schemas/Run"}, (path, method)
    assert answer("/api/runs/{run_id}", "get", "200") == {"$ref": "#/components/schemas/RunWithBranches"}
    components = schema["components"]["schemas"]
    run = components["Run"]["properties"]
    for field in ("status", "progress", "leg_progress", "eta_seconds", "training_seconds", "milestones", "actions"):
        assert field in run, field
    assert "branches" in components["RunWithBranches"]["properties"]
    assert components["RunStatus"]["enum"] == [
        "queued", "running", "paused", "rendering", "completed", "failed", "stopped", "interrupted"
    ]  # fmt: skip
    assert set(components["Action"]["enum"]) == {
        "start", "stop", "pause", "resume", "continue", "branch", "render", "cancel_render", "delete"
    }  # fmt: skip
    assert components["ContinueBody"]["properties"]["mode"]["enum"] == ["finish", "more"]


def test_delete_removes_the_run_and_its_folder(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    folder = service.paths(run_id).root
    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert not folder.exists() and client.get(f"/api/runs/{run_id}").status_code == 404
