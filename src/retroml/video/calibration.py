"""What a render costs on this machine, measured: every finished render refines the estimate of the next.

A fixed frames-per-second constant was 10–40× off (process start-up, model loading, a busy or a fast
machine). Each render records, per layout and resolution, the wall seconds one worker spent per
pane-frame (start-up included) and the bytes per second of video it wrote, in
``<home>/calibration.json`` (training's measured speed lives in the same file:
:mod:`retroml.runs.train_estimate`); estimates use the measurement once there is one, blended with later
ones so a single odd render does not swing them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
NEW_WEIGHT = 0.5  # the latest measurement's share in the blended one (renders and training legs)


@dataclass(frozen=True)
class RenderCost:
    """The measured cost of a layout at a resolution on this machine.

    :param worker_seconds_per_frame: wall seconds × workers per rendered pane-frame, start-up included.
    :param bytes_per_second: bytes of MP4 per second of video.
    :param renders: how many renders the measurement blends.
    """

    worker_seconds_per_frame: float
    bytes_per_second: float
    renders: int = 1


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


def render_cost(home: Path, layout: str, resolution: str, workers: int) -> RenderCost | None:
    """The measured cost of ``layout`` at ``resolution`` with ``workers``, or ``None`` before the first such render."""
    entry = read_entry(home, _key(layout, resolution, workers))
    try:
        return RenderCost(**entry) if isinstance(entry, dict) else None
    except TypeError:
        return None


def blend(latest: float, before: float) -> float:
    """A measured quantity with the latest measurement weighted in (:data:`NEW_WEIGHT`)."""
    return NEW_WEIGHT * latest + (1 - NEW_WEIGHT) * before


def record_render(
    home: Path,
    layout: str,
    resolution: str,
    pane_frames: int,
    workers: int,
    wall_seconds: float,
    video_seconds: float,
    size_bytes: int,
) -> RenderCost | None:
    """Blend a finished render into the measurement; a failure to write is logged, never raised."""
    if pane_frames <= 0 or video_seconds <= 0 or wall_seconds <= 0:
        return None
    measured = RenderCost(wall_seconds * max(1, workers) / pane_frames, size_bytes / video_seconds)
    before = render_cost(home, layout, resolution, workers)
    if before is not None:
        measured = RenderCost(
            blend(measured.worker_seconds_per_frame, before.worker_seconds_per_frame),
            blend(measured.bytes_per_second, before.bytes_per_second),
            before.renders + 1,
        )
    write_entry(home, _key(layout, resolution, workers), asdict(measured), "the render's measured speed")
    return measured
