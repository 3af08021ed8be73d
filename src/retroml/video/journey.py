"""The learning-journey video of a run: one segment per milestone it saved (or a grid of four), joined.

Which checkpoints it shows and what each had learned come from ``labels``; how the length is shared
and what each segment is, from ``plan``; rendering and publishing, from ``pipeline``, as for every
video. Frame sources (``playback``), painters (``hud``, ``story``, ``analytics``) and encoding
(``encoder``) are separate, so another layout is a new painter and another executor a new runner:
segments are plain picklable specs rendered wherever there is a free core (a local process pool,
Ray tasks on a cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from retroml.config import RenderConfig, read_config
from retroml.errors import InvalidInputError, NotFoundError
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video import pipeline
from retroml.video.analytics import SIZE as ANALYTICS_SIZE
from retroml.video.analytics import training_curve
from retroml.video.frames import MilestoneLabel
from retroml.video.labels import journey_checkpoints
from retroml.video.plan import (
    TITLE_SECONDS,
    RenderPlan,
    SegmentMaker,
    allocate,
    length_frames,
    screen_time,
)
from retroml.video.segment import PaneSpec

T = TypeVar("T")
GRID_PANES = 4


def journey_name(game: str, algo: str, run_id: str, settings: RenderConfig) -> str:
    layout = "" if settings.layout == "single" else f"_{settings.layout}"
    return f"{game}__{algo}__{run_id}__journey_{settings.length}{layout}.mp4"


def plan_journey(store: Store, run_id: str, settings: RenderConfig, work_dir: Path, threads: int = 1) -> RenderPlan:
    """Divide the target length among the checkpoints of ``run_id`` (one segment per milestone, or grids)."""
    row = store.get_run(run_id)
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    paths = run_paths(store.home, run_id)
    config = read_config(paths.config)
    checkpoints = journey_checkpoints(store, run_id, paths)
    if not checkpoints:
        raise InvalidInputError(f"run {run_id} has no checkpoint yet, so it has no journey to render; train it first")
    if settings.layout == "grid":
        groups = [checkpoints[start : start + GRID_PANES] for start in range(0, len(checkpoints), GRID_PANES)]
    else:
        groups = [[checkpoint] for checkpoint in checkpoints]
    total = length_frames(settings.length, settings.fps)
    if total < 2 * min(2, len(groups)):
        raise InvalidInputError(f"a {settings.length} journey is too short to show anything; ask for at least 1s")
    shown, frame_counts = followable_segments(groups, total, settings)
    metrics = store.metrics(run_id)
    # The analytics panels are laid out for 1280×720 whatever the resolution setting says.
    size = ANALYTICS_SIZE if settings.layout == "analytics" else None
    make = SegmentMaker(settings, work_dir, threads, config.game, config.train.algo, size)
    segments = []
    previous: MilestoneLabel | None = None
    timeline = tuple(label.milestone_pct for group in shown for _, label in group)
    for index, (group, frames) in enumerate(zip(shown, frame_counts, strict=True)):
        panes = tuple(
            PaneSpec(str(path), label, curve=training_curve(metrics, label.timesteps), previous=previous)
            for path, label in group
        )
        segments.append(make.titled(index, panes, frames, layout=settings.layout, timeline=timeline))
        previous = group[-1][1]
    output = paths.videos / journey_name(config.game.id, config.train.algo, run_id, settings)
    return RenderPlan(
        run_id, settings, segments, output, work_dir, milestones_available=len(checkpoints), home=store.home
    )


def followable_segments(
    groups: Sequence[Sequence[T]], total: int, settings: RenderConfig
) -> tuple[list[Sequence[T]], list[int]]:
    """The segments a viewer can follow in ``total`` frames, and the frames of each.

    Every segment gets at least ``settings.min_play_seconds`` of play after its title card; where the
    length is too short for all of them, an evenly spread subset is shown, always with the first
    (where learning starts) and the last (the final weights), each given its share of screen time
    (:func:`~retroml.video.plan.screen_time`).
    """
    shortest = round((settings.min_play_seconds + TITLE_SECONDS) * settings.fps) if settings.min_play_seconds else 2
    for count in range(len(groups), 0, -1):
        if count == 1:
            chosen = [groups[-1]]
        else:
            chosen = [groups[round(index * (len(groups) - 1) / (count - 1))] for index in range(count)]
        frames = allocate(total, screen_time(settings, count))
        if min(frames) >= shortest or count <= 2:
            return chosen, frames
    raise AssertionError("unreachable: a journey has at least one segment")


def render_run_journey(
    store: Store,
    run_id: str,
    settings: RenderConfig,
    workers: int | None = None,
    music: Path | None = None,
    progress: pipeline.Progress | None = None,
    runner: pipeline.SegmentRunner = pipeline.run_in_pool,
) -> Path:
    """Render the journey of ``run_id``; returns the MP4 under the run's ``videos/``.

    Also writes a JSON manifest and a poster JPEG beside it and records the video in the store.
    ``render_progress`` of the run follows the frames rendered. Nothing is left in ``videos/`` if the
    render fails or is cancelled.
    """
    work_dir = pipeline.render_work_dir(store, run_id)
    count = pipeline.worker_count(workers)
    plan = plan_journey(store, run_id, settings, work_dir, threads=pipeline.encoder_threads(count))
    return pipeline.render_video(store, plan, count, music, progress, runner)
