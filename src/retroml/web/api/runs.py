"""``/api/runs``: create, list, inspect and control runs; their metrics, logs and frozen config.

Every route is one :class:`RunService` call: the web app starts no process and opens no run file
itself (the service reads them, never through a symbolic link).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from retroml.config import RunConfig, parse_duration
from retroml.runs.model import Run, RunStatus
from retroml.runs.service import RunService
from retroml.video.renders import VideoLayout
from retroml.web.api.run_models import (
    BranchBody,
    BranchSummary,
    ContinueBody,
    Metric,
    RenderEstimate,
    RenderRequest,
    RunLogs,
    RunWithBranches,
    TrainingConfig,
    to_run_config,
)
from retroml.web.dependencies import Service, SinceId
from retroml.web.errors import FieldError

router = APIRouter(tags=["runs"])


@router.get("/runs", response_model=list[Run])
def list_runs(service: Service, status: RunStatus | None = None, game: str | None = None) -> list[Run]:
    """Every run, newest first, optionally only those with a status or of a game."""
    return service.list_runs(status=status, game=game)


@router.post("/runs", status_code=201, response_model=Run)
def create_run(body: TrainingConfig, service: Service, start: bool = True) -> Run:
    """Create a run from the form's settings and (by default) start training it.

    With ``fast_mode`` the run's config.yaml has recording off and the journey is rendered at the end,
    whatever ``recording`` said.
    """
    return service.create(to_run_config(body), start=start)


@router.get("/runs/{run_id}", response_model=RunWithBranches)
def get_run(run_id: str, service: Service) -> RunWithBranches:
    """The run, with its lineage: the runs branched from it."""
    run = service.get(run_id)
    branches = [
        BranchSummary(run_id=other.run_id, name=other.name, status=other.status)
        for other in service.list_runs()
        if other.parent_run_id == run_id
    ]
    return RunWithBranches(**run.model_dump(), branches=branches)


def _control(action: Callable[[RunService, str], Run]) -> Callable[[str, RunService], Run]:
    def control(run_id: str, service: Service) -> Run:
        return action(service, run_id)

    return control


# The controls that take nothing but the run: POST /runs/{run_id}/<action>, each one service call.
for _action, _call, _doc in (
    ("start", RunService.start, "Launch a queued run (409 if it already trains)."),
    ("stop", RunService.stop, "Save a checkpoint and stop (the run becomes ``stopped`` a moment later)."),
    ("pause", RunService.pause, None),
    ("resume", RunService.resume, None),
):
    router.add_api_route(
        f"/runs/{{run_id}}/{_action}", _control(_call), methods=["POST"], response_model=Run,
        name=f"{_action}_run", description=_doc,
    )  # fmt: skip


@router.post("/runs/{run_id}/continue", response_model=Run)
def continue_run(run_id: str, body: ContinueBody, service: Service) -> Run:
    """Train the same run further from its latest checkpoint (a new leg).

    ``finish`` trains the run's ``remaining_timesteps`` (422 when nothing is left); ``more`` adds
    ``steps`` (default: the run's ``run_budget``) to its planned total.
    """
    return service.continue_run(run_id, body.mode, body.steps)


@router.post("/runs/{run_id}/branch", status_code=201, response_model=Run)
def branch_run(run_id: str, body: BranchBody, service: Service) -> Run:
    """A new run starting from one of this run's reached milestones, with settings changed."""
    return service.branch(run_id, body.from_milestone_pct, overrides=body.overrides, steps=body.steps, name=body.name)


@router.post("/runs/{run_id}/render", status_code=202, response_model=Run)
def render_run(run_id: str, body: RenderRequest, service: Service) -> Run:
    """Render a video in the background; the run shows ``rendering`` and ``render_progress``."""
    return service.renders.start_render(
        run_id, length=body.length, layout=body.layout, workers=body.workers, compare_with=body.compare_with
    )


@router.get("/runs/{run_id}/render/estimate", response_model=RenderEstimate | None)
def render_estimate(
    run_id: str, service: Service, length: str | None = Query(None, max_length=32), layout: VideoLayout | None = None
) -> RenderEstimate | None:
    """Time, disk and segments a journey render of ``length`` and ``layout`` will take on this machine, before it
    starts (``null`` for the cuts whose cost depends on what they find: compare, highlights, time-lapse)."""
    if length:
        try:
            parse_duration(length)
        except ValueError as error:
            raise FieldError([("length", str(error))]) from None
    estimate = service.renders.journey_estimate(run_id, length=length or None, layout=layout)
    return None if estimate is None else RenderEstimate(**estimate)


@router.post("/runs/{run_id}/render/cancel", response_model=Run)
def cancel_render(run_id: str, service: Service) -> Run:
    """Stop the video being rendered; the run goes back to the status it had (409 unless it renders)."""
    return service.renders.cancel_render(run_id)


@router.delete("/runs/{run_id}", status_code=204)
def delete_run(run_id: str, service: Service) -> Response:
    """Remove the run, its folder and its videos (409 while it trains)."""
    service.delete(run_id)
    return Response(status_code=204)


@router.get(
    "/runs/{run_id}/metrics",
    response_model=list[Metric],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON rows, or (``format=csv``) a CSV file."}},
)
def run_metrics(
    run_id: str,
    service: Service,
    since: SinceId = 0,
    format: Literal["json", "csv"] = "json",
) -> list[Metric] | Response:
    """The run's metrics rows (one per rollout or per ``metrics_every_steps``), as JSON or a CSV download."""
    rows = service.metrics(run_id, since)
    if format == "json":
        return [Metric(**row) for row in rows]
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    disposition = f'attachment; filename="{run_id}-metrics.csv"'
    return Response(buffer.getvalue(), media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/runs/{run_id}/logs", response_model=RunLogs)
def run_logs(run_id: str, service: Service, tail: int = Query(200, ge=0, le=100_000)) -> RunLogs:
    """The last ``tail`` lines of the run's ``train.log``."""
    return RunLogs(run_id=run_id, lines=service.logs(run_id, tail))


@router.get(
    "/runs/{run_id}/config",
    response_model=RunConfig,
    responses={200: {"content": {"text/yaml": {}}, "description": "The YAML file, or (``format=json``) its settings."}},
)
def run_config(
    run_id: str, service: Service, format: Literal["yaml", "json"] = "yaml"
) -> PlainTextResponse | RunConfig:
    """The run's frozen ``config.yaml`` as written at creation, or (``format=json``) the settings it holds."""
    if format == "json":
        return service.config(run_id)
    return PlainTextResponse(service.config_text(run_id), media_type="text/yaml; charset=utf-8")
