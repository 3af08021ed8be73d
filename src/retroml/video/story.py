"""The 16:9 single layout: the game as large as the frame's height allows, the story of the run beside it.

At 1280×720 or 1920×1080 a 4:3 game leaves a third of the frame empty; here that space holds what a
viewer needs to follow the journey: the game and algorithm, how far training got, this episode's
numbers (and a small NEW EPISODE label, outside the playfield), the training curve up to this
checkpoint with a marker, and the milestone timeline of the whole journey with this one lit.
Everything but the numbers and the game is drawn once per segment.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import cv2
import numpy as np

from retroml.video.analytics import PANEL, draw_curve
from retroml.video.frames import Frame, MilestoneLabel
from retroml.video.hud import (
    ACCENT,
    BACKGROUND,
    BANNER_SECONDS,
    MUTED,
    TEXT,
    fitted_text,
    paste,
    tv_size,
)
from retroml.video.i420 import I420Canvas, even_box

# Wider than this and the frame has room beside a 4:3 game for the story panel (16:10 and 16:9).
STORY_ASPECT = 1.55
GAME_SHARE = 0.86  # of the frame's height: the game stays the largest thing on screen


def is_story_frame(width: int, height: int) -> bool:
    return width / height >= STORY_ASPECT


class StoryCanvas:
    """A 16:9 frame: the game on the left, the run's story on the right.

    :param curve: ``(timesteps, score_mean)`` of the run up to this checkpoint.
    :param timeline: the milestone percentages the journey shows, in order; ``label`` is one of them.
    """

    def __init__(
        self,
        width: int,
        height: int,
        game_title: str,
        algo: str,
        label: MilestoneLabel,
        curve: Sequence[tuple[int, float]],
        timeline: Sequence[float],
        fps: int,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.scale = height / 720
        margin = round(24 * self.scale)
        game_width, game_height = tv_size(width, round(height * GAME_SHARE))
        # Even edges, so the game fills whole 2×2 colour samples of the I420 frame (see draw_i420).
        self.game_x, self.game_y, self.game_width, self.game_height = even_box(
            margin, (height - game_height) // 2, game_width, game_height
        )
        self.panel_x = self.game_x + self.game_width + margin
        self.panel_width = width - self.panel_x - margin
        self.canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        cv2.rectangle(
            self.canvas,
            (self.game_x - 2, self.game_y - 2),
            (self.game_x + self.game_width + 1, self.game_y + self.game_height + 1),
            PANEL,
            thickness=2,
        )
        y = self.game_y
        y = self._line(f"{game_title}", 34, TEXT, y)
        y = self._line(f"{algo.upper()}  ·  {label.trained_text}", 22, ACCENT, y)
        y = self._line(f"{label.timesteps:,} steps  ·  {label.training_episodes:,} training episodes", 16, MUTED, y)
        self.stats_y, self.stats_height = y + round(10 * self.scale), round(118 * self.scale)
        y = self.stats_y + self.stats_height
        timeline_height = round(70 * self.scale)
        curve_height = self.game_y + self.game_height - y - timeline_height - round(12 * self.scale)
        draw_curve(self.canvas, (self.panel_x, y, self.panel_width, curve_height), curve, label.timesteps)
        paste(self.canvas, self._text("mean training score", 13, MUTED, PANEL), self.panel_x + 64, y + 6)
        self._draw_timeline(timeline, label.milestone_pct, self.game_y + self.game_height - timeline_height)
        self._stats: OrderedDict[tuple[int, float, float, str | None], np.ndarray] = OrderedDict()
        self._i420: I420Canvas | None = None
        self._stats_shown: np.ndarray | None = None

    def draw(self, frame: Frame) -> np.ndarray:
        """The frame for ``frame`` (a view of an internal buffer, valid until the next call)."""
        self._paint_stats(frame)
        game = cv2.resize(frame.rgb, (self.game_width, self.game_height), interpolation=cv2.INTER_NEAREST)
        self.canvas[self.game_y : self.game_y + self.game_height, self.game_x : self.game_x + self.game_width] = game
        return self.canvas

    def draw_i420(self, frame: Frame) -> np.ndarray:
        """The frame :meth:`draw` paints, in I420 for the encoder: only what changed is converted."""
        if self._i420 is None:
            self._i420 = I420Canvas(self.canvas)
        if self._paint_stats(frame):
            self._i420.update(self.canvas, self.panel_x, self.stats_y, self.panel_width, self.stats_height)
        self._i420.screen(frame.rgb, self.game_x, self.game_y, self.game_width, self.game_height)
        return self._i420.planes

    def _paint_stats(self, frame: Frame) -> bool:
        """Paint the episode's numbers into the canvas; ``True`` if they changed since the last frame."""
        label = frame.note if frame.episode_frame < BANNER_SECONDS * self.fps else None
        stats = self._stats_block(frame.episode, frame.score, frame.best, label)
        if stats is self._stats_shown:
            return False
        self.canvas[self.stats_y : self.stats_y + self.stats_height, self.panel_x : self.panel_x + self.panel_width] = (
            stats
        )
        self._stats_shown = stats
        return True

    def _text(
        self, text: str, size: int, color: tuple[int, int, int], background: tuple[int, int, int] = BACKGROUND
    ) -> np.ndarray:
        return fitted_text(text, max(11, round(size * self.scale)), self.panel_width, color, background)

    def _line(self, text: str, size: int, color: tuple[int, int, int], y: int) -> int:
        patch = self._text(text, size, color)
        paste(self.canvas, patch, self.panel_x, y)
        return y + patch.shape[0] + round(6 * self.scale)

    def _stats_block(self, episode: int, score: float, best: float, label: str | None) -> np.ndarray:
        """Episode, score and best in large type, and the NEW EPISODE label (with why) when ``label`` is set."""
        key = (episode, score, best, label)
        block = self._stats.get(key)
        if block is None:
            block = np.full((self.stats_height, self.panel_width, 3), BACKGROUND, dtype=np.uint8)
            column = self.panel_width // 3
            for index, (name, value) in enumerate((("EPISODE", episode), ("SCORE", score), ("BEST", best))):
                paste(block, self._text(name, 13, MUTED), index * column, 0)
                paste(
                    block,
                    self._text(f"{value:,.0f}", 40, TEXT if index else MUTED),
                    index * column,
                    round(20 * self.scale),
                )
            if label is not None:
                text = f"NEW EPISODE: {label}, reset" if label else "NEW EPISODE"
                paste(block, self._text(text, 15, (20, 20, 20), ACCENT), 0, round(84 * self.scale))
            self._stats[key] = block
            if len(self._stats) > 64:
                self._stats.popitem(last=False)
        return block

    def _draw_timeline(self, timeline: Sequence[float], now: float, top: int) -> None:
        """The journey's milestones on a line from 0 to 100 %: passed ones filled, this one lit, later ones hollow."""
        left, right = self.panel_x + round(12 * self.scale), self.panel_x + self.panel_width - round(12 * self.scale)
        paste(self.canvas, self._text("milestones of this journey", 13, MUTED), self.panel_x, top)
        y = top + round(40 * self.scale)
        cv2.line(self.canvas, (left, y), (right, y), MUTED, thickness=max(1, round(2 * self.scale)))
        radius = max(3, round(5 * self.scale))
        for pct in timeline or [now]:
            x = round(left + min(max(pct, 0.0), 100.0) / 100 * (right - left))
            if pct == now:
                cv2.circle(self.canvas, (x, y), radius * 2, ACCENT, thickness=-1, lineType=cv2.LINE_AA)
            else:
                cv2.circle(self.canvas, (x, y), radius, TEXT, thickness=-1 if pct < now else 1, lineType=cv2.LINE_AA)
        paste(self.canvas, self._text("0 %", 12, MUTED), left - radius, y + radius * 2 + 2)
        end = self._text("100 %", 12, MUTED)
        paste(self.canvas, end, right - end.shape[1] + radius, y + radius * 2 + 2)
