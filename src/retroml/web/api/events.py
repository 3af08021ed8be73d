"""``/api/runs/{run_id}/events``: a run's life as Server-Sent Events.

Event types: ``status``, ``metrics`` (one metrics row), ``video`` (a clip or journey is ready),
``checkpoint``, ``log`` (new ``train.log`` lines), ``run`` (the :class:`~retroml.runs.model.Run`, as
``GET /api/runs/{run_id}`` answers it without ``branches``, whenever it changes: timesteps, scores,
progress, ETA, milestones, actions, render progress) and ``deleted``.

A ``metrics`` row that a later leg superseded (it retrains from an earlier checkpoint) is not sent:
the stream shows the curves ``GET /api/runs/{run_id}/metrics`` answers, which never go back.

Every message carries ``id: <event id>:<log lines sent>``: the store's event ids only grow, and the
log is counted in lines, so a client that reconnects with ``Last-Event-ID`` (browsers do this on
their own) gets exactly what it missed. A first connection replays the run's stored events and the
last lines of its log, so one stream is all a live page needs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from retroml.errors import NotFoundError
from retroml.runs.model import ACTIVE_STATUSES
from retroml.runs.service import RunService
from retroml.web.dependencies import ROW_ID_MAX, Service

router = APIRouter(tags=["events"])

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
BATCH = 500
FIRST_LOG_LINES = 200
# service.logs reads the whole file anyway; this bound only caps the memory of one read.
MAX_LOG_LINES = 2_000_000
CURSOR_PATTERN = r"^\d{1,19}(:\d{1,19})?$"


@dataclass
class Cursor:
    """How far a client has got: the last store event id and the number of log lines sent."""

    event_id: int = 0
    log_lines: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        event_part, _, log_part = text.strip().partition(":")
        try:
            event_id = min(max(int(event_part), 0), ROW_ID_MAX)
            log_lines = min(max(int(log_part), 0), MAX_LOG_LINES) if log_part else None
            return cls(event_id, log_lines)
        except ValueError:
            return cls()

    def __str__(self) -> str:
        return f"{self.event_id}:{self.log_lines or 0}"


def message(kind: str, data: Any, cursor: Cursor) -> str:
    return f"id: {cursor}\nevent: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


def _event_type(event: dict[str, Any]) -> str:
    if event["kind"] == "artifact":
        return "video" if event["payload"].get("kind") in ("clip", "journey") else "checkpoint"
    return str(event["kind"])


class RunEventStream:
    """Produces the SSE text of one run for one client, from ``cursor`` on."""

    def __init__(self, service: RunService, run_id: str, cursor: Cursor) -> None:
        self.service = service
        self.run_id = run_id
        self.cursor = cursor
        self.last_view: dict[str, Any] | None = None
        self.ended = False

    def poll(self) -> list[str]:
        """Everything new since the last poll, as SSE messages (blocking: run it in a thread)."""
        out: list[str] = []
        while True:
            events = self.service.events(self.run_id, self.cursor.event_id, BATCH)
            shown_metrics = self._shown_metric_ids(events)
            for event in events:
                self.cursor.event_id = int(event["id"])
                if event["kind"] == "metrics" and event["payload"].get("metric_id") not in shown_metrics:
                    continue
                payload = {**event["payload"], "event_id": event["id"], "created_at": event["created_at"]}
                out.append(message(_event_type(event), payload, self.cursor))
                self.ended = self.ended or event["kind"] == "deleted"
            if len(events) < BATCH:
                break
        if self.ended:
            return out
        try:
            run = self.service.get(self.run_id)
        except NotFoundError:
            self.ended = True
            return [*out, message("deleted", {"run_id": self.run_id}, self.cursor)]
        view = run.model_dump(mode="json")
        changed = view != self.last_view
        if changed:
            self.last_view = view
            out.append(message("run", view, self.cursor))
        if changed or self.cursor.log_lines is None or run.status in ACTIVE_STATUSES:
            out.extend(self._new_log_lines())
        return out

    def _shown_metric_ids(self, events: list[dict[str, Any]]) -> set[int]:
        """The metrics rows of these events that are still shown (not superseded by a later leg)."""
        ids = [int(event["payload"]["metric_id"]) for event in events if event["kind"] == "metrics"]
        if not ids:
            return set()
        try:
            return {int(row["id"]) for row in self.service.metrics(self.run_id, min(ids) - 1)}
        except NotFoundError:  # deleted meanwhile: its metrics rows went with it
            return set()

    def _new_log_lines(self) -> list[str]:
        try:
            lines = self.service.logs(self.run_id, MAX_LOG_LINES)
        except NotFoundError:
            # train.log is a link or not a file (``GET …/logs`` says which): the stream goes on without it.
            return []
        if self.cursor.log_lines is None:
            fresh = lines[-FIRST_LOG_LINES:]
        elif len(lines) < self.cursor.log_lines:
            # The log was replaced (a deleted and recreated folder): start it over.
            fresh = lines
        else:
            fresh = lines[self.cursor.log_lines :]
        self.cursor.log_lines = len(lines)
        if not fresh:
            return []
        return [message("log", {"lines": fresh, "total": len(lines)}, self.cursor)]


async def _stream(request: Request, stream: RunEventStream, follow: bool) -> AsyncIterator[str]:
    # Tell the browser to retry after 1 s (the default is 3 s) when the connection drops.
    yield "retry: 1000\n\n"
    quiet_since = time.monotonic()
    while True:
        messages = await run_in_threadpool(stream.poll)
        for text in messages:
            yield text
        if messages:
            quiet_since = time.monotonic()
        if stream.ended or not follow:
            return
        if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)
        if await request.is_disconnected():
            return


@router.get("/runs/{run_id}/events", response_class=StreamingResponse)
async def run_events(
    run_id: str,
    request: Request,
    service: Service,
    follow: bool = True,
    last_event_id: str | None = Header(None, description="Resume after this id (browsers send it on reconnect)."),
    since: str | None = Query(
        None, pattern=CURSOR_PATTERN, description="Resume after this id (`<event id>:<log lines>`), as Last-Event-ID."
    ),
) -> StreamingResponse:
    """Server-Sent Events of the run; ``follow=false`` sends what is there now and closes."""
    await run_in_threadpool(service.get, run_id)
    stream = RunEventStream(service, run_id, Cursor.parse(last_event_id or since))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_stream(request, stream, follow), media_type="text/event-stream", headers=headers)
