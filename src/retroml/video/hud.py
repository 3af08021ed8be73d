"""What the viewer sees: the game as a TV showed it with crisp pixels, a HUD band of true numbers, title cards.

Text is drawn with Pillow's bundled font (no system fonts needed) and cached, so a frame costs one
nearest-neighbour resize and a few array copies; the band is only redrawn when a number changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from retroml.video.frames import Frame, MilestoneLabel
from retroml.video.i420 import I420Canvas, even_box

BACKGROUND = (12, 14, 22)
BAND = (24, 28, 44)
TEXT = (235, 238, 245)
MUTED = (150, 160, 185)
ACCENT = (255, 204, 64)
BANNER_SECONDS = 1.5
# The console's picture: 160 × 210 colour clocks whose pixels a TV drew wider than tall. Stella's
# default draws each TIA pixel two screen pixels wide and then scales the width by ``tia.aspectn`` =
# 91 % for NTSC (stella src/emucore/Settings.cxx), so 160 × 210 is shown as 291 × 210, about 4:3.
ATARI_WIDTH, ATARI_HEIGHT = 160, 210
STELLA_NTSC_WIDTH_SCALE = 2 * 0.91
DISPLAY_ASPECT = ATARI_WIDTH * STELLA_NTSC_WIDTH_SCALE / ATARI_HEIGHT


# DejaVu (Debian's fonts-dejavu-core, installed by scripts/setup.sh) has the dashes and the middle
# dot of the HUD; Pillow's bundled font is the fallback and lacks the em dash.
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_FILES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def has_glyph(face: ImageFont.FreeTypeFont | ImageFont.ImageFont, character: str) -> bool:
    return bool(face.getmask(character).getbbox())


def text_image(text: str, size: int, color: tuple[int, int, int], background: tuple[int, int, int]) -> np.ndarray:
    """``text`` rendered on ``background``, tightly cropped (height × width × 3)."""
    face = font(size)
    if not has_glyph(face, "—"):
        text = text.replace("—", "-")
    left, top, right, bottom = face.getbbox(text)
    image = Image.new("RGB", (max(1, int(right - left) + 2), max(1, size + size // 3)), background)
    ImageDraw.Draw(image).text((1 - left, (size + size // 3 - (bottom - top)) // 2 - top), text, font=face, fill=color)
    return np.asarray(image)


def fitted_text(
    text: str, size: int, max_width: int, color: tuple[int, int, int], background: tuple[int, int, int]
) -> np.ndarray:
    """``text`` as :func:`text_image` draws it, in a smaller size if it would be wider than ``max_width``."""
    image = text_image(text, size, color, background)
    if image.shape[1] <= max_width:
        return image
    return text_image(text, max(8, int(size * max_width / image.shape[1])), color, background)


def paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Copy ``patch`` onto ``canvas`` at (x, y), clipped to the canvas."""
    height = min(patch.shape[0], canvas.shape[0] - y)
    width = min(patch.shape[1], canvas.shape[1] - x)
    if height > 0 and width > 0:
        canvas[y : y + height, x : x + width] = patch[:height, :width]


def tv_size(box_width: int, box_height: int) -> tuple[int, int]:
    """The largest (width, height) of the console's picture at :data:`DISPLAY_ASPECT` inside the box."""
    height = min(box_height, int(box_width / DISPLAY_ASPECT))
    return max(1, round(height * DISPLAY_ASPECT)), max(1, height)


