"""``/api/estimates``: the Device field's choices and the training time of the run a form would start."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient

from retroml.engine.devices import torch_build
from retroml.runs.service import RunService
from retroml.runs.train_estimate import record_leg

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="the answers of a machine without a GPU")
REFUSAL = f"This machine has no CUDA GPU ({torch_build()}); use --device cpu or auto"


@no_gpu
def test_the_device_field_offers_what_this_machine_has(client: TestClient) -> None:
    answer = client.get("/api/estimates/devices")
    assert answer.status_code == 200
    assert answer.json() == {
        "choices": [{"value": "auto", "label": "auto (CPU — no CUDA GPU seen)"}, {"value": "cpu", "label": "CPU"}],
        "torch": torch_build(),
    }


def test_the_estimate_is_of_the_run_the_form_would_start(client: TestClient, service: RunService) -> None:
    body = {"game": "pong", "algo": "ppo", "total_timesteps": "100k", "n_envs": 8, "device": "auto"}
    first = client.post("/api/estimates/training", json=body).json()
    assert first["basis"] == "first guess" and first["note"].startswith("a first guess")
    record_leg(service.home, "ppo", 8, "cpu", timesteps=30_000, train_seconds=100.0, wall_seconds=110.0)
    measured = client.post("/api/estimates/training", json={**body, "device": "cpu"}).json()
    assert measured["basis"] == "measured" and measured["seconds"] == pytest.approx(10 + 100_000 / 300)
    assert measured["text"] == "≈ 5 min 45 s on this machine" and measured["device"] == "cpu"
    refused = client.post("/api/estimates/training", json={**body, "total_timesteps": "-5"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "total_timesteps"


@no_gpu
@pytest.mark.parametrize("route", ["/api/estimates/training", "/api/runs?start=false"])
def test_a_gpu_this_machine_lacks_is_one_sentence_at_the_device_field(
    client: TestClient, service: RunService, route: str
) -> None:
    answer = client.post(route, json={"game": "pong", "device": "cuda:0"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "device", "message": REFUSAL}]
    assert service.list_runs() == []


def test_the_device_a_leg_trained_on_is_part_of_the_run(client: TestClient, service: RunService) -> None:
    created = client.post("/api/runs?start=false", json={"game": "pong", "device": "cpu"})
    assert created.status_code == 201
    run = created.json()
    assert run["legs"][0]["device"] is None  # known once its process starts (the training job records it)
    assert "device: cpu" in client.get(f"/api/runs/{run['run_id']}/config").text
