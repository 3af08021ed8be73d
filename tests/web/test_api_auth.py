"""The access token for non-local hosts, and a port in use refused with a sentence."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import local_client

from retroml.errors import InvalidInputError
from retroml.runs.service import RunService
from retroml.web.auth import COOKIE, TOKEN_ENV_VAR, token_for_host
from retroml.web.server import create_app, serve

TOKEN = "s3cret-token"


@pytest.fixture
def guarded(service: RunService) -> TestClient:
    return local_client(create_app(service, token=TOKEN))


def test_loopback_needs_no_token_and_other_hosts_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)
    assert token_for_host("127.0.0.1") is None and token_for_host("localhost") is None
    generated = token_for_host("0.0.0.0")
    assert generated and len(generated) >= 24 and generated != token_for_host("0.0.0.0")
    monkeypatch.setenv(TOKEN_ENV_VAR, "from-the-environment")
    assert token_for_host("0.0.0.0") == "from-the-environment"


@pytest.mark.parametrize("path", ["/api/runs", "/api/games", "/api/system", "/api/videos", "/api/runs/run-1/events"])
def test_every_api_route_refuses_a_missing_or_wrong_token(guarded: TestClient, path: str) -> None:
    assert guarded.get(path).status_code == 401
    assert guarded.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.post("/api/runs", json={}).status_code == 401
    assert "access token" in guarded.get(path).json()["detail"]


def test_a_bearer_header_or_the_cookie_lets_requests_in(guarded: TestClient) -> None:
    assert guarded.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get("/api/runs", cookies={COOKIE: TOKEN}).status_code == 200


def test_the_printed_link_sets_a_strict_http_only_cookie(guarded: TestClient) -> None:
    wrong = guarded.get("/?token=nope", follow_redirects=False)
    assert wrong.status_code == 401
    response = guarded.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert f"{COOKIE}={TOKEN}".lower() in cookie and "httponly" in cookie and "samesite=strict" in cookie
    # The client keeps the cookie, as a browser does.
    assert guarded.get("/api/system").status_code == 200


def test_no_cors_headers_are_sent_to_other_origins(guarded: TestClient) -> None:
    response = guarded.get("/api/runs", headers={"Origin": "https://evil.example", "Authorization": f"Bearer {TOKEN}"})
    assert "access-control-allow-origin" not in response.headers
    preflight = guarded.options("/api/runs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in preflight.headers


def test_serve_refuses_a_port_in_use_with_a_sentence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InvalidInputError, match=f"port {port} on 127.0.0.1 is in use; pass --port"):
            serve(home=tmp_path / "home", host="127.0.0.1", port=port)
