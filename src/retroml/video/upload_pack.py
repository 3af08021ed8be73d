"""The upload pack beside a journey: chapters, a thumbnail and a description, ready for a video site.

Chapters follow YouTube's description rules (the first at 00:00, each at least 10 s long): one per
milestone segment, neighbours merged where a segment is shorter than that. The same chapters go
inside the MP4 (players list them) and into a WebVTT file (the web player's chapter track). The
thumbnail is 1280×720 — YouTube's recommended size — with the game, an early and a late frame and
the training curve; the description states the run's facts.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from retroml.formatting import duration_text
from retroml.video.analytics import PANEL, draw_curve
from retroml.video.encoder import frame_at
from retroml.video.frames import MilestoneLabel
from retroml.video.hud import ACCENT, BACKGROUND, MUTED, TEXT, fitted_text, paste, text_image
from retroml.video.segment import SegmentSpec

MIN_CHAPTER_SECONDS = 10.0  # YouTube ignores chapters shorter than this
THUMBNAIL_SIZE = THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT = 1280, 720
CHAPTER_TIME_BASE = Fraction(1, 1000)


@dataclass(frozen=True)
class Chapter:
    """A stretch of the video, in seconds from its start, and the title a viewer reads."""

    start: float
    end: float
    title: str

    def as_av(self, number: int) -> dict[str, Any]:
        """The chapter as PyAV's ``Container.set_chapters`` takes it."""
        return {
            "id": number,
            "start": round(self.start / CHAPTER_TIME_BASE),
            "end": round(self.end / CHAPTER_TIME_BASE),
            "time_base": CHAPTER_TIME_BASE,
            "metadata": {"title": self.title},
        }


@dataclass(frozen=True)
class PackFiles:
    """Where the pack of a video lies: all beside the MP4, named after it."""

    chapters: Path
    webvtt: Path
    thumbnail: Path
    description: Path

    @classmethod
    def beside(cls, video: Path) -> PackFiles:
        stem = video.with_suffix("")
        return cls(
            chapters=stem.with_name(f"{stem.name}.chapters.txt"),
            webvtt=stem.with_name(f"{stem.name}.chapters.vtt"),
            thumbnail=stem.with_name(f"{stem.name}.thumbnail.jpg"),
            description=stem.with_name(f"{stem.name}.description.txt"),
        )

    def relative_to(self, home: Path) -> dict[str, str]:
        """The pack's paths under the data home, as a video's ``meta`` records them."""
        return {
            "chapters": str(self.chapters.relative_to(home)),
            "webvtt": str(self.webvtt.relative_to(home)),
            "thumbnail": str(self.thumbnail.relative_to(home)),
            "description": str(self.description.relative_to(home)),
        }


def segment_title(labels: Sequence[MilestoneLabel]) -> str:
    """``untrained``, ``10 % — 200,000 steps`` or, for several milestones, ``1 % to 5 % — 10,000 steps``."""
    first, last = labels[0], labels[-1]
    span = last.pct_text if first.pct_text == last.pct_text else f"{first.pct_text} to {last.pct_text}"
    return span if last.untrained else f"{span} — {last.timesteps:,} steps"


def chapters(segments: Sequence[SegmentSpec]) -> list[Chapter]:
    """One chapter per segment, merged forward until each lasts at least :data:`MIN_CHAPTER_SECONDS`.

    A chapter starts where its first segment starts (its title card); the last chapter absorbs a
    too-short tail. A video shorter than 10 s has one chapter.
    """
    starts, labels, start = [], [], 0
    for segment in segments:
        starts.append(start / segment.fps)
        labels.append([pane.label for pane in segment.panes])
        start += segment.frames
    end = start / segments[0].fps if segments else 0.0
    groups: list[tuple[float, list[MilestoneLabel]]] = []
    for begin, shown in zip(starts, labels, strict=True):
        too_soon = groups and begin - groups[-1][0] < MIN_CHAPTER_SECONDS
        if too_soon or (groups and end - begin < MIN_CHAPTER_SECONDS):
            groups[-1][1].extend(shown)
        else:
            groups.append((begin, list(shown)))
    bounds = [begin for begin, _ in groups[1:]] + [end]
    return [Chapter(begin, stop, segment_title(shown)) for (begin, shown), stop in zip(groups, bounds, strict=True)]


def timestamp(seconds: float) -> str:
    """``03:05`` or ``1:02:07``: how a description writes a chapter's start."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def youtube_chapters(marks: Sequence[Chapter]) -> str:
    """The lines a video site reads as chapters from a description."""
    return "".join(f"{timestamp(chapter.start)} {chapter.title}\n" for chapter in marks)


def webvtt_chapters(marks: Sequence[Chapter]) -> str:
    """A WebVTT chapters track (``<track kind="chapters">``)."""

    def cue_time(seconds: float) -> str:
        millis = round(seconds * 1000)
        hours, rest = divmod(millis, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"

    cues = [
        f"{number}\n{cue_time(chapter.start)} --> {cue_time(chapter.end)}\n{chapter.title}\n"
        for number, chapter in enumerate(marks, start=1)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def machine_text(device: str | None) -> str:
    """``AMD EPYC 7B13, 2 cores`` (+ the training device when it was a GPU): the hardware line."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    text = f"{model}, {os.cpu_count() or 1} cores"
    return f"{text}, trained on {device}" if device and device.startswith("cuda") else text


def description(
    facts: Mapping[str, Any], labels: Sequence[MilestoneLabel], marks: Sequence[Chapter], seconds: float
) -> str:
    """The video's description: what was trained, on what, the score at each milestone and the chapters.

    :param facts: ``game_title``, ``algo``, ``timesteps``, ``n_envs``, ``training_seconds`` and
        ``device`` of the run.
    """
    lines = [
        f"An AI learns to play {facts['game_title']}: {facts['algo'].upper()} from untrained to "
        f"{facts['timesteps']:,} steps of training, in {duration_text(seconds)}.",
        "",
        f"Game: {facts['game_title']} (Atari 2600, Arcade Learning Environment)",
        f"Algorithm: {facts['algo'].upper()} (Stable-Baselines3), {facts['n_envs']} environments in parallel",
        f"Training: {facts['timesteps']:,} steps in {duration_text(facts['training_seconds'])}",
        f"Hardware: {machine_text(facts.get('device'))}",
        "",
        "Mean score of the training episodes at each milestone:",
    ]
    for label in labels:
        score = "no episode finished yet" if label.training_score_mean is None else f"{label.training_score_mean:,.1f}"
        lines.append(f"  {label.pct_text} ({label.timesteps:,} steps): {score}")
    lines += ["", "Chapters:", youtube_chapters(marks).rstrip("\n"), "", "Made with RetroML."]
    return "\n".join(lines) + "\n"


def thumbnail(
    video: Path,
    title: str,
    subtitle: str,
    shots: Sequence[tuple[float, str]],
    curve: Sequence[tuple[int, float]],
    now: int,
) -> np.ndarray:
    """A 1280×720 picture: the title, frames of ``video`` at the ``shots``' seconds side by side, the curve.

    :param shots: ``(seconds into the video, caption)``, typically an early and a late moment of play.
    """
    canvas = np.full((THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH, 3), BACKGROUND, dtype=np.uint8)
    heading = fitted_text(title, 64, THUMBNAIL_WIDTH - 80, TEXT, BACKGROUND)
    paste(canvas, heading, (THUMBNAIL_WIDTH - heading.shape[1]) // 2, 18)
    sub = fitted_text(subtitle, 28, THUMBNAIL_WIDTH - 80, ACCENT, BACKGROUND)
    paste(canvas, sub, (THUMBNAIL_WIDTH - sub.shape[1]) // 2, 30 + heading.shape[0])
    top, box_height, gap = 150, 400, 40
    box_width = (THUMBNAIL_WIDTH - gap * (len(shots) + 1)) // max(1, len(shots))
    for index, (seconds, caption) in enumerate(shots):
        image = np.asarray(frame_at(video, seconds).convert("RGB"))
        scale = min(box_width / image.shape[1], (box_height - 44) / image.shape[0])
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        picture = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        x = gap + index * (box_width + gap) + (box_width - size[0]) // 2
        paste(canvas, picture, x, top)
        cv2.rectangle(canvas, (x - 2, top - 2), (x + size[0] + 1, top + size[1] + 1), ACCENT, thickness=2)
        label = fitted_text(caption, 30, box_width, TEXT, BACKGROUND)
        paste(canvas, label, gap + index * (box_width + gap) + (box_width - label.shape[1]) // 2, top + size[1] + 8)
    curve_box = (gap, top + box_height + 10, THUMBNAIL_WIDTH - 2 * gap, THUMBNAIL_HEIGHT - top - box_height - 20)
    draw_curve(canvas, curve_box, curve, now)
    paste(canvas, text_image("mean training score", 14, MUTED, PANEL), gap + 64, curve_box[1] + 6)
    return canvas


def write_pack(
    video: Path,
    segments: Sequence[SegmentSpec],
    facts: Mapping[str, Any],
    curve: Sequence[tuple[int, float]],
) -> PackFiles:
    """Write the chapters (text and WebVTT), the thumbnail and the description of ``video``."""
    files = PackFiles.beside(video)
    marks = chapters(segments)
    labels = [pane.label for segment in segments for pane in segment.panes]
    seconds = sum(segment.frames for segment in segments) / segments[0].fps
    _write_text(files.chapters, youtube_chapters(marks))
    _write_text(files.webvtt, webvtt_chapters(marks))
    _write_text(files.description, description(facts, labels, marks, seconds))
    shots = [_play_moment(segments, 0), _play_moment(segments, len(segments) - 1)]
    picture = thumbnail(
        video,
        f"AI learns {facts['game_title']}",
        f"{facts['algo'].upper()} · {facts['timesteps']:,} steps of training",
        [(at, label.trained_text.capitalize()) for at, label in shots],
        curve,
        int(facts["timesteps"]),
    )
    temporary = files.thumbnail.with_name(f".{files.thumbnail.name}.tmp")
    Image.fromarray(picture).save(temporary, format="JPEG", quality=90)
    os.replace(temporary, files.thumbnail)
    return files


def _play_moment(segments: Sequence[SegmentSpec], index: int) -> tuple[float, MilestoneLabel]:
    """The middle of the play of segment ``index`` (after its title card), and what it shows."""
    start = sum(segment.frames for segment in segments[:index])
    segment = segments[index]
    middle = start + segment.title_frames + segment.play_frames // 2
    return middle / segment.fps, segment.panes[-1].label


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
