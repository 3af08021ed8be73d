"""How every video is made once it is planned: work folder, workers, disk check, join, publish, progress.

A segment render (journey, comparison, highlights) hands :func:`render_video` a
:class:`~retroml.video.plan.RenderPlan`; its segments render in a pool of worker processes (or in
this process, or as Ray tasks: any :data:`SegmentRunner`) and are joined without re-encoding. The
time-lapse encodes its own frames but goes through the same steps: the file is written under a
hidden partial name and moved into place (:func:`video_output`), the run's ``render_progress``
follows the work (:class:`RenderProgress`), and :func:`publish` writes the poster and manifest
beside the video and records it in the store, or leaves nothing at all.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import active_children, get_context
from pathlib import Path
from typing import Any, TypeVar

from retroml.calibration import record_render
from retroml.config import read_config
from retroml.disk import RENDER_FIX, disk_full_sentence, is_disk_full
from retroml.errors import DiskFullError, InvalidInputError
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video import upload_pack
from retroml.video.analytics import training_curve
from retroml.video.background import die_with_parent
from retroml.video.encoder import VideoInfo, join_segments, save_poster
from retroml.video.plan import RenderPlan
from retroml.video.segment import SegmentSpec, render_segment

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
SegmentRunner = Callable[[Sequence[SegmentSpec], int, Callable[[], None]], Iterator[dict[str, Any]]]
DISK_MARGIN_BYTES = 64 * 1024 * 1024
Item = TypeVar("Item")
Result = TypeVar("Result")


def worker_count(workers: int | None) -> int:
    """The worker processes of a render: as asked, else one per core."""
    return max(1, workers or os.cpu_count() or 1)


def encoder_threads(workers: int) -> int:
    """x264 threads per segment: the cores the segment workers leave idle, shared among them."""
    cores = os.cpu_count() or 1
    return max(1, cores // workers) if workers < cores else 1


def render_work_dir(store: Store, run_id: str) -> Path:
    """A fresh folder for the segments of a render, hidden inside the run's ``videos/`` (not created yet)."""
    videos = run_paths(store.home, run_id).videos
    videos.mkdir(parents=True, exist_ok=True)
    return videos / f".render-{uuid.uuid4().hex[:8]}"


def check_disk(plan: RenderPlan) -> None:
    """Refuse a render that would not fit: segments and the joined file both need the expected size."""
    free = shutil.disk_usage(plan.output.parent).free
    needed = 2 * plan.expected_bytes() + DISK_MARGIN_BYTES
    if free < needed:
        raise InvalidInputError(
            f"not enough free disk for a {plan.settings.length} journey: it needs about {needed / 1e9:.1f} GB "
            f"and {free / 1e9:.1f} GB are free under {plan.output.parent}"
        )


