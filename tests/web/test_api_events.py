"""``/api/runs/{run_id}/events``: Server-Sent Events that a reconnecting client resumes without a gap."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import queued_run, register_video

from retroml.runs.service import RunService
from retroml.web.api.events import Cursor, RunEventStream


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The messages of an SSE body: ``{"id", "event", "data"}`` each (comments and ``retry`` skipped)."""
    messages = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                fields[name] = value
        if "event" in fields:
            fields["data"] = json.loads(fields["data"])
            messages.append(fields)
    return messages


def metrics_row(timesteps: int) -> dict[str, Any]:
    return {"leg": 1, "timesteps": timesteps, "episodes": 1, "score_mean": -20.0, "wall_time": 1.0}


def read(client: TestClient, run_id: str, last_event_id: str | None = None) -> list[dict[str, Any]]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    response = client.get(f"/api/runs/{run_id}/events?follow=false", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: 1000")
    return parse_sse(response.text)


def test_a_first_connection_replays_status_metrics_videos_log_and_the_run(
    client: TestClient, service: RunService
) -> None:
    run_id = queued_run(service)
    service.raw_store.add_metrics(run_id, metrics_row(512))
    register_video(service, run_id, "clip", "clip_000pct", milestone_pct=0)
    service.paths(run_id).log.write_text("".join(f"line {index}\n" for index in range(250)), encoding="utf-8")

    messages = read(client, run_id)
    kinds = [message["event"] for message in messages]
    assert kinds == ["status", "metrics", "video", "run", "log"]
    assert messages[0]["data"]["status"] == "queued"
    assert messages[1]["data"]["timesteps"] == 512 and messages[1]["data"]["metric_id"] >= 1
    assert messages[2]["data"]["kind"] == "clip" and messages[2]["data"]["milestone_pct"] == 0
    assert messages[3]["data"]["run_id"] == run_id and messages[3]["data"]["progress"] == 0.0
    # The log starts with its last 200 lines and counts all 250 in the id.
    assert messages[4]["data"]["lines"][0] == "line 50" and len(messages[4]["data"]["lines"]) == 200
    assert messages[4]["id"].endswith(":250")
    ids = [int(message["id"].split(":")[0]) for message in messages]
    assert ids == sorted(ids)


def test_last_event_id_resumes_exactly_where_the_client_left_off(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    service.raw_store.add_metrics(run_id, metrics_row(512))
    log = service.paths(run_id).log
    log.write_text("first\nsecond\n", encoding="utf-8")
    last_id = read(client, run_id)[-1]["id"]

    # While the client is away: new metrics, a status change, a video, more log lines.
    service.raw_store.add_metrics(run_id, metrics_row(1024))
    service.raw_store.update_run(run_id, status="stopped", message="stopped by the test")
    register_video(service, run_id, "journey", "journey_5s", milestone_pct=100)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("third\nfourth\n")

    missed = read(client, run_id, last_id)
    kinds = [message["event"] for message in missed]
    assert kinds == ["metrics", "status", "video", "run", "log"]
    assert missed[0]["data"]["timesteps"] == 1024
    assert missed[1]["data"] == {**missed[1]["data"], "status": "stopped", "message": "stopped by the test"}
    assert missed[2]["data"]["kind"] == "journey"
    assert missed[4]["data"]["lines"] == ["third", "fourth"]

    # Nothing new: a resumed stream repeats nothing but the run's current state.
    again = read(client, run_id, missed[-1]["id"])
    assert [message["event"] for message in again] == ["run"]


def test_the_since_parameter_works_like_last_event_id(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    first = read(client, run_id)
    service.raw_store.add_metrics(run_id, metrics_row(2048))
    response = client.get(f"/api/runs/{run_id}/events?follow=false&since={first[-1]['id']}")
    assert [message["event"] for message in parse_sse(response.text)] == ["metrics", "run"]


def test_metrics_a_later_leg_superseded_are_not_replayed(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    for timesteps in (512, 1024, 1536):
        service.raw_store.add_metrics(run_id, metrics_row(timesteps))
    # A new leg restarts from the checkpoint at 512 timesteps: the rows after it are hidden.
    service.raw_store.supersede_metrics(run_id, 512)
    replayed = [message["data"]["timesteps"] for message in read(client, run_id) if message["event"] == "metrics"]
    assert replayed == [512]
    assert [row["timesteps"] for row in client.get(f"/api/runs/{run_id}/metrics").json()] == [512]


def test_a_deleted_run_ends_its_stream(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    last_id = read(client, run_id)[-1]["id"]
    client.delete(f"/api/runs/{run_id}")
    assert client.get(f"/api/runs/{run_id}/events").status_code == 404
    # A stream that was open when the run went ends with a ``deleted`` event.
    stream = RunEventStream(service, run_id, Cursor.parse(last_id))
    texts = stream.poll()
    assert stream.ended and "event: deleted" in texts[-1]


def test_a_garbled_last_event_id_starts_over(client: TestClient, service: RunService) -> None:
    run_id = queued_run(service)
    assert [message["event"] for message in read(client, run_id, "not-an-id")] == ["status", "run"]
