"""The in-app video player: PyAV decodes the MP4, a QTimer paces the frames, a QLabel shows them.

It does not use QtMultimedia, whose playback depends on a platform backend (GStreamer, FFmpeg
plugins) that a fresh desktop may not have; PyAV ships its own FFmpeg in its wheel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout, QWidget

logger = logging.getLogger(__name__)


def clock(seconds: float) -> str:
    """A playback time as players show it: ``0:07``, ``12:34``, ``1:02:03``."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def frame_image(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of an ``H×W×3`` uint8 RGB frame (the array may be freed afterwards)."""
    height, width, _ = rgb.shape
    contiguous = np.ascontiguousarray(rgb)
    return QImage(contiguous.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class VideoDecoder:
    """Sequential frames of one video file with seeking by frame index.

    :param path: an MP4 (or anything FFmpeg reads) with a video stream.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._container = av.open(str(path))
        self._stream = self._container.streams.video[0]
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        self.fps = float(rate)
        self.frame_count = int(self._stream.frames) or self._count_frames()
        self._frames: Iterator[av.VideoFrame] = self._container.decode(self._stream)
        self.position = -1  # index of the last frame returned

    def _count_frames(self) -> int:
        duration = self._stream.duration
        if duration and self._stream.time_base:
            return max(round(float(duration * self._stream.time_base) * self.fps), 1)
        if self._container.duration:
            return max(int(self._container.duration / av.time_base * self.fps), 1)
        return 1

    def _index_of(self, frame: av.VideoFrame) -> int:
        if frame.pts is None or frame.time_base is None:
            return self.position + 1
        start = self._stream.start_time or 0
        return round(float((frame.pts - start) * frame.time_base) * self.fps)

    def next_frame(self) -> np.ndarray | None:
        """The next frame as RGB, or ``None`` at the end of the video."""
        try:
            frame = next(self._frames)
        except (StopIteration, av.error.EOFError):
            return None
        self.position = max(self._index_of(frame), self.position + 1)
        return frame.to_ndarray(format="rgb24")

    def seek(self, index: int) -> np.ndarray | None:
        """Jump to frame ``index`` (the nearest key frame before it, then decode forward)."""
        index = min(max(index, 0), max(self.frame_count - 1, 0))
        time_base = self._stream.time_base or Fraction(1, 90000)
        target = int((index / self.fps) / time_base) + (self._stream.start_time or 0)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        self.position = -1
        while True:
            try:
                frame = next(self._frames)
            except (StopIteration, av.error.EOFError):
                return None
            self.position = self._index_of(frame)
            if self.position >= index:
                return frame.to_ndarray(format="rgb24")

    def close(self) -> None:
        self._container.close()


class PlayerWidget(QWidget):
    """A picture, a play/pause button, a seek slider, an ``m:ss / m:ss`` clock and a full-screen toggle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decoder: VideoDecoder | None = None
        self.picture = QLabel("No video")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(320, 240)
        self.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture.setStyleSheet("background: black; color: #aaa;")
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        # A drag seeks once, on release; a click on the track or a key seeks at once.
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value()))
        self.slider.valueChanged.connect(self._on_slider_value)
        self.counter = QLabel("0:00 / 0:00")
        self.full_screen_button = QPushButton("Full screen")
        self.full_screen_button.setToolTip("Full screen (F); Esc leaves it")
        self.full_screen_button.clicked.connect(self.toggle_full_screen)
        # Room for the longer label, so the button does not change width (or clip) when it toggles.
        self.full_screen_button.setMinimumWidth(self.fontMetrics().horizontalAdvance("Exit full screen") + 24)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.advance)
        self._image: QImage | None = None

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.counter)
        controls.addWidget(self.full_screen_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addLayout(controls)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def frame_index(self) -> int:
        return self.decoder.position if self.decoder else -1

    def open(self, path: Path, autoplay: bool = True) -> None:
        """Load ``path`` and show its first frame (then play, unless ``autoplay`` is off)."""
        self.close_video()
        self.decoder = VideoDecoder(path)
        self.slider.setRange(0, max(self.decoder.frame_count - 1, 0))
        self.timer.setInterval(max(int(1000 / self.decoder.fps), 1))
        self._show(self.decoder.next_frame())
        if autoplay:
            self.play()

    def play(self) -> None:
        if self.decoder is None:
            return
        if self.decoder.position >= self.decoder.frame_count - 1:
            self._show(self.decoder.seek(0))
        self.timer.start()
        self.play_button.setText("Pause")

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def advance(self) -> None:
        """Show the next frame; stop at the end."""
        if self.decoder is None:
            return
        frame = self.decoder.next_frame()
        if frame is None:
            self.pause()
            return
        self._show(frame)

    def _on_slider_value(self, value: int) -> None:
        if not self.slider.isSliderDown():
            self.seek(value)

    def seek(self, index: int) -> None:
        if self.decoder is not None:
            self._show(self.decoder.seek(index))

    def _show(self, frame: np.ndarray | None) -> None:
        if frame is None or self.decoder is None:
            return
        self._image = frame_image(frame)
        self._scale()
        self.slider.blockSignals(True)
        self.slider.setValue(self.decoder.position)
        self.slider.blockSignals(False)
        # Time at the end of the frame shown, so the last frame reads as the whole length.
        shown = (self.decoder.position + 1) / self.decoder.fps
        self.counter.setText(f"{clock(shown)} / {clock(self.decoder.frame_count / self.decoder.fps)}")

    def _scale(self) -> None:
        if self._image is not None:
            pixmap = QPixmap.fromImage(self._image)
            size = self.picture.size()
            self.picture.setPixmap(pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._scale()

    def toggle_full_screen(self) -> None:
        """The player's window fills the screen, or leaves full screen."""
        window = self.window()
        if window.isFullScreen():
            window.showNormal()
        else:
            window.showFullScreen()
        self.full_screen_button.setText("Exit full screen" if window.isFullScreen() else "Full screen")

    def close_video(self) -> None:
        self.pause()
        if self.decoder is not None:
            self.decoder.close()
            self.decoder = None


class PlayerWindow(QDialog):
    """A window that plays one video; opened by double-clicking a gallery item.

    Keys: F toggles full screen, Esc leaves it (and closes the window when not full screen), Space plays or pauses.
    """

    def __init__(self, path: Path, title: str, parent: QWidget | None = None, autoplay: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(800, 560)
        self.player = PlayerWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.player)
        self.player.open(path, autoplay=autoplay)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_F:
            self.player.toggle_full_screen()
        elif key == Qt.Key.Key_Escape and self.isFullScreen():
            self.player.toggle_full_screen()
        elif key == Qt.Key.Key_Space:
            self.player.toggle()
        else:
            super().keyPressEvent(event)

    def done(self, result: int) -> None:
        self.player.close_video()
        super().done(result)
