"""``RenderService``: a run's videos — listing and serving them, rendering, and the estimate before a render.

The run lifecycle is :class:`retroml.runs.service.RunService`'s; this class reaches runs through it
(``service.renders``), so a render is refused or allowed by the same transition table, and the
video files it hands out are resolved inside the data home.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from retroml import milestones
from retroml.config import RenderConfig
from retroml.errors import InvalidInputError, NotFoundError
from retroml.paths import RunPaths, inside, run_paths
from retroml.runs.executors import RENDER_JOB
from retroml.runs.model import Action, Run, RunStatus
from retroml.store import Store

if TYPE_CHECKING:
    from retroml.runs.service import RunService

logger = logging.getLogger(__name__)

RENDER_REQUEST = "render_request.json"
VIDEO_KINDS = ("clip", "journey")


class RenderAsk(TypedDict, total=False):
    """What a face asks of a render; what it leaves out is the run's own ``render`` setting."""

    length: str | None  # the target length: 90s, 3m, 1h30m, 10h
    layout: str | None  # single, grid, analytics, compare, highlights or timelapse
    workers: int | None  # parallel segment renderers (default: as many as the executor has)
    compare_with: Sequence[str]  # the runs beside this one (layout compare); the estimate ignores them


class RenderService:
    """The videos of the runs of one data home: list, serve, render, estimate, cancel.

    :param runs: the run service whose runs these videos are of (its home, store and executors).
    :param store: the run service's store.
    """

    def __init__(self, runs: RunService, store: Store) -> None:
        self._runs = runs
        self._store = store
        self.home = runs.home

    # the videos there are ------------------------------------------------------------------
    def videos(self, run_id: str | None = None, kinds: tuple[str, ...] = VIDEO_KINDS) -> list[dict[str, Any]]:
        """Every clip and journey video under the home (or of one run), oldest first; missing files skipped."""
        found = [video for video in self._store.artifacts(run_id, kinds) if (self.home / video["path"]).is_file()]
        plans: dict[str, tuple[int, int] | None] = {}
        for video in found:
            # A clip's milestone as the run shows it now: a percentage of the run's current plan.
            if video["run_id"] not in plans:
                row = self._store.get_run(video["run_id"])
                run = Run.from_row(row) if row else None
                plans[video["run_id"]] = (run.start_timesteps, run.total_timesteps) if run else None
            plan = plans[video["run_id"]]
            if video.get("milestone_pct") is not None and video.get("timesteps") is not None and plan:
                video["milestone_label"] = milestones.label(milestones.percent(int(video["timesteps"]), *plan))
            else:
                video["milestone_label"] = None
        return found

    def video_file(self, video_id: int) -> Path:
        """The file of a video, resolved inside the home (never a path from the request itself)."""
        video = self._video(video_id, VIDEO_KINDS, "video")
        return self._file(video["path"], f"the file of video {video_id}")

    def video_poster(self, video_id: int) -> Path:
        """The poster image (a frame of the video, JPEG) of a clip or journey, resolved inside the home."""
        video = self._video(video_id, VIDEO_KINDS, "video")
        poster = (video.get("meta") or {}).get("poster")
        if not poster:
            raise NotFoundError(f"video {video_id} has no poster")
        return self._file(poster, f"the poster of video {video_id}")

    def video_pack_file(self, video_id: int, name: str) -> Path:
        """A file of the upload pack beside a rendered video (chapters, WebVTT, thumbnail, description)."""
        video = self._video(video_id, ("journey",), "rendered video")
        pack = (video.get("meta") or {}).get("pack") or {}
        if name not in pack:
            raise NotFoundError(f"video {video_id} has no {name} (it was rendered before upload packs)")
        return self._file(pack[name], f"the {name} of video {video_id}")

    def _video(self, video_id: int, kinds: tuple[str, ...], what: str) -> dict[str, Any]:
        video = self._store.get_artifact(video_id)
        if video is None or video["kind"] not in kinds:
            raise NotFoundError(f"there is no {what} {video_id}")
        return video

    def _file(self, relative: str, what: str) -> Path:
        path = inside(self.home, relative)
        if not path.is_file():
            raise NotFoundError(f"{what} is gone")
        return path

    # rendering -----------------------------------------------------------------------------
    def render(self, run_id: str, music: Path | None = None, progress: Any = None, **ask: Unpack[RenderAsk]) -> Path:
        """Render a video of ``run_id`` from its checkpoints (or its time-lapse); returns the MP4 path.

        ``layout`` is a journey layout (``single``, ``grid``, ``analytics``), ``compare`` (with the runs
        of ``compare_with``), ``highlights`` or ``timelapse``; ``length`` and ``layout`` default to the
        run's ``render`` settings. ``progress(fraction, detail)`` is called as segments finish.
        """
        run = self._runs.get(run_id)
        if run.status in (RunStatus.RUNNING, RunStatus.PAUSED) and run.pid:
            logger.info("rendering %s while it trains: the video covers the checkpoints saved so far", run_id)
        compare_with = ask.get("compare_with", ())
        for other in compare_with:
            self._runs.get(other)
        from retroml.video.renders import render_video

        settings, layout = self._render_settings(run_id, ask)
        # On a cluster the segments are tasks placed by it, as many at once as it has CPUs.
        runner = self._runs.executor.segment_runner()
        workers = ask.get("workers") or self._runs.executor.render_workers()
        return render_video(
            self._store, run_id, settings, layout, compare_with, workers=workers, music=music, progress=progress,
            runner=runner,
        )  # fmt: skip

    def journey_estimate(self, run_id: str, **ask: Unpack[RenderAsk]) -> dict[str, Any] | None:
        """What a journey render will make before it starts: segments, frames, expected size and time.

        ``None`` for the layouts that are not journeys (their cost depends on what they find).
        """
        from retroml.video.journey import plan_journey
        from retroml.video.renders import JOURNEY_LAYOUTS

        settings, layout = self._render_settings(run_id, ask)
        if layout not in JOURNEY_LAYOUTS:
            return None
        plan = plan_journey(self._store, run_id, settings, self._runs.paths(run_id).videos / ".estimate")
        workers = min(max(1, ask.get("workers") or os.cpu_count() or 1), len(plan.segments))
        return {
            "segments": len(plan.segments),
            "frames": plan.frames,
            "seconds": plan.seconds,
            "expected_bytes": plan.expected_bytes(),
            "expected_render_seconds": plan.expected_render_seconds(workers),
            "workers": workers,
            "measured": plan.measured_cost(workers) is not None,
            "note": plan.subset_note,
        }

    def start_render(self, run_id: str, **ask: Unpack[RenderAsk]) -> Run:
        """Render a video in a detached process (the web and desktop apps use this); returns the run.

        The run shows ``rendering`` with ``render_progress`` until the video is written, then goes back
        to the status it had. Refused while the run trains or renders.
        """
        from retroml.video.renders import check_layout

        row = self._runs.allowed_row(Action.RENDER, run_id)
        compare_with = ask.get("compare_with", ())
        for other in compare_with:
            self._runs.get(other)
        settings, layout = self._render_settings(run_id, ask)
        check_layout(layout, compare_with)
        paths = run_paths(self.home, run_id)
        if layout != "timelapse" and not any(paths.checkpoints.glob("milestone_*pct_*.zip")):
            raise InvalidInputError(f"run {run_id} has no milestone checkpoint yet, so there is nothing to render")
        request = {
            "length": settings.length,
            "layout": layout,
            "compare_with": list(compare_with),
            "workers": ask.get("workers"),
            "previous_status": row["status"],
            "requested_at": time.time(),
        }
        (paths.root / RENDER_REQUEST).write_text(json.dumps(request), encoding="utf-8")
        # No pid until the render process has one: the trainer's old pid would read as a dead render.
        self._store.update_run(
            run_id, status=RunStatus.RENDERING, render_progress=0.0, message=None, pid=None, pid_started_at=None
        )
        launch = self._runs.executor.launch(self.home, run_id, self._store.url, paths.log, RENDER_JOB)
        self._store.update_run(
            run_id,
            pid=launch.pid,
            pid_started_at=launch.pid_started_at,
            host=launch.host,
            executor=launch.executor,
            heartbeat_at=time.time(),
        )
        return self._runs.get(run_id)

    def cancel_render(self, run_id: str) -> Run:
        """Stop the video being rendered (SIGTERM to the process rendering it); no partial video is kept.

        The render process gives the run back the status it had before the render, saying it was cancelled.
        """
        row = self._runs.allowed_row(Action.CANCEL_RENDER, run_id)
        self._runs.executor_for(row).send_signal(row, signal.SIGTERM)
        return self._runs.get(run_id)

    def _render_settings(self, run_id: str, ask: RenderAsk) -> tuple[RenderConfig, str]:
        """The run's render settings with the asked changes, and the layout to render."""
        from retroml.video.renders import render_settings

        return render_settings(self._runs.config(run_id).render, ask.get("length"), ask.get("layout"))


def read_render_request(paths: RunPaths) -> dict[str, Any]:
    """The settings of the last render started by :meth:`RenderService.start_render` (empty if none)."""
    try:
        return dict(json.loads((paths.root / RENDER_REQUEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
