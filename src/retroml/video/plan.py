"""What a render is before it runs: its segments, how the length is shared among them, what it will cost.

Every segment render (a journey, a comparison, highlights) plans a :class:`RenderPlan`: plain,
picklable :class:`SegmentSpec` s with the render settings filled in by a :class:`SegmentMaker`, the
frames shared out by :func:`allocate`. ``pipeline`` then renders any plan the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retroml.calibration import RenderCost, render_cost
from retroml.config import GameConfig, RenderConfig, parse_duration
from retroml.errors import InvalidInputError
from retroml.games import get_game
from retroml.video.segment import PaneSpec, SegmentSpec

# How long a title card shows before its segment plays (at most a quarter of a short segment).
TITLE_SECONDS = 2.5
# Measured on this project's benchmark (benchmarks/render_speed.py): used only to state the expected
# time and size before a long render, and to refuse one that would not fit on the disk.
EXPECTED_FRAMES_PER_SEC_PER_WORKER = 300.0
# A worker process starts, imports torch and loads its checkpoints before its first frame (measured 2-5 s
# on 2 cores): most of a short render, which the frames alone put at under a second.
EXPECTED_START_SECONDS = 4.0
EXPECTED_BYTES_PER_SEC = {"640x480": 60_000, "854x480": 75_000, "1280x720": 140_000, "1920x1080": 260_000}


@dataclass(frozen=True)
class RenderPlan:
    """The segments of a render and where its files go."""

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
        return sum(self.segment_pane_frames)

    @property
    def segment_pane_frames(self) -> list[int]:
        """Each segment's frames of every pane, in the order the workers get them."""
        return [segment.frames * len(segment.panes) for segment in self.segments]

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
            return cost.render_seconds(self.segment_pane_frames, workers)
        panes = max(len(segment.panes) for segment in self.segments)
        # Pixels cost more than panes: a 1280×720 frame encodes at about half the rate of a 640×480 one.
        width, height = (int(part) for part in self.resolution.split("x"))
        size_factor = max(1.0, width * height / (640 * 480) * 0.7)
        work = self.frames * panes * size_factor / (EXPECTED_FRAMES_PER_SEC_PER_WORKER * max(1, workers))
        return EXPECTED_START_SECONDS + work


def length_frames(length: str, fps: int) -> int:
    """The frames of a video ``length`` long (``90s``, ``5m``), or a one-sentence refusal of the length."""
    try:
        return round(parse_duration(length) * fps)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def title_frames(fps: int, frames: int) -> int:
    """The frames of a title card before ``frames`` of video: :data:`TITLE_SECONDS`, at most a quarter of them."""
    return min(round(TITLE_SECONDS * fps), frames // 4)


def frame_size(settings: RenderConfig) -> tuple[int, int]:
    """(width, height) of ``settings.resolution``."""
    width, height = (int(part) for part in settings.resolution.split("x"))
    return width, height


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` frames in proportion to ``weights``, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * weight / whole for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda index: counts[index] - shares[index])
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def screen_time(settings: RenderConfig, count: int) -> list[float]:
    """The share of screen time of each of ``count`` milestones: equal, or ``later`` ones longer.

    "later" weighting gives the last three times the screen time of the first.
    """
    ramp = 2.0 if settings.weighting == "later" else 0.0
    return [1.0 + ramp * index / max(1, count - 1) for index in range(count)]


@dataclass(frozen=True)
class SegmentMaker:
    """Makes the segments of one render in ``work_dir``, with what the render settings and the run decide filled in.

    :param threads: x264 threads per segment (``pipeline.encoder_threads``).
    :param game: the game settings of the run (or runs) shown.
    :param algo: the algorithm named on the title cards.
    :param size: the frame size, if not the settings' resolution (the analytics layout's is fixed).
    """

    settings: RenderConfig
    work_dir: Path
    threads: int
    game: GameConfig
    algo: str
    size: tuple[int, int] | None = None

    def segment(self, index: int, panes: tuple[PaneSpec, ...], title: int, play: int, **fields: Any) -> SegmentSpec:
        """Segment ``index``: ``title`` frames of title card, then ``play`` frames of ``panes`` playing.

        ``fields`` are the rest of :class:`SegmentSpec` (layout, timeline, skip_frames …).
        """
        settings = self.settings
        width, height = self.size or frame_size(settings)
        return SegmentSpec(
            index=index,
            output=str(self.work_dir / f"segment_{index:03d}.mp4"),
            progress_file=str(self.work_dir / f"segment_{index:03d}.progress"),
            width=width,
            height=height,
            fps=settings.fps,
            crf=settings.crf,
            preset=settings.preset,
            threads=self.threads,
            seed=settings.seed,
            sampled=settings.playback == "sampled",
            stuck_seconds=settings.stuck_seconds,
            still_seconds=settings.still_seconds,
            epsilon=settings.epsilon,
            game=self.game,
            game_title=get_game(self.game.id).title,
            algo=self.algo,
            panes=panes,
            title_frames=title,
            play_frames=play,
            **fields,
        )

    def titled(self, index: int, panes: tuple[PaneSpec, ...], frames: int, **fields: Any) -> SegmentSpec:
        """Segment ``index``, ``frames`` long: its title card (:func:`title_frames`), then its play."""
        title = title_frames(self.settings.fps, frames)
        return self.segment(index, panes, title, frames - title, **fields)
