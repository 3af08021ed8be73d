"""Games, presets, defaults, system status, the OpenAPI page and the frontend fallback."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from retroml.config import PRESETS


def test_games_list_every_single_player_game_featured_first(client: TestClient) -> None:
    games = client.get("/api/games").json()
    ids = [game["id"] for game in games]
    assert ids[:6] == ["pong", "breakout", "space_invaders", "frogger", "ms_pacman", "asteroids"]
    assert len(ids) > 50 and "combat" not in ids
    assert games[0] == {
        "id": "pong",
        "title": "Pong",
        "difficulty": "easy",
        "description": "Return the ball past the CPU paddle; first to 21 wins.",
        "featured": True,
    }


def test_game_thumbnail_is_a_png_frame_and_unknown_games_are_refused(client: TestClient) -> None:
    response = client.get("/api/games/breakout/thumbnail")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.width == 80 and len(set(image.convert("RGB").getdata())) > 2
    refused = client.get("/api/games/brekout/thumbnail")
    assert refused.status_code == 422
    assert "did you mean 'breakout'" in refused.json()["detail"]


def test_presets_give_their_settings_and_the_effective_config(client: TestClient) -> None:
    presets = client.get("/api/presets").json()
    assert [preset["id"] for preset in presets] == list(PRESETS)
    epic = next(preset for preset in presets if preset["id"] == "epic_10h")
    assert epic["config"]["fast_mode"] is True
    assert epic["effective"]["recording"]["enabled"] is False and epic["effective"]["render"]["auto"] is True


def test_defaults_mirror_the_servers_limits(client: TestClient) -> None:
    defaults = client.get("/api/defaults").json()
    assert defaults["algos"] == ["ppo", "a2c", "dqn", "qrdqn"]
    assert defaults["n_envs"]["ppo"] == 8 and defaults["max_timesteps"] == 1_000_000_000
    assert defaults["render"]["length"] == "3m"


def test_system_reports_cpu_memory_disk_and_running_runs(client: TestClient) -> None:
    system = client.get("/api/system").json()
    assert system["cpu_count"] >= 1 and system["memory_total"] > 0 and system["disk_free"] > 0
    assert system["running_runs"] == [] and "gpu" in system


def test_openapi_docs_list_every_resource(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/games",
        "/api/presets",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/stop",
        "/api/runs/{run_id}/pause",
        "/api/runs/{run_id}/resume",
        "/api/runs/{run_id}/continue",
        "/api/runs/{run_id}/branch",
        "/api/runs/{run_id}/render",
        "/api/runs/{run_id}/metrics",
        "/api/runs/{run_id}/logs",
        "/api/runs/{run_id}/events",
        "/api/videos",
        "/api/videos/{video_id}/file",
        "/api/videos/{video_id}/poster",
        "/api/system",
    ):
        assert path in paths, path


def test_unknown_api_routes_are_404_json(client: TestClient) -> None:
    response = client.get("/api/nothing/here")
    assert response.status_code == 404 and response.json()["detail"] == "There is no API route /api/nothing/here."