def in_workers(
    work: Callable[[Item], Result], items: Sequence[Item], workers: int, tick: Callable[[], None]
) -> Iterator[tuple[Item, Result]]:
    """``work(item)`` for each item in ``workers`` processes (in this one if 1), yielding ``(item, result)``
    as each finishes; ``tick`` is called after each in this process, and about every second with a pool.

    ``work`` and the items must pickle (a module-level function, plain specs).
    """
    if workers <= 1:
        for item in items:
            yield item, work(item)
            tick()
        return
    others = set(active_children())
    # spawn, not fork: the parent may hold torch threads and a database connection.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=die_with_parent)
    futures: dict[Future[Result], Item] = {pool.submit(work, item): item for item in items}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                yield futures[future], future.result()
            tick()
    except BaseException:
        # Cancelled or failed: stop the work in flight now rather than let it finish. The pool's
        # workers are the children this process started since it made the pool.
        for process in set(active_children()) - others:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_in_pool(segments: Sequence[SegmentSpec], workers: int, tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
    """Render segments in ``workers`` processes (in this one if 1), yielding results as they finish."""
    for _segment, result in in_workers(render_segment, segments, workers, tick):
        yield result


class RenderProgress:
    """Reports a render's progress to ``progress`` and, every 1 % (and at the end), to the run's ``render_progress``.

    The fraction shown stops at 0.99 until the video is published.
    """

    def __init__(self, store: Store, run_id: str, progress: Progress | None) -> None:
        self.store, self.run_id, self.progress = store, run_id, progress
        self._recorded = -1.0

    def __call__(self, fraction: float, detail: str, finished: bool = False) -> None:
        fraction = min(0.99, fraction)
        if self.progress is not None:
            self.progress(fraction, detail)
        if fraction - self._recorded >= 0.01 or finished:
            self.store.update_run(self.run_id, render_progress=round(fraction, 3))
            self._recorded = fraction


@contextmanager
def video_output(output: Path) -> Iterator[Path]:
    """The hidden partial file to write ``output`` into: moved into place when the block succeeds, else removed.

    A full disk met in the block is :class:`DiskFullError` with the sentence that says what to do.
    """
    partial = output.with_name(f".{output.name}.partial")
    try:
        yield partial
        os.replace(partial, output)
    except Exception as error:
        # A segment, the join, or a progress row in the store: whichever met the full disk first.
        if is_disk_full(error):
            raise DiskFullError(disk_full_sentence(output, RENDER_FIX)) from error
        raise
    finally:
        partial.unlink(missing_ok=True)


def render_video(
    store: Store,
    plan: RenderPlan,
    workers: int,
    music: Path | None = None,
    progress: Progress | None = None,
    runner: SegmentRunner = run_in_pool,
    extra: Mapping[str, Any] | None = None,
    annotate: Callable[[list[dict[str, Any]]], None] | None = None,
) -> Path:
    """Render, join and publish the segments of ``plan``; this machine's render cost learns from it.

    Any list of segments renders this way (a journey, a comparison, highlights). ``annotate`` may check
    and add to what each segment showed before it is published; ``extra`` as for :func:`publish`.
    The wall time measured is what a person waits for: from the first segment to the published video.
    """
    workers = min(workers, len(plan.segments))
    # Before this render is measured: afterwards the estimate would be this render's own time.
    expected_seconds = plan.expected_render_seconds(workers)
    started = time.perf_counter()
    results, info = render_and_join(store, plan, workers, music, progress, runner)
    work = sum(result["render_seconds"] - result.get("setup_seconds", 0.0) for result in results)
    warm = warm_setups(results)
    if annotate is not None:
        annotate(results)
    video = publish(store, plan, results, info, music, extra)
    wall = time.perf_counter() - started
    layout, frames, size = plan.segments[0].layout, plan.segment_pane_frames, info.size_bytes
    record_render(store.home, layout, plan.resolution, frames, workers, wall, info.duration, size, work, warm)
    logger.info(
        "render of %s took %.1f s (expected %.1f s), %.1f MB (expected %.1f MB)",
        plan.run_id,
        wall,
        expected_seconds,
        size / 1e6,
        plan.expected_bytes() / 1e6,
    )
    return video


def render_and_join(
    store: Store, plan: RenderPlan, workers: int, music: Path | None, progress: Progress | None, runner: SegmentRunner
) -> tuple[list[dict[str, Any]], VideoInfo]:
    """Render the segments of ``plan`` through ``runner`` and join them into ``plan.output``.

    Returns what each segment showed, in order, and what the joined file holds. Nothing is left in
    ``videos/`` if the render fails or is cancelled.
    """
    if music is not None and not music.is_file():
        raise InvalidInputError(f"the music file {music} does not exist")
    check_disk(plan)
    workers = min(workers, len(plan.segments))
    logger.info(
        "render of %s: %d segments, %s (%d frames); expected about %.0f MB in about %.0f s with %d workers",
        plan.run_id,
        len(plan.segments),
        plan.settings.length,
        plan.frames,
        plan.expected_bytes() / 1e6,
        plan.expected_render_seconds(workers),
        workers,
    )
    if plan.subset_note:
        logger.info("the journey of %s %s", plan.run_id, plan.subset_note)
    plan.work_dir.mkdir(parents=True)
    try:
        with video_output(plan.output) as partial:
            results = _render_segments(plan, workers, RenderProgress(store, plan.run_id, progress), runner)
            marks = [chapter.as_av(number) for number, chapter in enumerate(upload_pack.chapters(plan.segments))]
            info = join_segments([Path(segment.output) for segment in plan.segments], partial, music, marks)
    finally:
        shutil.rmtree(plan.work_dir, ignore_errors=True)
    return results, info


def warm_setups(results: Sequence[Mapping[str, Any]]) -> list[float]:
    """The set-up seconds of the segments that were not their worker's first (results in the order handed out).

    A fresh worker's first segment also pays its start-up (torch's first load, oneDNN's kernels): 2.4 s
    against 0.35 s for its next ones on this machine, so only the next ones say what a segment costs.
    """
    seen: set[Any] = set()
    warm = []
    for result in results:
        worker = result.get("worker")
        if worker is None:
            continue
        if worker in seen and "setup_seconds" in result:
            warm.append(float(result["setup_seconds"]))
        seen.add(worker)
    return warm


def _render_segments(
    plan: RenderPlan, workers: int, report: RenderProgress, runner: SegmentRunner
) -> list[dict[str, Any]]:
    started = time.perf_counter()
    finished: dict[int, dict[str, Any]] = {}

    def tick() -> None:
        done = sum(result["frames"] for result in finished.values()) + sum(
            _frames_so_far(segment) for segment in plan.segments if segment.index not in finished
        )
        elapsed = time.perf_counter() - started
        size = sum(Path(segment.output).stat().st_size for segment in plan.segments if Path(segment.output).exists())
        speed = done / max(elapsed, 1e-6)
        detail = f"segments {len(finished)}/{len(plan.segments)} · {speed:.0f} frames/s · {size / 1e6:.1f} MB"
        report(done / plan.frames, detail, finished=len(finished) == len(plan.segments))

    for result in runner(plan.segments, workers, tick):
        finished[result["index"]] = result
        tick()
    return [finished[segment.index] for segment in plan.segments]


def _frames_so_far(segment: SegmentSpec) -> int:
    try:
        return int(Path(segment.progress_file or "").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0


@contextmanager
def publishing(output: Path) -> Iterator[None]:
    """Around writing what goes beside ``output`` (poster, manifest, store row): if any of that fails (a
    full disk), the video and the files beside it are removed, so a video is in ``videos/`` only with
    its manifest, poster and artifact."""
    try:
        yield
    except BaseException as error:
        for leftover in output.parent.glob(f"{glob.escape(output.stem)}.*"):
            leftover.unlink(missing_ok=True)
        if isinstance(error, Exception) and is_disk_full(error):
            raise DiskFullError(disk_full_sentence(output, RENDER_FIX)) from error
        raise


def write_manifest(output: Path, manifest: Mapping[str, Any]) -> Path:
    """The JSON manifest beside ``output``."""
    path = output.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def record_video(store: Store, run_id: str, output: Path, info: VideoInfo, meta: Mapping[str, Any], **row: Any) -> None:
    """Record ``output`` as a ``journey`` artifact of ``run_id``; ``meta`` follows its poster and manifest.

    ``row``: the artifact's other columns (timesteps, episodes …).
    """
    home = store.home
    store.add_artifact(
        run_id,
        "journey",
        str(output.relative_to(home)),
        **row,
        size_bytes=info.size_bytes,
        duration_sec=info.duration,
        meta={
            "poster": str(output.with_suffix(".jpg").relative_to(home)),
            "manifest": str(output.with_suffix(".json").relative_to(home)),
            **meta,
        },
    )


def publish(
    store: Store,
    plan: RenderPlan,
    results: list[dict[str, Any]],
    info: VideoInfo,
    music: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the poster, manifest and upload pack beside a segment render and record it as a ``journey``.

    :param extra: fields of the manifest and of the artifact's ``meta`` that other layouts add or
        override (the compare layout: ``layout`` and ``runs``).
    """
    output, settings = plan.output, plan.settings
    with publishing(output):
        start = 0
        for result in results:
            result["start_frame"] = start
            start += result["frames"]
            for timing in ("render_seconds", "setup_seconds", "worker"):  # how it ran, not what was shown
                result.pop(timing, None)
        save_poster(output, output.with_suffix(".jpg"), at_seconds=best_moment(results, settings.fps))
        last = _last_own_pane(store, plan, results)
        write_manifest(
            output,
            {
                "run_id": plan.run_id,
                "video": output.name,
                "layout": settings.layout,
                "length": settings.length,
                "fps": settings.fps,
                "frames": plan.frames,
                "seconds": plan.seconds,
                "resolution": settings.resolution,
                "playback": settings.playback,
                "seed": settings.seed,
                "music": music.name if music else None,
                "segments": results,
                **(extra or {}),
            },
        )
        pack = _write_upload_pack(store, plan, last["timesteps"])
        meta = {
            "layout": settings.layout,
            "length": settings.length,
            "frames": plan.frames,
            "segments": len(results),
            "pack": pack.relative_to(store.home),
            **(extra or {}),
        }
        record_video(
            store,
            plan.run_id,
            output,
            info,
            meta,
            milestone_pct=round(last["milestone_pct"]),
            timesteps=last["timesteps"],
            episodes=last["training_episodes"],
        )
    logger.info("journey of %s: %s (%.1f MB, %.1f s)", plan.run_id, output, info.size_bytes / 1e6, info.duration)
    return output


def best_moment(results: Sequence[Mapping[str, Any]], fps: int) -> float:
    """Seconds into the video of a moment of its best play: three quarters into the best-scoring episode shown.

    The poster shows it, so each video's poster is its own picture rather than a title card. Ties go
    to the later segment (the better-trained agent); with no episode scored, the last segment's play.
    """

    def score(item: tuple[int, Mapping[str, Any]]) -> tuple[float, int]:
        best = item[1]["panes"][0]["best_score"]
        return (float("-inf") if best is None else float(best), item[0])

    _, segment = max(enumerate(results), key=score)
    pane = segment["panes"][0]
    play_start = segment["start_frame"] + segment["title_frames"]
    frame = segment["play_frames"] // 2
    shown = 0 - int(pane.get("first_episode_frame") or 0)
    for episode in pane["episodes"]:
        if episode["score"] == pane["best_score"]:
            frame = max(0, shown) + max(0, episode["frames"] + min(shown, 0)) * 3 // 4
            break
        shown += episode["frames"]
    return (play_start + min(frame, segment["play_frames"] - 1)) / fps


def _last_own_pane(store: Store, plan: RenderPlan, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The last pane shown of the run the video is filed under (a comparison also shows other runs)."""
    own = run_paths(store.home, plan.run_id).checkpoints
    last_segment = zip(plan.segments[-1].panes, results[-1]["panes"], strict=True)
    shown = [pane for spec, pane in last_segment if Path(spec.checkpoint).parent == own]
    return shown[-1] if shown else results[-1]["panes"][-1]


def _write_upload_pack(store: Store, plan: RenderPlan, timesteps: int) -> upload_pack.PackFiles:
    """Chapters, thumbnail and description beside the video, from the run's facts."""
    row = store.get_run(plan.run_id) or {}
    config = read_config(run_paths(store.home, plan.run_id).config)
    first = plan.segments[0]
    facts = {
        "game_title": first.game_title,
        "algo": first.algo,
        "timesteps": timesteps,
        "n_envs": config.train.n_envs,
        "training_seconds": float(row.get("train_seconds") or 0.0),
        "device": config.train.device,
    }
    curve = training_curve(store.metrics(plan.run_id), timesteps)
    return upload_pack.write_pack(plan.output, plan.segments, facts, curve)
