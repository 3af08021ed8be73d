"""H.264 MP4 files through PyAV (its wheel carries libx264: no system ffmpeg, no moviepy).

Three jobs: encode RGB frames at a constant frame rate (:class:`VideoEncoder`), join segment files
into one MP4 without re-encoding, optionally with a music track looped or cut to length
(:func:`join_segments`), and read back what a file holds (:func:`probe`, :func:`save_poster`).
Finished files carry ``+faststart`` (the index before the data) so a browser can seek at once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

from retroml.config import RenderConfig
from retroml.video.i420 import split_planes

FASTSTART = {"movflags": "+faststart"}


class VideoEncoder:
    """Encode RGB frames (``height × width × 3`` uint8) into an H.264 MP4, yuv420p, constant frame rate.

    :param path: the file to write.
    :param width: frame width (even).
    :param height: frame height (even).
    :param fps: frames per second.
    :param crf: x264 constant rate factor (quality).
    :param preset: x264 speed preset.
    :param threads: x264 threads (0 = as many as it likes).
    :param faststart: move the index to the front (for files a browser plays directly).
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: int = 30,
        crf: int = 23,
        preset: str = RenderConfig().preset,
        threads: int = 0,
        faststart: bool = True,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs an even frame size, not {width}×{height}")
        self.path = path
        self.width = width
        self.height = height
        self.frames = 0
        self._container = av.open(str(path), mode="w", format="mp4", options=FASTSTART if faststart else {})
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"crf": str(crf), "preset": preset}
        stream.codec_context.thread_count = threads
        self._stream = stream
        # One frame reused for every picture: a new one per frame cost a fresh 1.4 MB buffer at 1280×720
        # (its page faults were most of the 0.37 ms ``from_ndarray`` took). x264 copies each picture in
        # before ``encode`` returns, so overwriting the planes afterwards cannot reach a written frame.
        self._frame = av.VideoFrame(width, height, "yuv420p")
        self._planes = [
            np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
            for plane in self._frame.planes
        ]

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame."""
        # OpenCV's RGB→I420 conversion is several times faster than libswscale's for these sizes.
        self.write_i420(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8))

    def write_i420(self, planes: np.ndarray) -> None:
        """Append one frame already in I420 (``height * 3 / 2 × width``, as OpenCV and :mod:`.i420` lay it out)."""
        for target, source in zip(self._planes, split_planes(planes, self.width, self.height), strict=True):
            target[:] = source
        frame = self._frame
        frame.pts = self.frames
        self.frames += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        """Stop without finishing; the partial file is removed."""
        with contextlib.suppress(Exception):
            self._container.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class VideoInfo:
    """What an MP4 holds, read back with PyAV."""

    codec: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    audio_codec: str | None
    size_bytes: int


def probe(path: Path, count_frames: bool = True) -> VideoInfo:
    """Codec, size, frame rate, frame count (packets counted, nothing decoded) and duration of ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.base_rate or 0)
        frames = stream.frames
        if count_frames or not frames:
            frames = sum(1 for packet in container.demux(stream) if packet.size)
        duration = frames / fps if fps else 0.0
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return VideoInfo(
            stream.codec_context.name, stream.width, stream.height, fps, frames, duration, audio, path.stat().st_size
        )


