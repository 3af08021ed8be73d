"""Two trainings write while many readers ask at once: the real server on the loopback answers every
request, on SQLite and on a real PostgreSQL (``db_url``, tests/conftest.py)."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests.integration.conftest import wait_until
from tests.web.conftest import JSON

from retroml.runs.model import RunStatus
from retroml.runs.service import RunService
from retroml.web.server import create_app

REQUESTS = 200
READERS = 16
# Long enough to still train after the reads (each run is stopped then); no recording, no render.
TRAINING = {
    "algo": "ppo", "total_timesteps": 100_000, "n_envs": 4, "n_threads": 1,
    "recording": {"enabled": False}, "render": {"auto": False},
}  # fmt: skip


@pytest.fixture
def service(tmp_path: Path, db_url: str | None) -> Iterator[RunService]:
    service = RunService(tmp_path / "home", db_url=db_url)
    yield service
    for run in service.list_runs():
        if run.active and run.pid:
            service.stop(run.run_id)
            service.wait(run.run_id, timeout=60)
    service.raw_store.dispose()


@pytest.fixture
def server(service: RunService) -> Iterator[str]:
    """The web app served by uvicorn on a free loopback port, in a thread of this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_until(lambda: running.started, timeout=30)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=30)


def test_two_trainings_and_200_parallel_reads_get_no_server_error(server: str, service: RunService) -> None:
    with httpx.Client(base_url=server, headers=JSON, timeout=60) as client:
        runs = [client.post("/api/runs", json={"game": game, **TRAINING}) for game in ("pong", "breakout")]
        assert [response.status_code for response in runs] == [201, 201], [response.text for response in runs]
        run_ids = [response.json()["run_id"] for response in runs]
        wait_until(lambda: all(service.get(run_id).timesteps > 0 for run_id in run_ids), timeout=120)

        paths = itertools.cycle(
            ["/api/runs", "/api/system"]
            + [f"/api/runs/{run_id}{tail}" for run_id in run_ids for tail in ("", "/metrics", "/events?follow=false")]
        )

        def read(path: str) -> tuple[str, int]:
            return path, client.get(path).status_code

        with ThreadPoolExecutor(READERS) as pool:
            answers = list(pool.map(read, itertools.islice(paths, REQUESTS)))
        assert len(answers) == REQUESTS
        assert [answer for answer in answers if answer[1] != 200] == []

        # The trainings went on through the reads; stopped now, each keeps what it learned, in order.
        after_reads = {run_id: service.get(run_id).timesteps for run_id in run_ids}
        wait_until(lambda: all(service.get(run_id).timesteps > after_reads[run_id] for run_id in run_ids), timeout=120)
        assert [client.post(f"/api/runs/{run_id}/stop").status_code for run_id in run_ids] == [200, 200]
    for run_id in run_ids:
        run = service.wait(run_id, timeout=120)
        assert run.status is RunStatus.STOPPED, run.message
        steps = [row["timesteps"] for row in service.metrics(run_id)]
        assert steps == sorted(steps) and steps[-1] == run.timesteps > after_reads[run_id]
