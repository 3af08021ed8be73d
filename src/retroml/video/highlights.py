"""The best moments of a run's journey cut into a short trailer: the video people share.

Moments are found, not guessed. Each milestone checkpoint plays (deterministic policy, the render's
seed, nothing encoded, so it is fast) until it has finished a few episodes; the trailer then shows the
first points scored at the early milestones and the highest-scoring episodes at the later ones. A clip
is a one-pane segment that runs through the playback frames before its moment unseen (same seed, same
frames) and stops at the latest on its episode's last frame, so every clip shows one episode, and the
manifest names it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from retroml.config import GameConfig, RenderConfig, read_config
from retroml.errors import InvalidInputError, NotFoundError, RetroMLError
from retroml.paths import run_paths
from retroml.store import Store
from retroml.video import pipeline
from retroml.video.frames import MilestoneLabel
from retroml.video.labels import milestone_labels
from retroml.video.plan import RenderPlan, SegmentMaker, allocate, length_frames, title_frames
from retroml.video.playback import Playback, load_playback_policy
from retroml.video.segment import PaneSpec

logger = logging.getLogger(__name__)

# A checkpoint plays until it has finished this many episodes, or for this long, whichever comes first.
SCAN_EPISODES = 3
SCAN_SECONDS = 60.0
CLIP_SECONDS = 6.0
# A clip of a first point starts this long before it, so the viewer sees it coming.
LEAD_IN_SECONDS = 1.5


@dataclass(frozen=True)
class ScannedEpisode:
    """One episode of a checkpoint's playback, as the scan saw it.

    :param start: playback frames before its first one (from the start of the playback).
    :param frames: its frames (all of them if it ended, else those seen before the scan stopped).
    :param score: its score on the last of those frames.
    :param end: why it ended (``game over``, ``time limit``, ``stuck``), or ``scan`` if it had not.
    :param changes: ``(episode frame, score)`` at each frame where the score changed.
    """

    episode: int
    start: int
    frames: int
    score: float
    end: str
    changes: tuple[tuple[int, float], ...]

    def score_at(self, frame: int) -> float:
        """The score shown on episode frame ``frame`` (0 before the first)."""
        return next((score for at, score in reversed(self.changes) if at <= frame), 0.0)

    @property
    def first_points(self) -> int | None:
        """The episode frame where the score first went up, if it did."""
        previous = 0.0
        for at, score in self.changes:
            if score > previous:
                return at
            previous = score
        return None


@dataclass(frozen=True)
class ScannedCheckpoint:
    path: Path
    label: MilestoneLabel
    episodes: tuple[ScannedEpisode, ...]


@dataclass(frozen=True)
class Moment:
    """A highlight: frames ``first`` to ``first + frames - 1`` of one episode of one checkpoint.

    :param why: ``first points`` (an early milestone scoring for the first time), ``best episode`` (the
        best of a later milestone) or ``more play`` (further episodes, when the best ones are too short
        to fill the length asked for).
    """

    checkpoint: ScannedCheckpoint
    episode: ScannedEpisode
    why: str
    first: int = 0
    frames: int = 0

    @property
    def skip_frames(self) -> int:
        return self.episode.start + self.first

    def describe(self) -> dict[str, Any]:
        """What the manifest says about this clip: which episode, which of its frames, what they score."""
        last = self.first + self.frames - 1
        return {
            "why": self.why,
            "checkpoint": self.checkpoint.path.name,
            "milestone_pct": self.checkpoint.label.milestone_pct,
            "timesteps": self.checkpoint.label.timesteps,
            "episode": self.episode.episode,
            "episode_score": self.episode.score,
            "episode_end": self.episode.end,
            "episode_frames": self.episode.frames,
            "skip_frames": self.skip_frames,
            "first_frame": self.first,
            "last_frame": last,
            "score_at_first_frame": self.episode.score_at(self.first),
            "score_at_last_frame": self.episode.score_at(last),
        }


def highlights_name(game: str, algo: str, run_id: str, length: str) -> str:
    return f"{game}__{algo}__{run_id}__highlights_{length}.mp4"


def scan_checkpoint(game: GameConfig, algo: str, path: Path, settings: RenderConfig) -> tuple[ScannedEpisode, ...]:
    """Play ``path`` as a clip would (deterministic, the render's seed) and record its episodes."""
    playback = Playback(
        game,
        load_playback_policy(algo, path),
        seed=settings.seed,
        stuck_seconds=settings.stuck_seconds,
        still_seconds=settings.still_seconds,
        epsilon=settings.epsilon,
        fps=settings.fps,
    )
    starts: dict[int, int] = {}
    changes: dict[int, list[tuple[int, float]]] = {}
    last_frame: dict[int, tuple[int, float]] = {}
    try:
        stream = playback.frames()
        for index in range(round(SCAN_SECONDS * settings.fps)):
            frame = next(stream)
            # An episode is recorded as it hands over to the next, whose first frame this is.
            if len(playback.episodes) >= SCAN_EPISODES:
                break
            if frame.episode not in starts:
                starts[frame.episode], changes[frame.episode] = index, []
            if frame.score != last_frame.get(frame.episode, (0, 0.0))[1]:
                changes[frame.episode].append((frame.episode_frame, frame.score))
            last_frame[frame.episode] = (frame.episode_frame, frame.score)
    finally:
        playback.close()
    ended = {episode.episode: episode for episode in playback.episodes}
    scanned = []
    for number, start in starts.items():
        seen, score = last_frame[number]
        end = ended[number].end if number in ended else "scan"
        scanned.append(ScannedEpisode(number, start, seen + 1, score, end, tuple(changes[number])))
    return tuple(scanned)


def scan_checkpoints(
    game: GameConfig,
    algo: str,
    checkpoints: Sequence[tuple[Path, MilestoneLabel]],
    settings: RenderConfig,
    workers: int,
    progress: pipeline.Progress | None = None,
) -> list[ScannedCheckpoint]:
    """:func:`scan_checkpoint` for each checkpoint, in ``workers`` processes when there are enough to share."""
    scanned: dict[Path, tuple[ScannedEpisode, ...]] = {}

    def report() -> None:
        if progress is not None:
            progress(0.0, f"finding the best moments: {len(scanned)}/{len(checkpoints)} checkpoints played")

    # A worker costs a few seconds to start (torch, ALE); below two scans each it does not pay.
    if len(checkpoints) < 2 * workers:
        workers = 1
    scan = partial(scan_checkpoint, game, algo, settings=settings)
    for path, episodes in pipeline.in_workers(scan, [path for path, _ in checkpoints], workers, lambda: None):
        scanned[path] = episodes
        report()
    return [ScannedCheckpoint(path, label, scanned[path]) for path, label in checkpoints]


def ranked_moments(scans: list[ScannedCheckpoint], first_points: bool = True) -> list[Moment]:
    """Every episode scanned, the most worth showing first.

    The first points at the early milestones (first half of the checkpoints), then the best episode of
    each later milestone by score, then the other episodes by score (later milestones first).

    :param first_points: lead with the first points (a one-clip trailer shows the best episode instead).
    """
    early, later = scans[: len(scans) // 2], scans[len(scans) // 2 :]
    ranked: list[Moment] = []
    scored = ((scan, episode) for scan in early for episode in scan.episodes if episode.first_points is not None)
    found = next(scored, None) if first_points else None
    if found is not None:
        ranked.append(Moment(found[0], found[1], "first points"))
    bests = [Moment(scan, max(scan.episodes, key=lambda episode: episode.score), "best episode") for scan in later]
    # Of equal scores, the later milestone's: it is the more trained agent.
    ranked += sorted(reversed(bests), key=lambda moment: -moment.episode.score)
    shown = {(moment.checkpoint.path, moment.episode.episode) for moment in ranked}
    for group in (later, early):
        rest = [
            Moment(scan, episode, "more play")
            for scan in group
            for episode in scan.episodes
            if (scan.path, episode.episode) not in shown
        ]
        ranked += sorted(rest, key=lambda moment: -moment.episode.score)
    return ranked


def pick_moments(scans: list[ScannedCheckpoint], play_frames: int, fps: int, length: str) -> list[Moment]:
    """Clips of about :data:`CLIP_SECONDS` that fill ``play_frames`` exactly, each inside one episode."""
    count = max(1, round(play_frames / (CLIP_SECONDS * fps)))
    ranked = [moment for moment in ranked_moments(scans, first_points=count > 1) if moment.episode.frames > 0]
    chosen = ranked[:count]
    shares = allocate(play_frames, [1.0] * len(chosen)) if chosen else []
    lengths = [min(share, moment.episode.frames) for share, moment in zip(shares, chosen, strict=True)]
    missing = play_frames - sum(lengths)
    while missing > 0:
        spare = [index for index, moment in enumerate(chosen) if lengths[index] < moment.episode.frames]
        if spare:
            for index, extra in zip(spare, allocate(missing, [1.0] * len(spare)), strict=True):
                added = min(extra, chosen[index].episode.frames - lengths[index])
                lengths[index] += added
                missing -= added
        elif len(chosen) < len(ranked):
            chosen.append(ranked[len(chosen)])
            lengths.append(min(missing, chosen[-1].episode.frames))
            missing -= lengths[-1]
        else:
            available = sum(lengths) // fps
            raise InvalidInputError(
                f"the checkpoints played only {available}s of episodes, too little for {length} of highlights; "
                f"ask for at most {available}s"
            )
    moments = [_placed(moment, frames, fps) for moment, frames in zip(chosen, lengths, strict=True)]
    order = {scan.path: index for index, scan in enumerate(scans)}
    return sorted(moments, key=lambda moment: (order[moment.checkpoint.path], moment.episode.episode))


def _placed(moment: Moment, frames: int, fps: int) -> Moment:
    """``moment`` with its ``frames`` placed in its episode: before a first point, or on the most points."""
    episode = moment.episode
    latest = episode.frames - frames
    lead_in = round(LEAD_IN_SECONDS * fps)
    if moment.why == "first points" and episode.first_points is not None:
        first = min(max(0, episode.first_points - lead_in), latest)
    else:
        starts = {0, latest, *(min(max(0, at - lead_in), latest) for at, _ in episode.changes)}

        def gained(start: int) -> float:
            before = episode.score_at(start - 1) if start else 0.0
            return episode.score_at(start + frames - 1) - before

        first = max(sorted(starts), key=gained)
    return Moment(moment.checkpoint, episode, moment.why, first, frames)


def render_highlights(
    store: Store,
    run_id: str,
    length: str = "60s",
    settings: RenderConfig | None = None,
    workers: int | None = None,
    progress: pipeline.Progress | None = None,
    runner: pipeline.SegmentRunner = pipeline.run_in_pool,
) -> Path:
    """Render a trailer of the best moments of ``run_id``, ``length`` long, after a title card.

    Returns the MP4, written with its JSON manifest (which names the episode and frames of every clip)
    and poster JPEG in the run's ``videos/`` and recorded as a ``journey`` with ``"layout": "highlights"``.
    """
    row = store.get_run(run_id)
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    paths = run_paths(store.home, run_id)
    config = read_config(paths.config)
    settings = (settings or config.render).model_copy(update={"length": length, "playback": "deterministic"})
    total = length_frames(length, settings.fps)
    checkpoints = milestone_labels(store, run_id, paths)
    if not checkpoints:
        raise InvalidInputError(f"run {run_id} has no checkpoint yet, so it has no highlights; train it first")
    title = title_frames(settings.fps, total)

    workers = pipeline.worker_count(workers)
    scans = scan_checkpoints(config.game, config.train.algo, checkpoints, settings, workers, progress)
    moments = pick_moments(scans, total - title, settings.fps, length)
    logger.info("highlights of %s: %d clips from %d checkpoints", run_id, len(moments), len(scans))

    work_dir = pipeline.render_work_dir(store, run_id)
    make = SegmentMaker(settings, work_dir, pipeline.encoder_threads(workers), config.game, config.train.algo)
    segments = [
        make.segment(
            index,
            (PaneSpec(str(moment.checkpoint.path), moment.checkpoint.label, caption=str(row["name"])),),
            title if index == 0 else 0,
            moment.frames,
            layout="highlights",
            skip_frames=moment.skip_frames,
        )
        for index, moment in enumerate(moments)
    ]
    output = paths.videos / highlights_name(config.game.id, config.train.algo, run_id, length)
    plan = RenderPlan(run_id, settings, segments, output, work_dir)

    def annotate(results: list[dict[str, Any]]) -> None:
        for result, moment in zip(results, moments, strict=True):
            _check_shown(result, moment)
            result["highlight"] = moment.describe()

    extra = {"layout": "highlights", "clips": len(moments)}
    return pipeline.render_video(store, plan, workers, None, progress, runner, extra, annotate)


def _check_shown(result: dict[str, Any], moment: Moment) -> None:
    """Refuse to publish a clip whose playback did not repeat the scanned one (its manifest would lie)."""
    pane = result["panes"][0]
    last = moment.first + moment.frames - 1
    shown = [(episode["episode"], episode["frames"], episode["score"]) for episode in pane["episodes"]]
    expected = [(moment.episode.episode, last + 1, moment.episode.score_at(last))]
    if pane["first_episode_frame"] != moment.first or shown != expected:
        raise RetroMLError(
            f"the playback of {moment.checkpoint.path.name} did not repeat the game scanned for its highlight "
            f"(showed {shown} from frame {pane['first_episode_frame']}, expected {expected} from {moment.first})"
        )
