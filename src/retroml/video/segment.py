"""One segment of a journey (or one live clip): a title card, then checkpoints playing, into one MP4.

:func:`render_segment` is a top-level function of a picklable :class:`SegmentSpec`, so the same
segment renders in this process, in a process pool or as a Ray task, and gives the same frames for
the same seed wherever it runs.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from retroml.config import GameConfig
from retroml.video.analytics import AnalyticsCanvas, analytics_heading, draw_curve
from retroml.video.encoder import VideoEncoder
from retroml.video.frames import Frame, MilestoneLabel
from retroml.video.hud import GamePane, GridCanvas, compare_heading, heading_for, title_card
from retroml.video.playback import RENDER_DEFAULTS, Playback, load_playback_policy
from retroml.video.story import StoryCanvas, is_story_frame

PROGRESS_EVERY_SEC = 1.0


@dataclass(frozen=True)
class PaneSpec:
    """A checkpoint shown in a segment: its file and what it is.

    :param algo: the algorithm that trained it, when panes of one segment differ (compare layout);
        ``None`` means the segment's ``algo``.
    :param caption: the run's name, above the pane in the compare layout and on the highlights title card.
    :param curve: the run's training curve up to this checkpoint, ``(timesteps, score_mean)`` pairs
        from the metrics DB (the analytics layout and the single layout's title card draw it).
    :param previous: the milestone shown before this one, for the title card's change of score.
    """

    checkpoint: str
    label: MilestoneLabel
    algo: str | None = None
    caption: str | None = None
    curve: tuple[tuple[int, float], ...] = ()
    previous: MilestoneLabel | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """Everything needed to render one segment, with no handle on the store or the run.

    :param index: position in the journey (0-based).
    :param output: the MP4 to write.
    :param panes: one checkpoint (``single``) or several playing side by side (``grid``).
    :param title_frames: frames of the title card before play.
    :param play_frames: frames of play.
    :param seed: playback seed (the same for every pane, so they start from the same game state).
    :param stuck_seconds: a new game after this long without reward (see :class:`Playback`).
    :param still_seconds: a new game after this long without a change on screen.
    :param epsilon: share of random actions in place of the policy's.
    :param faststart: index at the front (for files played as they are, such as clips).
    :param progress_file: where to write the frames done so far (read by the parent for progress).
    :param layout: the painter: ``single``, ``grid``, ``analytics`` or ``compare`` (``highlights`` paints
        as ``single`` and titles the trailer).
    :param skip_frames: playback frames to run through unseen before the first encoded one (a
        highlight starts inside an episode; same seed, same frames, so this reproduces it).
    :param timeline: the milestone percentages of the whole journey (the 16:9 story panel's timeline).
    """

    index: int
    output: str
    game: GameConfig
    game_title: str
    algo: str
    panes: tuple[PaneSpec, ...]
    title_frames: int
    play_frames: int
    width: int = 640
    height: int = 480
    fps: int = 30
    crf: int = 23
    preset: str = RENDER_DEFAULTS.preset
    threads: int = 1
    seed: int = 0
    sampled: bool = False
    stuck_seconds: float = RENDER_DEFAULTS.stuck_seconds
    still_seconds: float = RENDER_DEFAULTS.still_seconds
    epsilon: float = RENDER_DEFAULTS.epsilon
    faststart: bool = False
    progress_file: str | None = None
    layout: str = "single"
    skip_frames: int = 0
    timeline: tuple[float, ...] = ()

    @property
    def frames(self) -> int:
        return self.title_frames + self.play_frames


def title_lines(spec: SegmentSpec) -> tuple[str, list[str]]:
    """The title card of a segment: a heading and one line per checkpoint."""
    if spec.layout == "compare":
        heading = f"{spec.game_title}  ·  {spec.panes[0].label.pct_text} of each run's budget"
        return heading, [compare_title_line(pane, spec.algo) for pane in spec.panes]
    if spec.layout == "highlights":
        heading = f"Highlights  ·  {spec.game_title}  ·  {spec.algo.upper()}"
        return heading, [pane.caption or pane.label.title_line() for pane in spec.panes]
    heading = f"{spec.game_title}  ·  {spec.algo.upper()}"
    lines = [pane.label.title_line() for pane in spec.panes]
    if len(spec.panes) == 1 and (change := score_change(spec.panes[0])):
        lines.append(change)
    return heading, lines


def score_change(pane: PaneSpec) -> str | None:
    """``+2.4 since 10 %``: how the mean training score moved since the milestone shown before."""
    if pane.previous is None:
        return None
    now, before = pane.label.training_score_mean, pane.previous.training_score_mean
    if now is None or before is None:
        return None
    return f"{now - before:+,.1f} since {pane.previous.pct_text}"


def compare_title_line(pane: PaneSpec, algo: str) -> str:
    """``seed-1 (PPO): 200,000 steps, mean score 4.2`` (a compare title card's line for one run)."""
    score = pane.label.training_score_mean
    scored = "no episode finished yet" if score is None else f"mean score {score:,.1f}"
    return f"{pane.caption} ({(pane.algo or algo).upper()}): {pane.label.timesteps:,} steps, {scored}"


def render_segment(spec: SegmentSpec) -> dict[str, Any]:
    """Render ``spec`` to ``spec.output``; returns what was shown (episodes and scores per pane).

    Frames stream from the emulators through the HUD into the encoder; nothing is held in lists.
    """
    started = time.perf_counter()
    parent = os.getppid()
    playbacks = [
        Playback(
            spec.game,
            load_playback_policy(pane.algo or spec.algo, Path(pane.checkpoint)),
            seed=spec.seed,
            sampled=spec.sampled,
            stuck_seconds=spec.stuck_seconds,
            still_seconds=spec.still_seconds,
            epsilon=spec.epsilon,
            fps=spec.fps,
        )
        for pane in spec.panes
    ]
    draw = _painter(spec, playbacks)
    output = Path(spec.output)
    last_report = 0.0
    current: list[Frame] = []
    first_shown = [(1, 0)] * len(playbacks)
    try:
        with VideoEncoder(
            output, spec.width, spec.height, spec.fps, spec.crf, spec.preset, spec.threads, spec.faststart
        ) as encoder:
            # Loading the checkpoints and starting the emulators and the encoder: a cost per segment, not per frame.
            setup_seconds = time.perf_counter() - started
            if spec.title_frames:
                card = to_i420(_title_card(spec))
                for _ in range(spec.title_frames):
                    encoder.write_i420(card)
            streams = [playback.frames() for playback in playbacks]
            for _ in range(spec.skip_frames):
                for stream in streams:
                    next(stream)
            for done in range(spec.play_frames):
                current = [next(stream) for stream in streams]
                if done == 0:
                    first_shown = [(frame.episode, frame.episode_frame) for frame in current]
                encoder.write_i420(draw(current))
                now = time.perf_counter()
                if now - last_report > PROGRESS_EVERY_SEC:
                    if os.getppid() != parent:
                        raise SystemExit("the render that asked for this segment is gone")
                    if spec.progress_file:
                        Path(spec.progress_file).write_text(str(spec.title_frames + done + 1), encoding="utf-8")
                    last_report = now
    finally:
        for playback in playbacks:
            playback.close()
    for playback, frame in zip(playbacks, current, strict=False):
        playback.cut(frame.episode, frame.score, frame.episode_frame + 1)
    return {
        "index": spec.index,
        "file": output.name,
        "frames": spec.frames,
        "title_frames": spec.title_frames,
        "play_frames": spec.play_frames,
        "seconds": spec.frames / spec.fps,
        "render_seconds": time.perf_counter() - started,
        "setup_seconds": setup_seconds,
        "worker": f"{socket.gethostname()}:{os.getpid()}",  # which process rendered it (a pool's, or a Ray node's)
        "panes": [
            {
                "checkpoint": Path(pane.checkpoint).name,
                **asdict(pane.label),
                "label": pane.label.pct_text,
                "algo": pane.algo or spec.algo,
                "caption": pane.caption,
                "first_episode_frame": first_frame,
                # Episodes that ended in the skipped frames are not part of what this segment shows.
                "episodes": [asdict(episode) for episode in playback.episodes if episode.episode >= first_episode],
                "best_score": max(
                    (episode.score for episode in playback.episodes if episode.episode >= first_episode), default=None
                ),
            }
            for pane, playback, (first_episode, first_frame) in zip(spec.panes, playbacks, first_shown, strict=True)
        ],
    }


def _title_card(spec: SegmentSpec) -> np.ndarray:
    """The card before play; a single milestone's card also shows the training curve up to it."""
    heading, lines = title_lines(spec)
    pane = spec.panes[0]
    if spec.layout != "single" or len(spec.panes) != 1 or not pane.curve:
        return title_card(spec.width, spec.height, heading, lines)
    text_height = spec.height * 11 // 20
    card = title_card(spec.width, spec.height, heading, lines, text_height=text_height)
    margin = spec.width // 16
    box = (margin, text_height, spec.width - 2 * margin, spec.height - text_height - spec.height // 20)
    draw_curve(card, box, pane.curve, pane.label.timesteps)
    return card


def to_i420(rgb: np.ndarray) -> np.ndarray:
    """An RGB frame in the encoder's I420 layout."""
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)


def _painter(spec: SegmentSpec, playbacks: list[Playback]) -> Callable[[list[Frame]], np.ndarray]:
    """What turns the panes' frames into an I420 frame for the encoder.

    One game on its own (the journey's layout, at any size) is painted in I420, converting only what
    changed; the analytics, compare and grid layouts paint RGB, converted whole.
    """
    if spec.layout not in ("analytics", "compare") and len(spec.panes) == 1:
        shown = spec.panes[0]
        if spec.layout == "single" and is_story_frame(spec.width, spec.height):
            story = StoryCanvas(
                spec.width, spec.height, spec.game_title, spec.algo, shown.label, shown.curve, spec.timeline, spec.fps
            )
            return lambda frames: story.draw_i420(frames[0])
        pane = GamePane(spec.width, spec.height, heading_for(spec.game_title, spec.algo, shown.label), spec.fps)
        return lambda frames: pane.draw_i420(frames[0])
    draw = _rgb_painter(spec, playbacks)
    return lambda frames: to_i420(draw(frames))


def _rgb_painter(spec: SegmentSpec, playbacks: list[Playback]) -> Callable[[list[Frame]], np.ndarray]:
    if spec.layout == "analytics":
        shown = spec.panes[0]
        heading = analytics_heading(spec.game_title, spec.algo, shown.label)
        canvas = AnalyticsCanvas.for_playback(playbacks[0], heading, shown.label, shown.curve)
        return lambda frames: canvas.draw(frames[0])
    if spec.layout == "compare":
        title = f"{spec.game_title}  ·  {len(spec.panes)} runs at {spec.panes[0].label.pct_text} of their budgets"
        headings = [compare_heading(pane.caption or "", pane.algo or spec.algo, pane.label) for pane in spec.panes]
        labels = [pane.label for pane in spec.panes]
        return GridCanvas(spec.width, spec.height, title, labels, spec.fps, headings).draw
    title = f"{spec.game_title}  ·  {spec.algo.upper()}  ·  the same game at {len(spec.panes)} points of training"
    grid = GridCanvas(spec.width, spec.height, title, [pane.label for pane in spec.panes], spec.fps)
    return grid.draw
