"""``/api/videos``: every clip and journey under the data home, their files and posters.

Files are served with HTTP Range support (206 Partial Content), so the browser's player seeks
without downloading the whole video. The path of a file comes from the service, resolved inside
the home; nothing in the request is ever used as a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from retroml.milestones import label
from retroml.runs.model import PACK_FILES, Run, VideoKind, video_kind
from retroml.web.dependencies import RowId, Service

router = APIRouter(tags=["videos"])


# The names of PACK_FILES, as the type of a route parameter and of the keys of pack_urls.
PackFile = Literal["chapters", "webvtt", "thumbnail", "description"]


class Video(BaseModel):
    """A clip or a rendered video, with what the gallery shows of its run."""

    id: int
    kind: VideoKind
    run_id: str
    run_name: str = Field(description="The run's name (its id when the run is gone).")
    game: str | None
    algo: str | None
    milestone_pct: int | None
    milestone_label: str | None = Field(description="A clip's milestone as its run shows it now: 10 %, 2.5 %.")
    timesteps: int | None
    leg: int | None = Field(description="The leg of training the video shows the end of.")
    run_legs: int = Field(description="How many legs its run has.")
    episodes: int | None
    duration_sec: float | None
    size_bytes: int | None
    layout: str | None
    length: str | None
    filename: str
    created_at: float
    file_url: str
    poster_url: str | None
    pack_urls: dict[PackFile, str] = Field(
        description="The upload pack of a rendered video: chapters (YouTube lines and WebVTT), thumbnail, description."
    )


def video_view(video: dict[str, Any], run: Run | None) -> Video:
    meta = video.get("meta") or {}
    video_id = int(video["id"])
    return Video(
        id=video_id,
        kind=video_kind(video),
        run_id=video["run_id"],
        run_name=run.name if run else video["run_id"],
        game=run.game if run else None,
        algo=run.algo if run else None,
        milestone_pct=video.get("milestone_pct"),
        milestone_label=_clip_label(video, run),
        timesteps=video.get("timesteps"),
        leg=_leg_of(video, run),
        run_legs=len(run.legs) if run else 1,
        episodes=video.get("episodes"),
        duration_sec=video.get("duration_sec"),
        size_bytes=video.get("size_bytes"),
        layout=meta.get("layout"),
        length=meta.get("length"),
        filename=Path(video["path"]).name,
        created_at=video["created_at"],
        file_url=f"/api/videos/{video_id}/file",
        poster_url=f"/api/videos/{video_id}/poster" if meta.get("poster") else None,
        pack_urls={
            name: f"/api/videos/{video_id}/pack/{name}" for name in PACK_FILES if name in (meta.get("pack") or {})
        },
    )


def _leg_of(video: dict[str, Any], run: Run | None) -> int | None:
    """The leg of training a video shows the end of (``None`` for a video of a run that is gone)."""
    timesteps = video.get("timesteps")
    if run is None or timesteps is None:
        return None
    return run.leg_at(int(timesteps))


def _clip_label(video: dict[str, Any], run: Run | None) -> str | None:
    """The milestone a clip filmed as its run shows it now ("10 %", "2.5 %"): the one reached at the
    clip's timesteps (a run trained further re-plans its percentages), else the percentage it was filmed at."""
    if video["kind"] != "clip":
        return None
    reached = [milestone for milestone in run.milestones if milestone.reached] if run else []
    found = next((milestone for milestone in reached if milestone.timesteps == video.get("timesteps")), None)
    if found is not None:
        return found.label
    return None if video.get("milestone_pct") is None else label(video["milestone_pct"])


@router.get("/videos", response_model=list[Video])
def list_videos(
    service: Service,
    run_id: str | None = None,
    game: str | None = None,
    kind: VideoKind | None = None,
) -> list[Video]:
    """Every clip and journey (newest first), optionally of one run, one game or one kind."""
    runs = {run.run_id: run for run in service.list_runs()}
    views = [video_view(video, runs.get(video["run_id"])) for video in service.renders.videos(run_id)]
    chosen = [view for view in views if (game is None or view.game == game) and (kind is None or view.kind == kind)]
    return sorted(chosen, key=lambda view: (view.created_at, view.id), reverse=True)


@router.get("/videos/{video_id}/file", response_class=FileResponse, responses={206: {"description": "A byte range"}})
def video_file(video_id: RowId, service: Service, download: bool = False) -> FileResponse:
    """The MP4 (``Range: bytes=…`` answers 206); ``?download=true`` asks the browser to save it."""
    path = service.renders.video_file(video_id)
    if download:
        return FileResponse(path, media_type="video/mp4", filename=path.name)
    return FileResponse(path, media_type="video/mp4")


@router.get("/videos/{video_id}/poster", response_class=FileResponse)
def video_poster(video_id: RowId, service: Service) -> FileResponse:
    """A JPEG frame of the video."""
    return FileResponse(service.renders.video_poster(video_id), media_type="image/jpeg")


PACK_TYPES = {
    "chapters": "text/plain; charset=utf-8",
    "webvtt": "text/vtt; charset=utf-8",
    "thumbnail": "image/jpeg",
    "description": "text/plain; charset=utf-8",
}


@router.get("/videos/{video_id}/pack/{name}", response_class=FileResponse)
def video_pack(video_id: RowId, name: PackFile, service: Service, download: bool = False) -> FileResponse:
    """A file of the video's upload pack; ``?download=true`` asks the browser to save it."""
    path = service.renders.video_pack_file(video_id, name)
    return FileResponse(path, media_type=PACK_TYPES[name], filename=path.name if download else None)
