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


# The New run form sends each field as typed and shows the sentence at the field the answer names: these
# are the refusals a user meets while filling it in (the estimate is asked on each change).
FORM = {"game": "pong", "algo": "ppo", "total_timesteps": "1_000_000", "seed": "0", "n_threads": "2"}


@pytest.mark.parametrize(
    ("typed", "field", "sentence"),
    [
        ({"total_timesteps": "0"}, "total_timesteps", "Budget '0' must be positive"),
        ({"total_timesteps": "lots"}, "total_timesteps", "Budget 'lots' is not a number of timesteps"),
        ({"n_envs": "0"}, "n_envs", "train.n_envs: Input should be greater than or equal to 1"),
        ({"n_envs": "four"}, "n_envs", "train.n_envs: 'four' is not a whole number"),
        ({"seed": ""}, "seed", "train.seed: '' is not a whole number"),
        ({"seed": "-1"}, "seed", "train.seed: Input should be greater than or equal to 0"),
        ({"seed": "99999999999"}, "seed", "train.seed: Input should be less than or equal to 4294967295"),
        ({"n_threads": "999"}, "n_threads", "train.n_threads: Input should be less than or equal to 256"),
        (
            {"recording": {"milestone_clip_seconds": "ten"}},
            "recording.milestone_clip_seconds",
            "recording.milestone_clip_seconds: 'ten' is not a number",
        ),
        ({"render": {"length": "soon"}}, "render.length", "render.length: 'soon' is not a duration"),
        ({"render": {"length": "25h"}}, "render.length", "render.length: duration '25h' must be more than 0"),
        ({"overrides": ["nonsense"]}, "overrides", "'nonsense' is not an override"),
        ({"overrides": ["train.batch_size=1"]}, "overrides", "train.batch_size: Input should be greater than or equal"),
    ],
)
def test_the_form_s_fields_as_typed_are_refused_at_their_field(
    client: TestClient, typed: dict[str, object], field: str, sentence: str
) -> None:
    response = client.post("/api/estimates/training", json={**FORM, **typed})
    assert response.status_code == 422, response.json()
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert response.json()["errors"][0]["message"].startswith(sentence), response.json()


def test_the_form_s_fields_as_typed_are_read_as_the_cli_reads_them(client: TestClient, service: RunService) -> None:
    typed = {
        **FORM,
        "total_timesteps": "2e6",
        "n_envs": " 4 ",
        "seed": "7",
        "recording": {"milestone_clip_seconds": "7.5"},
    }
    response = client.post("/api/runs?start=false", json=typed)
    assert response.status_code == 201, response.json()
    config = yaml.safe_load(service.paths(response.json()["run_id"]).config.read_text(encoding="utf-8"))
    assert config["train"]["total_timesteps"] == 2_000_000 and config["train"]["n_envs"] == 4
    assert config["train"]["seed"] == 7 and config["recording"]["milestone_clip_seconds"] == 7.5
