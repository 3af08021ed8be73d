"""The API reads a budget typed as text with the CLI's and the desktop's grammar (``config.parse_budget``)."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import queued_run

from retroml.runs.service import RunService


@pytest.mark.parametrize(("text", "timesteps"), [("2.5k", 2500), ("20,000", 20_000), ("1_000", 1000), ("2e3", 2000)])
def test_a_new_run_s_budget_as_typed(client: TestClient, service: RunService, text: str, timesteps: int) -> None:
    response = client.post("/api/runs?start=false", json={"game": "pong", "total_timesteps": text})
    assert response.status_code == 201, response.json()
    config = yaml.safe_load(service.paths(response.json()["run_id"]).config.read_text(encoding="utf-8"))
    assert config["train"]["total_timesteps"] == timesteps


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("1.5", "Budget '1.5' must be a whole number of timesteps"),
        ("-5", "Budget '-5' must be positive"),
        ("inf", "Budget 'inf' is more than the 1,000,000,000 timesteps a run can train"),
        ("nan", "Budget 'nan' is not a number of timesteps"),
    ],
)
def test_what_is_no_budget_is_422_at_the_field(
    client: TestClient, service: RunService, text: str, sentence: str
) -> None:
    response = client.post("/api/runs?start=false", json={"game": "pong", "total_timesteps": text})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "total_timesteps" and error["message"].startswith(sentence), error
    assert service.list_runs() == []
    run_id = queued_run(service)
    client.post(f"/api/runs/{run_id}/stop")
    response = client.post(f"/api/runs/{run_id}/continue", json={"mode": "more", "steps": text})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "steps"
