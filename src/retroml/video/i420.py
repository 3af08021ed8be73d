"""Frames painted straight in the layout x264 encodes (I420: a Y plane, then quarter-size U and V planes).

A journey frame is mostly still: the HUD or the story panel changes when a number does, the game
every frame. Painting in RGB and converting the whole frame for the encoder cost more than the
painting itself (1280×720: 0.9 ms to paint, 1.2 ms to convert, per frame). Here the still parts are
converted once, when they change, and the game is converted at the console's own 160×210 and then
scaled: each plane is a nearest-neighbour copy, so the game's pixels stay crisp and the conversion
costs the same at any output size.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# BT.601 with video levels, as OpenCV's RGB→I420 converts the rest of the frame (within one level).
RGB_TO_YUV = np.array(
    [[0.257, 0.504, 0.098, 16.0], [-0.148, -0.291, 0.439, 128.0], [0.439, -0.368, -0.071, 128.0]], dtype=np.float32
)


def even_box(x: int, y: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The box rounded to even edges (a U or V sample covers 2×2 pixels), inside the original one."""
    left, top = x + (x & 1), y + (y & 1)
    return left, top, (x + width - left) & ~1, (y + height - top) & ~1


class I420Canvas:
    """An output frame in I420, updated a region at a time.

    :param rgb: the frame's first picture (``height × width × 3`` RGB, even sides).
    """

    def __init__(self, rgb: np.ndarray) -> None:
        self.height, self.width = rgb.shape[:2]
        self.planes = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))
        self.y, self.u, self.v = split_planes(self.planes, self.width, self.height)

    def update(self, rgb: np.ndarray, x: int, y: int, width: int, height: int) -> None:
        """Convert the region of the RGB picture ``rgb`` (the whole frame) that changed into the planes."""
        left, top = x & ~1, y & ~1
        right, bottom = min(self.width, (x + width + 1) & ~1), min(self.height, (y + height + 1) & ~1)
        if right <= left or bottom <= top:
            return
        region = cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right]), cv2.COLOR_RGB2YUV_I420)
        y_plane, u_plane, v_plane = split_planes(region, right - left, bottom - top)
        self.y[top:bottom, left:right] = y_plane
        self.u[top // 2 : bottom // 2, left // 2 : right // 2] = u_plane
        self.v[top // 2 : bottom // 2, left // 2 : right // 2] = v_plane

    def screen(self, rgb: np.ndarray, x: int, y: int, width: int, height: int) -> None:
        """The console screen ``rgb`` scaled (nearest neighbour) into the even box (x, y, width, height).

        Y, U and V are computed at the screen's 160×210 (full colour resolution: each U and V sample
        of the box then lies inside one screen pixel), each plane is scaled across at the screen's
        height, and its rows are repeated down (row copies, twice as fast as scaling the whole box).
        """
        screen_height = rgb.shape[0]
        planes = cv2.split(cv2.transform(rgb, RGB_TO_YUV))
        for plane, source, scale in zip((self.y, self.u, self.v), planes, (1, 2, 2), strict=True):
            left, top, across, down = x // scale, y // scale, width // scale, height // scale
            wide = cv2.resize(source, (across, screen_height), interpolation=cv2.INTER_NEAREST)
            plane[top : top + down, left : left + across] = wide[_rows(down, screen_height)]


@lru_cache(maxsize=16)
def _rows(height: int, screen_height: int) -> np.ndarray:
    """The screen row each of ``height`` output rows shows."""
    return np.arange(height) * screen_height // height


def split_planes(planes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an I420 buffer (as OpenCV lays it out: Y, then U, then V)."""
    flat = planes.reshape(-1)
    luma, chroma = width * height, (width // 2) * (height // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )
