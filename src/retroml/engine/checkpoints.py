"""Checkpoints: plain SB3 ``.zip`` files, written atomically.

A checkpoint is first serialised in memory, written to a hidden temporary file, flushed to disk and
renamed over its final name. A process killed (even with SIGKILL) in the middle of a save leaves the
previous file untouched, and a stock ``stable_baselines3.PPO.load()`` reads every file we keep.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from stable_baselines3.common.base_class import BaseAlgorithm

MILESTONE_PATTERN = re.compile(r"^milestone_(\d+)pct_(\d+)\.zip$")
ROLLING_PATTERN = re.compile(r"^rolling_(\d+)\.zip$")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint file found in a run's ``checkpoints/`` folder.

    :param path: the ``.zip`` file.
    :param milestone_pct: the milestone it was saved at (``None`` for ``latest.zip`` and rolling files).
    :param timesteps: the absolute timesteps trained when it was saved.
    """

    path: Path
    milestone_pct: int | None
    timesteps: int


def milestone_name(milestone_pct: int, timesteps: int) -> str:
    return f"milestone_{milestone_pct}pct_{timesteps}.zip"


def save_atomic(model: BaseAlgorithm, path: Path) -> int:
    """Save ``model`` to ``path`` so that the file is always either the old one or the new one.

    Returns the size in bytes.
    """
    buffer = io.BytesIO()
    model.save(buffer)
    data = buffer.getvalue()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return len(data)


def save_rolling(model: BaseAlgorithm, folder: Path, keep_last: int) -> Path:
    """Refresh ``latest.zip``; keep the ``keep_last`` previous ones as ``rolling_<timesteps>.zip``."""
    latest = folder / "latest.zip"
    if keep_last > 0 and latest.exists():
        previous_steps = _timesteps_in(latest)
        keep = folder / f"rolling_{previous_steps}.zip"
        if not keep.exists():
            # A hard link costs no copy; the rename below then gives latest.zip a new inode.
            os.link(latest, keep)
    save_atomic(model, latest)
    rolling = sorted(
        (path for path in folder.glob("rolling_*.zip") if ROLLING_PATTERN.match(path.name)),
        key=lambda path: int(ROLLING_PATTERN.match(path.name).group(1)),  # type: ignore[union-attr]
    )
    for old in rolling[: max(len(rolling) - keep_last, 0)]:
        old.unlink(missing_ok=True)
    return latest


def _timesteps_in(path: Path) -> int:
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    return int(data.get("num_timesteps", 0))


def list_milestones(folder: Path) -> list[Checkpoint]:
    """The milestone checkpoints of a run, in training order (timesteps, then milestone %)."""
    found = []
    for path in folder.glob("milestone_*pct_*.zip"):
        match = MILESTONE_PATTERN.match(path.name)
        if match:
            found.append(Checkpoint(path, int(match.group(1)), int(match.group(2))))
    return sorted(found, key=lambda checkpoint: (checkpoint.timesteps, checkpoint.milestone_pct or 0))


def find_milestone(folder: Path, milestone_pct: int) -> Checkpoint | None:
    """The most recent checkpoint saved at ``milestone_pct`` (the latest leg's, if several)."""
    matches = [checkpoint for checkpoint in list_milestones(folder) if checkpoint.milestone_pct == milestone_pct]
    return matches[-1] if matches else None


def latest_timesteps(path: Path) -> int:
    """The timesteps stored inside a checkpoint (reads only its small ``data`` member)."""
    return _timesteps_in(path)
