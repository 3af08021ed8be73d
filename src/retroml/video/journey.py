"""The learning-journey video of a run: plan segments from its checkpoints, render them in parallel, join.

Segment planning (:func:`plan_journey`), frame sources (``playback``), the HUD (``hud``) and encoding
(``encoder``) are separate, so another layout is a new painter and another executor a new ``run``
function: segments are plain picklable specs rendered by :func:`render_segment` wherever there is a
free core (a local process pool here, Ray tasks on a cluster).
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import logging
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from retroml import milestones
from retroml.calibration import RenderCost, record_render, render_cost
from retroml.config import RenderConfig, parse_duration, read_config
from retroml.disk import RENDER_FIX, disk_full_sentence, is_disk_full
from retroml.engine.checkpoints import checkpoint_damage, latest_timesteps, list_milestones
from retroml.errors import DamagedCheckpointError, DiskFullError, InvalidInputError, NotFoundError
from retroml.games import get_game
from retroml.paths import RunPaths, run_paths
from retroml.runs.model import Run
from retroml.store import Store
from retroml.video import upload_pack
from retroml.video.analytics import SIZE as ANALYTICS_SIZE
from retroml.video.analytics import training_curve
from retroml.video.background import die_with_parent
from retroml.video.encoder import VideoInfo, join_segments, save_poster
from retroml.video.frames import MilestoneLabel
from retroml.video.segment import PaneSpec, SegmentSpec, render_segment

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
SegmentRunner = Callable[[Sequence[SegmentSpec], int, Callable[[], None]], Iterator[dict[str, Any]]]
TITLE_SECONDS = 2.5
T = TypeVar("T")
GRID_PANES = 4
# Measured on this project's benchmark (benchmarks/render_speed.py): used only to state the expected
# time and size before a long render, and to refuse one that would not fit on the disk.
EXPECTED_FRAMES_PER_SEC_PER_WORKER = 300.0
# A worker process starts, imports torch and loads its checkpoints before its first frame (measured 2-5 s
# on 2 cores): most of a short render, which the frames alone put at under a second.
EXPECTED_START_SECONDS = 4.0
EXPECTED_BYTES_PER_SEC = {"640x480": 60_000, "854x480": 75_000, "1280x720": 140_000, "1920x1080": 260_000}
DISK_MARGIN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class JourneyPlan:
    """The segments of a journey and where its files go."""

    run_id: str
    settings: RenderConfig
    segments: list[SegmentSpec]
    output: Path
    work_dir: Path
    milestones_available: int = 0
    home: Path | None = None

    @property
    def subset_note(self) -> str | None:
        """``shows 6 of 15 milestones …`` when the length is too short to show every one, else ``None``."""
        shown = sum(len(segment.panes) for segment in self.segments)
        if self.milestones_available <= shown:
            return None
        return (
            f"shows {shown} of {self.milestones_available} milestones (always the first and the "
            f"last) so that each gets {self.settings.min_play_seconds:g} s of play; a longer journey shows more"
        )

    @property
    def frames(self) -> int:
        return sum(segment.frames for segment in self.segments)

    @property
    def seconds(self) -> float:
        return self.frames / self.settings.fps

    @property
    def resolution(self) -> str:
        """The size actually rendered (the analytics layout is always 1280×720)."""
        first = self.segments[0]
        return f"{first.width}x{first.height}"

    @property
    def pane_frames(self) -> int:
        """Frames of every pane: what a render's work is counted in."""
        return sum(segment.frames * len(segment.panes) for segment in self.segments)

    def measured_cost(self, workers: int) -> RenderCost | None:
        """This machine's measured cost of the layout at this size with ``workers`` (``None`` before one)."""
        if self.home is None:
            return None
        layout = self.segments[0].layout  # what is painted: highlights and compare differ from their settings
        return render_cost(self.home, layout, self.resolution, min(workers, len(self.segments)))

    def expected_bytes(self) -> int:
        cost = self.measured_cost(2) or self.measured_cost(1)
        if cost is not None:
            return int(self.seconds * cost.bytes_per_second)
        return int(self.seconds * EXPECTED_BYTES_PER_SEC.get(self.resolution, 140_000))

    def expected_render_seconds(self, workers: int) -> float:
        """From this machine's measured cost of the layout at this size once it rendered one, else a guess."""
        workers = max(1, min(workers, len(self.segments)))
        cost = self.measured_cost(workers)
        if cost is not None:
            return self.pane_frames * cost.worker_seconds_per_frame / workers
        panes = max(len(segment.panes) for segment in self.segments)
        # Pixels cost more than panes: a 1280×720 frame encodes at about half the rate of a 640×480 one.
        width, height = (int(part) for part in self.resolution.split("x"))
        size_factor = max(1.0, width * height / (640 * 480) * 0.7)
        work = self.frames * panes * size_factor / (EXPECTED_FRAMES_PER_SEC_PER_WORKER * max(1, workers))
        return EXPECTED_START_SECONDS + work


