"""What renders and training cost on this machine, measured: every finished one refines the estimate of the next.

A fixed frames-per-second constant was 10–40× off (process start-up, model loading, a busy or a fast
machine). Each render records, per layout and resolution, the seconds one worker spent per
pane-frame, the set-up of a segment, the fixed rest of its wall time (workers' start-up, join,
poster) and the bytes per second of video it wrote; each training leg its
speed (:mod:`retroml.runs.train_estimate`). Both live in ``<home>/calibration.json``; estimates use
the measurement once there is one, blended with later ones so a single odd render or leg does not
swing them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
NEW_WEIGHT = 0.5  # the latest measurement's share in the blended one (renders and training legs)

# A measurement: a frozen dataclass of measured numbers, the count of what it blends last.
Measurement = TypeVar("Measurement", bound="DataclassInstance")


@dataclass(frozen=True)
class RenderCost:
    """The measured cost of a layout at a resolution on this machine.

    A render's wall time is its fixed part plus the time its workers take over the segments, each
    segment handed to the first free worker in order (:meth:`segments_seconds`).

    :param worker_seconds_per_frame: seconds one worker spends per rendered pane-frame, once its segment is set up.
    :param bytes_per_second: bytes of MP4 per second of video.
    :param start_seconds: wall seconds of a render that do not grow with its length: the workers' start-up
        (a fresh worker's first segment sets up far slower than its next ones), the join and the poster.
    :param segment_seconds: the set-up of a segment on a worker that already rendered one: its
        checkpoint, emulators and encoder. A longer journey has more segments, so this grows with it.
    :param renders: how many renders the measurement blends.
    """

    worker_seconds_per_frame: float
    bytes_per_second: float
    start_seconds: float = 0.0
    segment_seconds: float = 0.0
    renders: int = 1

    def segments_seconds(self, segment_frames: Sequence[int], workers: int) -> float:
        """Wall seconds ``workers`` take over segments of ``segment_frames`` pane-frames, handed out in order."""
        free = [0.0] * max(1, workers)
        for frames in segment_frames:
            first_free = free.index(min(free))
            free[first_free] += self.segment_seconds + frames * self.worker_seconds_per_frame
        return max(free)

    def render_seconds(self, segment_frames: Sequence[int], workers: int) -> float:
        """The expected wall time of a render of these segments with ``workers``."""
        return self.start_seconds + self.segments_seconds(segment_frames, workers)


def _key(layout: str, resolution: str, workers: int) -> str:
    # One worker renders in the asking process (torch already loaded); more start a pool of fresh
    # processes, whose start-up is part of the cost: two measurements.
    return f"render:{layout}:{resolution}:{'pool' if workers > 1 else 'inline'}"


def _read(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CALIBRATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_entry(home: Path, key: str) -> dict[str, Any] | None:
    """One measurement of ``<home>/calibration.json`` (renders here, training in ``runs.train_estimate``)."""
    entry = _read(home).get(key)
    return entry if isinstance(entry, dict) else None


def read_entries(home: Path, prefix: str) -> dict[str, dict[str, Any]]:
    """Every measurement whose key starts with ``prefix``, by key."""
    return {key: entry for key, entry in _read(home).items() if key.startswith(prefix) and isinstance(entry, dict)}


def write_entry(home: Path, key: str, entry: dict[str, Any], what: str) -> None:
    """Replace one measurement atomically; a failure to write is logged (``what`` names it), never raised."""
    data = _read(home)
    data[key] = entry
    path = home / CALIBRATION_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        logger.warning("could not record %s in %s: %s", what, path, error)


def read_measurement(home: Path, key: str, kind: type[Measurement]) -> Measurement | None:
    """The measurement under ``key`` as a ``kind``, or ``None`` before the first one (or if it does not fit)."""
    entry = read_entry(home, key)
    try:
        return kind(**entry) if entry else None
    except TypeError:
        return None


def blend(latest: float, before: float) -> float:
    """A measured quantity with the latest measurement weighted in (:data:`NEW_WEIGHT`)."""
    return NEW_WEIGHT * latest + (1 - NEW_WEIGHT) * before


def record_measurement(home: Path, key: str, measured: Measurement, what: str) -> Measurement:
    """Blend ``measured`` into the measurement under ``key`` and write it; returns the blended one.

    Each number is blended (:func:`blend`) and the count, the last field, goes up by one. A failure to
    write is logged (``what`` names it), never raised.
    """
    before = read_measurement(home, key, type(measured))
    if before is not None:
        *numbers, count = (field.name for field in fields(measured))
        blended = {name: blend(getattr(measured, name), getattr(before, name)) for name in numbers}
        measured = replace(measured, **blended, **{count: getattr(before, count) + 1})
    write_entry(home, key, asdict(measured), what)
    return measured


def render_cost(home: Path, layout: str, resolution: str, workers: int) -> RenderCost | None:
    """The measured cost of ``layout`` at ``resolution`` with ``workers``, or ``None`` before the first such render."""
    return read_measurement(home, _key(layout, resolution, workers), RenderCost)


def record_render(
    home: Path,
    layout: str,
    resolution: str,
    segment_frames: Sequence[int],
    workers: int,
    wall_seconds: float,
    video_seconds: float,
    size_bytes: int,
    frame_seconds: float | None = None,
    warm_setups: Sequence[float] = (),
) -> RenderCost | None:
    """Blend a finished render into the measurement; a failure to write is logged, never raised.

    :param segment_frames: the pane-frames of each segment, in the order they were handed out.
    :param frame_seconds: the worker time the segments spent on frames (after their set-up), summed: the
        part of a render that grows with its length. Without it the whole wall time counts as per-frame work.
    :param warm_setups: the set-up seconds of the segments that were not their worker's first; without any
        (no worker rendered two), the set-up measured before is kept.
    The rest of the wall time, beyond what the workers took over the segments, is the render's fixed part.
    """
    pane_frames = sum(segment_frames)
    if pane_frames <= 0 or video_seconds <= 0 or wall_seconds <= 0:
        return None
    workers = max(1, workers)
    key = _key(layout, resolution, workers)
    if frame_seconds is None or frame_seconds <= 0:
        frame_seconds = wall_seconds * workers
    if warm_setups:
        segment_seconds = sum(warm_setups) / len(warm_setups)
    else:
        before = read_measurement(home, key, RenderCost)
        segment_seconds = before.segment_seconds if before is not None else 0.0
    measured = RenderCost(frame_seconds / pane_frames, size_bytes / video_seconds, segment_seconds=segment_seconds)
    start = max(wall_seconds - measured.segments_seconds(segment_frames, workers), 0.0)
    measured = replace(measured, start_seconds=start)
    return record_measurement(home, key, measured, "the render's measured speed")