class GamePane:
    """A game screen with its HUD band, drawn into a region of the output frame.

    :param width: pane width.
    :param height: pane height.
    :param heading: the band's first line, fixed for the pane (game, algorithm, milestone, steps).
    :param fps: video frame rate (how long the NEW EPISODE label stays in the band).
    :param compact: smaller text, for grid panes.
    """

    def __init__(self, width: int, height: int, heading: Sequence[str], fps: int, compact: bool = False) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.size = max(11, height // (30 if compact else 24))
        self.band_height = self.size * (len(heading) + 2) + (4 if compact else 8)
        self.band = np.full((self.band_height, width, 3), BAND, dtype=np.uint8)
        x = self.size // 2
        for index, text in enumerate(heading):
            patch = fitted_text(text, self.size, width - self.size, TEXT if index == 0 else MUTED, BAND)
            paste(self.band, patch, x, 4 + index * (self.size + self.size // 3))
        self.stats_y = 4 + len(heading) * (self.size + self.size // 3)
        game_width, game_height = tv_size(width, height - self.band_height - 2)
        # Even edges, so the game fills whole 2×2 colour samples of an I420 frame (see draw_i420).
        self.game_x, self.game_y, self.game_width, self.game_height = even_box(
            (width - game_width) // 2, self.band_height + 2 + (height - self.band_height - 2 - game_height) // 2,
            game_width, game_height,
        )  # fmt: skip
        self._stats: OrderedDict[tuple[int, float, float, str | None], np.ndarray] = OrderedDict()
        self.canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        self._i420: I420Canvas | None = None
        self._band_shown: np.ndarray | None = None

    def draw(self, frame: Frame) -> np.ndarray:
        """The pane for ``frame`` (a view of an internal buffer, valid until the next call)."""
        label = frame.note if frame.episode_frame < BANNER_SECONDS * self.fps else None
        self.canvas[: self.band_height] = self._stats_band(frame.episode, frame.score, frame.best, label)
        game = cv2.resize(frame.rgb, (self.game_width, self.game_height), interpolation=cv2.INTER_NEAREST)
        self.canvas[self.game_y : self.game_y + self.game_height, self.game_x : self.game_x + self.game_width] = game
        return self.canvas

    def draw_i420(self, frame: Frame) -> np.ndarray:
        """The pane for ``frame`` as :meth:`draw` paints it, in I420 for the encoder (a whole-frame pane only).

        The band is converted only when its numbers change; the game at the console's resolution.
        """
        label = frame.note if frame.episode_frame < BANNER_SECONDS * self.fps else None
        band = self._stats_band(frame.episode, frame.score, frame.best, label)
        if self._i420 is None:
            self._i420 = I420Canvas(self.canvas)
        if band is not self._band_shown:
            self.canvas[: self.band_height] = band
            self._i420.update(self.canvas, 0, 0, self.width, self.band_height)
            self._band_shown = band
        self._i420.screen(frame.rgb, self.game_x, self.game_y, self.game_width, self.game_height)
        return self._i420.planes

    def _stats_band(self, episode: int, score: float, best: float, label: str | None) -> np.ndarray:
        """The band with this episode's numbers, and the NEW EPISODE label (with why) when ``label`` is set."""
        key = (episode, score, best, label)
        band = self._stats.get(key)
        if band is None:
            band = self.band.copy()
            text = f"Episode {episode}    Score {score:,.0f}    Best {best:,.0f}"
            stats = text_image(text, self.size, ACCENT, BAND)
            paste(band, stats, self.size // 2, self.stats_y)
            if label is not None:
                tag = self._new_episode_tag(label, self.width - stats.shape[1] - self.size * 2)
                paste(band, tag, self.width - tag.shape[1] - self.size // 2, self.stats_y)
            self._stats[key] = band
            if len(self._stats) > 64:
                self._stats.popitem(last=False)
        return band

    def _new_episode_tag(self, note: str, max_width: int) -> np.ndarray:
        """``NEW EPISODE`` (and why the last one ended) on the accent colour, at most ``max_width`` wide."""
        text = f"NEW EPISODE: {note}, reset" if note else "NEW EPISODE"
        return fitted_text(text, self.size, max(self.size * 4, max_width), (20, 20, 20), ACCENT)


def heading_for(game_title: str, algo: str, label: MilestoneLabel) -> list[str]:
    """The fixed lines of a single-layout HUD band."""
    return [
        f"{game_title}  ·  {algo.upper()}  ·  {label.trained_text}",
        f"{label.timesteps:,} timesteps  ·  {label.training_episodes:,} training episodes",
    ]


def grid_heading(label: MilestoneLabel) -> list[str]:
    """The fixed line of a grid pane."""
    return [f"{label.pct_text}  ·  {label.timesteps:,} steps  ·  {label.training_episodes:,} ep"]


def compare_heading(caption: str, algo: str, label: MilestoneLabel) -> list[str]:
    """The fixed lines of a compare pane: whose run, which algorithm, how far trained, how it scored then."""
    score = "no episode yet" if label.training_score_mean is None else f"mean score {label.training_score_mean:,.1f}"
    return [f"{caption}  ·  {algo.upper()}  ·  {label.pct_text}", f"{label.timesteps:,} steps  ·  {score}"]


def grid_shape(panes: int) -> tuple[int, int]:
    """Columns and rows for ``panes`` games side by side."""
    return {1: (1, 1), 2: (2, 1), 3: (3, 1)}.get(panes, (2, (panes + 1) // 2))


class GridCanvas:
    """Several panes in one frame under a title band (the ``grid`` and ``compare`` layouts).

    :param headings: the fixed lines of each pane; by default its milestone, steps and episodes.
    """

    def __init__(
        self,
        width: int,
        height: int,
        title: str,
        labels: Sequence[MilestoneLabel],
        fps: int,
        headings: Sequence[Sequence[str]] | None = None,
    ) -> None:
        self.size = max(12, height // 26)
        self.title_height = self.size * 2
        self.canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        paste(self.canvas, text_image(title, self.size, TEXT, BACKGROUND), self.size // 2, self.size // 3)
        columns, rows = grid_shape(len(labels))
        self.cell_width = width // columns
        self.cell_height = (height - self.title_height) // rows
        self.positions = [
            ((index % columns) * self.cell_width, self.title_height + (index // columns) * self.cell_height)
            for index in range(len(labels))
        ]
        headings = headings or [grid_heading(label) for label in labels]
        self.panes = [
            GamePane(self.cell_width - 4, self.cell_height - 4, heading, fps, compact=True) for heading in headings
        ]

    def draw(self, frames: Sequence[Frame]) -> np.ndarray:
        for pane, (x, y), frame in zip(self.panes, self.positions, frames, strict=True):
            paste(self.canvas, pane.draw(frame), x + 2, y + 2)
        return self.canvas


def title_card(
    width: int, height: int, heading: str, lines: Sequence[str], text_height: int | None = None
) -> np.ndarray:
    """A still card between milestones: a heading and lines of text, centred in the top ``text_height`` rows."""
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    size = max(14, height // 18)
    rows = [fitted_text(heading, size, width - size, MUTED, BACKGROUND)]
    line_size = size if len(lines) > 1 else int(size * 1.3)
    rows += [fitted_text(line, line_size, width - size, TEXT, BACKGROUND) for line in lines]
    y = ((text_height or height) - sum(row.shape[0] + size // 2 for row in rows)) // 2
    for row in rows:
        paste(canvas, row, (width - row.shape[1]) // 2, max(0, y))
        y += row.shape[0] + size // 2
    cv2.rectangle(canvas, (width // 4, y + size // 2), (3 * width // 4, y + size // 2 + 3), ACCENT, thickness=-1)
    return canvas