def journey_name(game: str, algo: str, run_id: str, settings: RenderConfig) -> str:
    layout = "" if settings.layout == "single" else f"_{settings.layout}"
    return f"{game}__{algo}__{run_id}__journey_{settings.length}{layout}.mp4"


def milestone_labels(store: Store, run_id: str, paths: RunPaths) -> list[tuple[Path, MilestoneLabel]]:
    """The run's milestone checkpoints in training order, then ``latest.zip`` if it was saved further on.

    Each comes with what it had learned (from the store) and where it lies in the run's current plan.
    """
    saved, latest = _labelled_checkpoints(store, run_id, paths)
    if latest is not None and (not saved or latest[1].timesteps > saved[-1][1].timesteps):
        return [*saved, latest]
    return saved


@dataclass(frozen=True)
class Weights:
    """What a checkpoint's policy is, cheaply: a digest of its tensors and whether SB3 had updated them.

    The digest covers the records of the ``policy.pth`` member (torch's own zip: the tensors' bytes
    and the pickled layout of the state dict), not the whole file, which also holds the timesteps,
    the optimiser and the exploration rate. Measured with torch 2.13: identical weights give identical
    records, saved in one process or several. torch's ``.data/serialization_id`` is left out: today
    it is derived from the other records, but an id made at random would make every checkpoint look new.
    """

    digest: str
    updated: bool

    @classmethod
    def of(cls, checkpoint: Path) -> Weights:
        """The weights of ``checkpoint``, read once per file version: a render estimate asked while the
        user types plans the journey again and again, and checkpoints are only ever replaced by rename."""
        stat = checkpoint.stat()
        return _weights_of(str(checkpoint), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _weights_of(checkpoint: str, _mtime_ns: int, _size: int) -> Weights:
    digest = hashlib.blake2b(digest_size=16)
    with zipfile.ZipFile(checkpoint) as archive:
        data = json.loads(archive.read("data"))
        with zipfile.ZipFile(io.BytesIO(archive.read("policy.pth"))) as policy:
            for record in policy.infolist():
                name = record.filename.split("/", 1)[-1]
                if name != ".data/serialization_id":
                    digest.update(name.encode())
                    digest.update(policy.read(record))
    # SB3 counts gradient steps in ``_n_updates``; a checkpoint without it is not called untrained.
    return Weights(digest.hexdigest(), int(data.get("_n_updates", 1)) > 0)


def journey_checkpoints(store: Store, run_id: str, paths: RunPaths) -> list[tuple[Path, MilestoneLabel]]:
    """What a journey shows: each set of weights the run had, once, in training order, ending on its final ones.

    Milestones saved before an update hold the same weights (PPO before its first rollout ends, DQN
    before ``learning_starts``) and would play the same game frame for frame, so consecutive identical
    checkpoints are one segment, labelled by the last of them (the furthest point of training that
    still had these weights) and called "untrained" if no update had been made yet.
    A2C and the DQN family save the 100 % milestone in their last step, before that step's update:
    ``latest.zip``, saved after it at the same timesteps, then takes the milestone's place.
    """
    saved, latest = _labelled_checkpoints(store, run_id, paths)
    shown = [(path, label, Weights.of(path)) for path, label in saved]
    if latest is not None:
        path, label = latest
        weights = Weights.of(path)
        if shown and weights.digest == shown[-1][2].digest:
            pass  # the last milestone shows the final weights already, under its planned percentage
        elif not shown or label.timesteps > shown[-1][1].timesteps:
            shown.append((path, label, weights))
        elif label.timesteps == shown[-1][1].timesteps:
            shown[-1] = (path, shown[-1][1], weights)
        # An older latest.zip (a leg killed before refreshing it) holds weights the milestones passed.
    journey: list[tuple[Path, MilestoneLabel]] = []
    for index, (path, label, weights) in enumerate(shown):
        if index + 1 < len(shown) and shown[index + 1][2].digest == weights.digest:
            continue
        journey.append((path, replace(label, untrained=not weights.updated)))
    return journey


def _labelled_checkpoints(
    store: Store, run_id: str, paths: RunPaths
) -> tuple[list[tuple[Path, MilestoneLabel]], tuple[Path, MilestoneLabel] | None]:
    """The milestone checkpoints in training order and ``latest.zip`` (if any), labelled from the store."""
    row = store.get_run(run_id)
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    plan = Run.from_row(row)
    saved = {Path(artifact["path"]).name: artifact for artifact in store.artifacts(run_id, ["checkpoint"])}

    def labelled(path: Path, file_pct: int | None, timesteps: int) -> tuple[Path, MilestoneLabel]:
        # The file name's percentage is what was planned when it was saved; it only finds the artifact.
        artifact = next(
            (row for row in saved.values() if (row["timesteps"], row["milestone_pct"]) == (timesteps, file_pct)), {}
        )
        metrics = store.metrics_at(run_id, timesteps) or {}
        episodes = artifact.get("episodes")
        if episodes is None:
            episodes = metrics.get("episodes") or 0
        score = (artifact.get("meta") or {}).get("score_mean")
        if score is None and episodes:
            score = metrics.get("score_mean")
        pct = milestones.percent(timesteps, plan.start_timesteps, plan.total_timesteps)
        return path, MilestoneLabel(pct, timesteps, int(episodes), score, milestone=file_pct is not None)

    milestone_files = list_milestones(paths.checkpoints)
    latest = paths.latest_checkpoint
    files = [checkpoint.path for checkpoint in milestone_files] + ([latest] if latest.is_file() else [])
    damaged = {path: why for path in files if (why := checkpoint_damage(path)) is not None}
    for path, why in damaged.items():
        logger.warning("skipping %s: it is damaged (%s)", path.relative_to(store.home), why)
    if files and len(damaged) == len(files):
        names = ", ".join(f"{path.name} ({why})" for path, why in damaged.items())
        raise DamagedCheckpointError(
            f"none of the checkpoints of run {run_id} loads ({names}), so there is nothing to render; train a new run"
        )
    found = [
        labelled(checkpoint.path, checkpoint.milestone_pct, checkpoint.timesteps)
        for checkpoint in milestone_files
        if checkpoint.path not in damaged
    ]
    if not latest.is_file() or latest in damaged:
        return found, None
    return found, labelled(latest, None, latest_timesteps(latest))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` frames in proportion to ``weights``, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * weight / whole for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda index: counts[index] - shares[index])
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def settings_segment(
    settings: RenderConfig, index: int, work_dir: Path, threads: int, size: tuple[int, int], **fields: Any
) -> SegmentSpec:
    """Segment ``index`` of a render in ``work_dir``, with what the render settings decide filled in.

    ``fields`` are the rest of :class:`SegmentSpec` (game, panes, frames, layout …).
    """
    return SegmentSpec(
        index=index,
        output=str(work_dir / f"segment_{index:03d}.mp4"),
        progress_file=str(work_dir / f"segment_{index:03d}.progress"),
        width=size[0],
        height=size[1],
        fps=settings.fps,
        crf=settings.crf,
        preset=settings.preset,
        threads=threads,
        seed=settings.seed,
        sampled=settings.playback == "sampled",
        stuck_seconds=settings.stuck_seconds,
        still_seconds=settings.still_seconds,
        epsilon=settings.epsilon,
        **fields,
    )


def plan_journey(store: Store, run_id: str, settings: RenderConfig, work_dir: Path, threads: int = 1) -> JourneyPlan:
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
    total = round(parse_duration(settings.length) * settings.fps)
    if total < 2 * min(2, len(groups)):
        raise InvalidInputError(f"a {settings.length} journey is too short to show anything; ask for at least 1s")
    shown, frame_counts = followable_segments(groups, total, settings)
    width, height = (int(part) for part in settings.resolution.split("x"))
    metrics = store.metrics(run_id)
    if settings.layout == "analytics":
        # The panels are laid out for 1280×720 whatever the resolution setting says.
        width, height = ANALYTICS_SIZE
    segments = []
    previous: MilestoneLabel | None = None
    timeline = tuple(label.milestone_pct for group in shown for _, label in group)
    for index, (group, frames) in enumerate(zip(shown, frame_counts, strict=True)):
        title = min(round(TITLE_SECONDS * settings.fps), frames // 4)
        segments.append(
            settings_segment(
                settings,
                index,
                work_dir,
                threads,
                (width, height),
                game=config.game,
                game_title=get_game(config.game.id).title,
                algo=config.train.algo,
                panes=tuple(
                    PaneSpec(str(path), label, curve=training_curve(metrics, label.timesteps), previous=previous)
                    for path, label in group
                ),
                title_frames=title,
                play_frames=frames - title,
                layout=settings.layout,
                timeline=timeline,
            )
        )
        previous = group[-1][1]
    output = paths.videos / journey_name(config.game.id, config.train.algo, run_id, settings)
    return JourneyPlan(
        run_id, settings, segments, output, work_dir, milestones_available=len(checkpoints), home=store.home
    )


def followable_segments(
    groups: Sequence[Sequence[T]], total: int, settings: RenderConfig
) -> tuple[list[Sequence[T]], list[int]]:
    """The segments a viewer can follow in ``total`` frames, and the frames of each.

    Every segment gets at least ``settings.min_play_seconds`` of play after its title card; where the
    length is too short for all of them, an evenly spread subset is shown, always with the first
    (where learning starts) and the last (the final weights). "later" weighting gives the last
    segment three times the screen time of the first.
    """
    shortest = round((settings.min_play_seconds + TITLE_SECONDS) * settings.fps) if settings.min_play_seconds else 2
    for count in range(len(groups), 0, -1):
        if count == 1:
            chosen = [groups[-1]]
        else:
            chosen = [groups[round(index * (len(groups) - 1) / (count - 1))] for index in range(count)]
        ramp = 2.0 if settings.weighting == "later" else 0.0
        frames = allocate(total, [1.0 + ramp * index / max(1, count - 1) for index in range(count)])
        if min(frames) >= shortest or count <= 2:
            return chosen, frames
    raise AssertionError("unreachable: a journey has at least one segment")


def check_disk(plan: JourneyPlan) -> None:
    """Refuse a render that would not fit: segments and the joined file both need the expected size."""
    free = shutil.disk_usage(plan.output.parent).free
    needed = 2 * plan.expected_bytes() + DISK_MARGIN_BYTES
    if free < needed:
        raise InvalidInputError(
            f"not enough free disk for a {plan.settings.length} journey: it needs about {needed / 1e9:.1f} GB "
            f"and {free / 1e9:.1f} GB are free under {plan.output.parent}"
        )


def run_in_pool(segments: Sequence[SegmentSpec], workers: int, tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
    """Render segments in ``workers`` processes (in this one if 1), yielding results as they finish."""
    if workers <= 1:
        for segment in segments:
            yield render_segment(segment)
            tick()
        return
    # spawn, not fork: the parent may hold torch threads and a database connection.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=die_with_parent)
    pending: set[Future[dict[str, Any]]] = {pool.submit(render_segment, segment) for segment in segments}
    try:
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
            tick()
    except BaseException:
        # Cancelled or failed: stop the segments in flight now rather than let them finish.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def render_run_journey(
    store: Store,
    run_id: str,
    settings: RenderConfig,
    workers: int | None = None,
    music: Path | None = None,
    progress: Progress | None = None,
    runner: SegmentRunner = run_in_pool,
) -> Path:
    """Render the journey of ``run_id``; returns the MP4 under the run's ``videos/``.

    Also writes a JSON manifest and a poster JPEG beside it and records the video in the store.
    ``render_progress`` of the run follows the frames rendered. Nothing is left in ``videos/`` if the
    render fails or is cancelled.
    """
    work_dir = render_work_dir(store, run_id)
    workers = max(1, workers or os.cpu_count() or 1)
    plan = plan_journey(store, run_id, settings, work_dir, threads=encoder_threads(workers))
    results, info = render_and_join(store, plan, workers, music, progress, runner)
    return publish(store, plan, results, info, music)


def render_work_dir(store: Store, run_id: str) -> Path:
    """A fresh folder for the segments of a render, hidden inside the run's ``videos/`` (not created yet)."""
    videos = run_paths(store.home, run_id).videos
    videos.mkdir(parents=True, exist_ok=True)
    return videos / f".render-{uuid.uuid4().hex[:8]}"


def encoder_threads(workers: int) -> int:
    """x264 threads per segment: the cores the segment workers leave idle, shared among them."""
    cores = os.cpu_count() or 1
    return max(1, cores // workers) if workers < cores else 1


def render_and_join(
    store: Store,
    plan: JourneyPlan,
    workers: int,
    music: Path | None = None,
    progress: Progress | None = None,
    runner: SegmentRunner = run_in_pool,
) -> tuple[list[dict[str, Any]], VideoInfo]:
    """Render the segments of ``plan`` through ``runner`` and join them into ``plan.output``.

    Any list of segments renders this way (a journey, a comparison, highlights). Returns what each
    segment showed, in order, and what the joined file holds. Nothing is left in ``videos/`` if the
    render fails or is cancelled.
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
    partial = plan.output.with_name(f".{plan.output.name}.partial")
    started = time.perf_counter()
    # Before this render is measured: afterwards the estimate would be this render's own time.
    expected_seconds = plan.expected_render_seconds(workers)
    try:
        results = _render_segments(store, plan, workers, progress, runner)
        marks = [chapter.as_av(number) for number, chapter in enumerate(upload_pack.chapters(plan.segments))]
        info = join_segments([Path(segment.output) for segment in plan.segments], partial, music, marks)
        os.replace(partial, plan.output)
        wall = time.perf_counter() - started
        record_render(
            store.home,
            plan.segments[0].layout,
            plan.resolution,
            plan.pane_frames,
            workers,
            wall,
            info.duration,
            info.size_bytes,
        )
        logger.info(
            "render of %s took %.1f s (expected %.1f s), %.1f MB (expected %.1f MB)",
            plan.run_id,
            wall,
            expected_seconds,
            info.size_bytes / 1e6,
            plan.expected_bytes() / 1e6,
        )
    except Exception as error:
        # A segment, the join, or a progress row in the store: whichever met the full disk first.
        if is_disk_full(error):
            raise DiskFullError(disk_full_sentence(plan.output, RENDER_FIX)) from error
        raise
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(plan.work_dir, ignore_errors=True)
    return results, info


def _render_segments(
    store: Store, plan: JourneyPlan, workers: int, progress: Progress | None, runner: SegmentRunner
) -> list[dict[str, Any]]:
    started = time.perf_counter()
    finished: dict[int, dict[str, Any]] = {}
    last_fraction = -1.0

    def tick() -> None:
        nonlocal last_fraction
        done = sum(result["frames"] for result in finished.values()) + sum(
            _frames_so_far(segment) for segment in plan.segments if segment.index not in finished
        )
        fraction = min(0.99, done / plan.frames)
        elapsed = time.perf_counter() - started
        size = sum(Path(segment.output).stat().st_size for segment in plan.segments if Path(segment.output).exists())
        speed = done / max(elapsed, 1e-6)
        detail = f"segments {len(finished)}/{len(plan.segments)} · {speed:.0f} frames/s · {size / 1e6:.1f} MB"
        if progress is not None:
            progress(fraction, detail)
        if fraction - last_fraction >= 0.01 or len(finished) == len(plan.segments):
            store.update_run(plan.run_id, render_progress=round(fraction, 3))
            last_fraction = fraction

    for result in runner(plan.segments, workers, tick):
        finished[result["index"]] = result
        tick()
    return [finished[segment.index] for segment in plan.segments]


def _frames_so_far(segment: SegmentSpec) -> int:
    try:
        return int(Path(segment.progress_file or "").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0


def _last_own_pane(store: Store, plan: JourneyPlan, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The last pane shown of the run the video is filed under (a comparison also shows other runs)."""
    own = run_paths(store.home, plan.run_id).checkpoints
    last_segment = zip(plan.segments[-1].panes, results[-1]["panes"], strict=True)
    shown = [pane for spec, pane in last_segment if Path(spec.checkpoint).parent == own]
    return shown[-1] if shown else results[-1]["panes"][-1]


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


def publish(
    store: Store,
    plan: JourneyPlan,
    results: list[dict[str, Any]],
    info: VideoInfo,
    music: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the poster and manifest beside the video and record it in the store as a ``journey``.

    If any of that fails (a full disk), the video and the files beside it are removed: a video is
    in ``videos/`` only with its manifest, poster and artifact.

    :param extra: fields of the manifest and of the artifact's ``meta`` that other layouts add or
        override (the compare layout: ``layout`` and ``runs``).
    """
    try:
        return _publish(store, plan, results, info, music, extra)
    except BaseException as error:
        for leftover in plan.output.parent.glob(f"{glob.escape(plan.output.stem)}.*"):
            leftover.unlink(missing_ok=True)
        if isinstance(error, Exception) and is_disk_full(error):
            raise DiskFullError(disk_full_sentence(plan.output, RENDER_FIX)) from error
        raise


def _publish(
    store: Store,
    plan: JourneyPlan,
    results: list[dict[str, Any]],
    info: VideoInfo,
    music: Path | None,
    extra: Mapping[str, Any] | None,
) -> Path:
    output = plan.output
    size, seconds = info.size_bytes, info.duration
    start = 0
    for result in results:
        result["start_frame"] = start
        start += result["frames"]
        result.pop("render_seconds", None)
    poster = save_poster(output, output.with_suffix(".jpg"), at_seconds=best_moment(results, plan.settings.fps))
    last = _last_own_pane(store, plan, results)
    manifest = {
        "run_id": plan.run_id,
        "video": output.name,
        "layout": plan.settings.layout,
        "length": plan.settings.length,
        "fps": plan.settings.fps,
        "frames": plan.frames,
        "seconds": plan.seconds,
        "resolution": plan.settings.resolution,
        "playback": plan.settings.playback,
        "seed": plan.settings.seed,
        "music": music.name if music else None,
        "segments": results,
        **(extra or {}),
    }
    manifest_path = output.with_suffix(".json")
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    home = store.home
    pack = _write_upload_pack(store, plan, last["timesteps"])
    store.add_artifact(
        plan.run_id,
        "journey",
        str(output.relative_to(home)),
        milestone_pct=round(last["milestone_pct"]),
        timesteps=last["timesteps"],
        episodes=last["training_episodes"],
        size_bytes=size,
        duration_sec=seconds,
        meta={
            "poster": str(poster.relative_to(home)),
            "manifest": str(manifest_path.relative_to(home)),
            "layout": plan.settings.layout,
            "length": plan.settings.length,
            "frames": plan.frames,
            "segments": len(results),
            "pack": pack.relative_to(home),
            **(extra or {}),
        },
    )
    logger.info("journey of %s: %s (%.1f MB, %.1f s)", plan.run_id, output, size / 1e6, seconds)
    return output


def _write_upload_pack(store: Store, plan: JourneyPlan, timesteps: int) -> upload_pack.PackFiles:
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
