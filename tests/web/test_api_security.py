"""Nobody else drives the server: other host names, other sites' pages, odd numbers and tokens, large
bodies, links out of a run folder. Each test is a finding of issue 13 made against the real app."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import JSON, LOCAL_URL, local_client, queued_run

from retroml.runs.service import RunService
from retroml.web.auth import COOKIE
from retroml.web.server import create_app

EVIL = "https://evil.example"
TOKEN = "s3cret-token"
TOO_BIG = 2**63  # one past the largest 64-bit row id


@pytest.fixture
def bare(service: RunService) -> Iterator[TestClient]:
    """The app at 127.0.0.1 with no default headers: each test says what the request carries."""
    with TestClient(create_app(service), base_url=LOCAL_URL) as client:
        yield client


def _error_body(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    return body  # type: ignore[no-any-return]


# 1. DNS rebinding ---------------------------------------------------------------------------------
def test_a_page_under_another_host_name_can_neither_read_nor_change_anything(
    client: TestClient, service: RunService
) -> None:
    run_id = queued_run(service)
    rebound = {"Host": "rebind.attacker.example:8000"}
    refused = [
        client.post("/api/runs?start=false", json={"game": "pong"}, headers=rebound),
        client.get(f"/api/runs/{run_id}/config", headers=rebound),
        client.get("/api/system", headers=rebound),
        client.delete(f"/api/runs/{run_id}", headers=rebound),
        client.get("/", headers=rebound),
        client.get("/docs", headers=rebound),
    ]
    assert [response.status_code for response in refused] == [421] * len(refused)
    assert "--allowed-host" in _error_body(refused[0])["detail"]
    assert [run.run_id for run in service.list_runs()] == [run_id]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LocalHost.", "[::1]:8000", "127.0.0.1"])
def test_the_loopback_names_are_answered(client: TestClient, host: str) -> None:
    assert client.get("/api/runs", headers={"Host": host}).status_code == 200


def test_allowed_hosts_and_a_wildcard_bind_add_their_names(service: RunService) -> None:
    named = local_client(create_app(service, allowed_hosts=["retro.lan"]))
    assert named.get("/api/runs", headers={"Host": "retro.lan:8000"}).status_code == 200
    assert named.get("/api/runs", headers={"Host": "other.lan:8000"}).status_code == 421
    # Bound to 0.0.0.0 the server is reached by this machine's own names; an attacker's name is still refused.
    everywhere = local_client(create_app(service, allowed_hosts=["0.0.0.0"]))
    assert everywhere.get("/api/runs", headers={"Host": f"{socket.gethostname()}:8000"}).status_code == 200
    assert everywhere.get("/api/runs", headers={"Host": "rebind.attacker.example"}).status_code == 421


# 2. Cross-site simple requests --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "content_type"),
    [
        ("start", "application/x-www-form-urlencoded"),
        ("pause", "text/plain"),
        ("resume", "text/plain"),
        ("stop", "text/plain"),
        ("start", "multipart/form-data; boundary=x"),
    ],
)
def test_another_sites_form_cannot_act_on_a_run(
    bare: TestClient, service: RunService, action: str, content_type: str
) -> None:
    run_id = queued_run(service)
    headers = {"Content-Type": content_type, "Origin": EVIL}
    response = bare.post(f"/api/runs/{run_id}/{action}", content=b"a=1", headers=headers)
    assert response.status_code == 403 and "own pages" in _error_body(response)["detail"]
    # Without an Origin (an old browser, a script) the content type still refuses it.
    response = bare.post(f"/api/runs/{run_id}/{action}", content=b"a=1", headers={"Content-Type": content_type})
    assert response.status_code == 415 and "application/json" in _error_body(response)["detail"]
    assert service.get(run_id).status == "queued" and service.get(run_id).pid is None


def test_state_changes_need_json_and_this_servers_origin(bare: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    # A bodiless action with no content type at all is refused too: the page sends JSON on every action.
    assert bare.post(f"/api/runs/{run_id}/pause").status_code == 415
    for origin in (EVIL, "null", "http://127.0.0.1:9999", "http://localhost:8000"):
        response = bare.post(f"/api/runs/{run_id}/pause", headers={**JSON, "Origin": origin})
        assert response.status_code == 403, origin
    assert bare.delete(f"/api/runs/{run_id}", headers={"Origin": EVIL}).status_code == 403
    # This server's own page (same origin) or a script (no Origin) gets through to the route: pausing a
    # queued run is a conflict, not a refusal of the request.
    own = bare.post(f"/api/runs/{run_id}/pause", headers={**JSON, "Origin": LOCAL_URL})
    assert own.status_code == 409
    with_charset = {"Content-Type": "application/json; charset=utf-8"}
    assert bare.post(f"/api/runs/{run_id}/pause", headers=with_charset).status_code == 409
    assert bare.delete(f"/api/runs/{run_id}", headers={"Origin": LOCAL_URL}).status_code == 204


# 4. Numbers, tokens, docs, sizes, errors, methods --------------------------------------------------
def test_ids_beyond_64_bits_are_refused_not_crashed_on(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    for path in (f"/api/videos/{TOO_BIG}/file", f"/api/videos/{TOO_BIG}/poster", "/api/videos/0/file"):
        assert client.get(path).status_code == 422, path
    assert client.get(f"/api/videos/{TOO_BIG - 1}/file").status_code == 404
    metrics = client.get(f"/api/runs/{run_id}/metrics?since={TOO_BIG}")
    assert metrics.status_code == 422 and _error_body(metrics)["errors"][0]["field"] == "since"  # type: ignore[index]
    assert client.get(f"/api/runs/{run_id}/metrics?since={TOO_BIG - 1}").json() == []
    assert client.get(f"/api/runs/{run_id}/events?since=99999999999999999999999:0&follow=false").status_code == 422
    # Last-Event-ID comes from the browser as it was sent: an absurd one resumes at the end, the stream completes.
    resumed = client.get(
        f"/api/runs/{run_id}/events?follow=false", headers={"Last-Event-ID": "99999999999999999999999:99999999999999"}
    )
    assert resumed.status_code == 200 and "event: run" in resumed.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/runs?start=false", {"game": "pong", "seed": 2**64}),
        ("/api/runs?start=false", {"game": "pong", "overrides": ["train.gamma=0.9"] * 65}),
        ("/api/runs?start=false", {"game": "pong", "overrides": ["name=" + "x" * 2000]}),
        ("/api/runs/{run_id}/branch", {"from_milestone_pct": 0, "steps": TOO_BIG}),
        ("/api/runs/{run_id}/continue", {"mode": "more", "steps": TOO_BIG}),
    ],
)
def test_body_numbers_and_lists_are_bounded(client: TestClient, service: RunService, path: str, body: object) -> None:
    response = client.post(path.format(run_id=queued_run(service)), json=body)
    assert response.status_code == 422 and _error_body(response)["errors"]


def test_nan_and_infinity_are_not_numbers_of_a_setting(client: TestClient) -> None:
    for value in (b"NaN", b"Infinity"):
        body = b'{"game": "pong", "recording": {"milestone_clip_seconds": ' + value + b"}}"
        response = client.post("/api/runs?start=false", content=body)
        assert response.status_code == 422, response.text


@pytest.fixture
def guarded(service: RunService) -> TestClient:
    return local_client(create_app(service, token=TOKEN))


def test_any_malformed_token_is_a_401(guarded: TestClient) -> None:
    assert guarded.get("/?token=%C3%A9t%C3%A9", follow_redirects=False).status_code == 401
    assert guarded.get("/?token=%FF%00", follow_redirects=False).status_code == 401
    for value in ("Bearer été".encode(), b"Bearer \xff\xfe", b"Bearer", b"Basic abc"):
        assert guarded.get("/api/runs", headers={"Authorization": value}).status_code == 401
    response = guarded.get("/api/runs", headers={"Cookie": f"{COOKIE}=%C3%A9t%C3%A9"})
    assert response.status_code == 401 and "access token" in _error_body(response)["detail"]


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "///evil.example/x"])
def test_the_token_link_never_redirects_off_this_server(guarded: TestClient, path: str) -> None:
    response = guarded.get(f"{LOCAL_URL}{path}?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert guarded.get(f"/runs/run-1?token={TOKEN}", follow_redirects=False).headers["location"] == "/runs/run-1"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_other_servers(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assert "http://" not in html and "https://" not in html, html
    assets = [part.split('"', 1)[0] for part in html.split('src="')[1:] + html.split('href="')[1:]]
    assert assets and all(asset.startswith("/docs-assets/") for asset in assets), assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
    assert client.get("/openapi.json").status_code == 200


def test_a_large_body_is_refused_before_it_is_parsed(client: TestClient, service: RunService) -> None:
    override = "train.policy_kwargs=[" + ",".join(["1"] * 4_500_000) + "]"  # about 9 MB of YAML
    started = time.monotonic()
    response = client.post("/api/runs?start=false", json={"game": "pong", "overrides": [override]})
    assert response.status_code == 413 and "KiB" in _error_body(response)["detail"]

    # Sent in chunks, without a Content-Length, it is cut off the same way.
    def chunks() -> Iterator[bytes]:
        yield b'{"game": "pong", "overrides": ["'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"]}'

    assert client.post("/api/runs?start=false", content=chunks()).status_code == 413
    assert time.monotonic() - started < 10 and service.list_runs() == []


def test_error_bodies_are_the_published_error_model(client: TestClient, service: RunService) -> None:
    schema = client.get("/openapi.json").json()
    models = schema["components"]["schemas"]
    assert "ErrorBody" in models and "HTTPValidationError" not in models
    start = schema["paths"]["/api/runs/{run_id}/start"]["post"]["responses"]
    for status in ("404", "409", "415", "422"):
        assert start[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), status

    run_id = queued_run(service)
    missing = client.post("/api/runs/run-00000000/start")
    conflict = client.post(f"/api/runs/{run_id}/pause")
    invalid = client.post("/api/runs?start=false", json={"game": "pong", "total_timesteps": "many", "bogus": 1})
    assert (missing.status_code, conflict.status_code, invalid.status_code) == (404, 409, 422)
    assert _error_body(missing)["errors"] == [] and _error_body(conflict)["errors"] == []
    fields = {problem["field"] for problem in _error_body(invalid)["errors"]}  # type: ignore[union-attr]
    # A body of the wrong shape is refused by its shape; one of the right shape gets every value problem at once.
    assert fields == {"bogus"}
    values = client.post("/api/runs?start=false", json={"game": "pong", "total_timesteps": "many", "n_envs": 0})
    fields = {problem["field"] for problem in _error_body(values)["errors"]}  # type: ignore[union-attr]
    assert fields == {"total_timesteps", "n_envs"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/system", "GET"),
        ("DELETE", "/api/games", "GET"),
        ("PUT", "/api/runs", "GET, POST"),
        ("PATCH", "/api/runs/run-1", "GET, DELETE"),
        ("POST", "/api/runs/run-1/metrics", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_that_names_the_right_ones(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 405 and response.headers["allow"] == allowed
    assert method in _error_body(response)["detail"]
    assert client.put("/", json={}).status_code == 405
    assert client.put("/api/no-such-thing", json={}).status_code == 404


# 3. Links out of a run folder ------------------------------------------------------------------------
@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "secret.txt"
    outside.write_text("game:\n  id: pong\nname: TOP-SECRET-LINE\n", encoding="utf-8")
    return outside


def test_a_log_linked_out_of_the_run_is_neither_served_nor_appended_to(
    client: TestClient, service: RunService, secret: Path
) -> None:
    run_id = queued_run(service)
    log = service.paths(run_id).log
    log.symlink_to(secret)
    logs = client.get(f"/api/runs/{run_id}/logs")
    assert logs.status_code == 404 and "symbolic link" in _error_body(logs)["detail"]
    events = client.get(f"/api/runs/{run_id}/events?follow=false")
    assert events.status_code == 200 and "event: run" in events.text and "TOP-SECRET" not in events.text
    started = client.post(f"/api/runs/{run_id}/start")
    assert started.status_code == 404 and "symbolic link" in _error_body(started)["detail"]
    assert "TOP-SECRET" in secret.read_text() and len(secret.read_text().splitlines()) == 3
    assert service.get(run_id).status == "queued"


def test_a_config_linked_out_of_the_run_is_not_served(client: TestClient, service: RunService, secret: Path) -> None:
    run_id = queued_run(service)
    config = service.paths(run_id).config
    config.unlink()
    config.symlink_to(secret)
    response = client.get(f"/api/runs/{run_id}/config")
    assert response.status_code == 404 and "TOP-SECRET" not in response.text


def test_a_fifo_as_train_log_does_not_hang_the_server(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    os.mkfifo(service.paths(run_id).log)
    started = time.monotonic()
    response = client.get(f"/api/runs/{run_id}/logs")
    assert response.status_code == 404 and "not a regular file" in _error_body(response)["detail"]
    assert time.monotonic() - started < 5