def frame_at(video: Path, seconds: float) -> Image.Image:
    """The frame of ``video`` shown at ``seconds`` from its start (the last one past its end)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        if seconds > 0 and stream.time_base is not None:
            container.seek(int(seconds / stream.time_base), stream=stream)
        image = None
        for frame in container.decode(stream):
            image = frame.to_image()
            if frame.time is None or frame.time >= seconds:
                break
    if image is None:
        raise ValueError(f"{video.name} has no frame")
    return image


def save_poster(
    video: Path, poster: Path, at_fraction: float = 0.5, width: int = 640, at_seconds: float | None = None
) -> Path:
    """Write a JPEG of the frame at ``at_seconds`` or ``at_fraction`` of ``video`` (scaled to ``width``)."""
    if at_seconds is None:
        with av.open(str(video)) as container:
            at_seconds = at_fraction * float(container.duration or 0) / av.time_base
    image = frame_at(video, at_seconds)
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    temporary = poster.with_name(f".{poster.name}.tmp")
    image.save(temporary, format="JPEG", quality=85)
    os.replace(temporary, poster)
    return poster


def join_segments(
    parts: Sequence[Path],
    output: Path,
    music: Path | None = None,
    chapters: Sequence[Mapping[str, Any]] = (),
) -> VideoInfo:
    """Concatenate H.264 segment files (same size, rate and encoder settings) without re-encoding.

    Packets are copied and their timestamps shifted by the length of the segments before them; with
    ``music``, an AAC track is encoded alongside, looped or cut to the video's length. ``chapters``
    (as PyAV's ``set_chapters`` takes them) are written into the file's index.
    """
    if not parts:
        raise ValueError("there are no segments to join")
    with av.open(str(parts[0])) as first:
        template = first.streams.video[0]
        with av.open(str(output), mode="w", format="mp4", options=FASTSTART) as container:
            video = container.add_stream_from_template(template)
            time_base = template.time_base or Fraction(1, 30)
            audio = _MusicTrack(container, music) if music else None
            offset = 0
            for part in parts:
                offset = _copy_segment(part, container, video, offset, time_base, template.codec_context.extradata)
                if audio is not None:
                    audio.fill_until(float(offset * time_base))
            if audio is not None:
                audio.finish(float(offset * time_base))
            if chapters:
                container.set_chapters([dict(chapter) for chapter in chapters])  # type: ignore[misc]
    return probe(output)


def _copy_segment(
    part: Path,
    container: av.container.OutputContainer,
    video: av.VideoStream,
    offset: int,
    time_base: Fraction,
    extradata: bytes | None,
) -> int:
    """Mux the packets of ``part`` shifted by ``offset`` (in ``time_base``); returns the offset after it."""
    with av.open(str(part)) as source:
        stream = source.streams.video[0]
        if stream.time_base != time_base or stream.codec_context.extradata != extradata:
            raise ValueError(f"segment {part.name} was encoded with other settings and cannot be joined")
        end = offset
        for packet in source.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue  # the demuxer's empty flush packet
            duration = packet.duration or 0
            packet.pts += offset
            packet.dts += offset
            packet.stream = video
            end = max(end, packet.pts + duration)
            container.mux(packet)
    return end


class _MusicTrack:
    """An AAC track fed from a music file, looped as often as the video needs."""

    def __init__(self, container: av.container.OutputContainer, music: Path) -> None:
        if not music.is_file():
            raise FileNotFoundError(f"music file {music} does not exist")
        self.container = container
        self.music = music
        self.stream = container.add_stream("aac", rate=44100)
        self.stream.layout = "stereo"
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=44100)
        self.samples = 0
        self._source = self._frames()

    def _frames(self) -> Iterator[av.AudioFrame]:
        while True:
            produced = False
            with av.open(str(self.music)) as source:
                if not source.streams.audio:
                    raise ValueError(f"{self.music.name} has no audio track")
                for frame in source.decode(source.streams.audio[0]):
                    for resampled in self.resampler.resample(frame):
                        produced = True
                        yield resampled
            if not produced:
                raise ValueError(f"{self.music.name} has no audio to play")

    def fill_until(self, seconds: float) -> None:
        wanted = int(seconds * 44100)
        while self.samples < wanted:
            frame = next(self._source)
            keep = min(frame.samples, wanted - self.samples)
            if keep < frame.samples:
                array: np.ndarray[Any, np.dtype[np.float32]] = np.ascontiguousarray(frame.to_ndarray()[:, :keep])
                frame = av.AudioFrame.from_ndarray(array, format="fltp", layout="stereo")
                frame.sample_rate = 44100
            frame.pts = self.samples
            frame.time_base = Fraction(1, 44100)
            self.samples += frame.samples
            for packet in self.stream.encode(frame):
                self.container.mux(packet)

    def finish(self, seconds: float) -> None:
        self.fill_until(seconds)
        for packet in self.stream.encode(None):
            self.container.mux(packet)
