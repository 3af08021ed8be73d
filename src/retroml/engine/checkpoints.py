"""Checkpoints: plain SB3 ``.zip`` files, written atomically.

A checkpoint is first serialised in memory, written to a hidden temporary file, flushed to disk and
renamed over its final name. A process killed (even with SIGKILL) in the middle of a save, or a save
that finds the disk full, leaves the previous file untouched, and a stock
``stable_baselines3.PPO.load()`` reads every file we keep.

A file damaged afterwards (a copy cut short, a bad sector) is found by :func:`checkpoint_damage`,
the one check that continue, branch and the renderers use before they load a checkpoint.
"""

from __future__ import annotations

import io
import logging
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # A type only: the faces that list runs read this module and must not wait for torch and SB3 to load.
    from stable_baselines3.common.base_class import BaseAlgorithm

logger = logging.getLogger(__name__)

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
    except OSError as error:
        # Named after the checkpoint, not its hidden temporary file: that is the file a person looks for.
        raise OSError(error.errno, error.strerror, str(path)) from error
    finally:
        temporary.unlink(missing_ok=True)
    return len(data)


def save_rolling(model: BaseAlgorithm, folder: Path, keep_last: int) -> Path:
    """Refresh ``latest.zip``; keep the ``keep_last`` previous ones as ``rolling_<timesteps>.zip``."""
    latest = folder / "latest.zip"
    if keep_last > 0 and latest.exists():
        try:
            previous_steps = _timesteps_in(latest)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            # A damaged latest.zip (the leg may have started from a milestone because of it) is not kept.
            logger.warning("%s is damaged (%s); it is replaced, not kept as a rolling checkpoint", latest, error)
            previous_steps = None
        keep = None if previous_steps is None else folder / f"rolling_{previous_steps}.zip"
        if keep is not None and not keep.exists():
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


# (path, inode, size, mtime) -> why it does not load: a file is checked once, not on every read.
_damage_seen: dict[tuple[str, int, int, int], str | None] = {}


def checkpoint_damage(path: Path) -> str | None:
    """Why ``path`` does not load as an SB3 checkpoint, in a few words; ``None`` if it loads.

    The zip's members must pass their CRC checks, hold ``data`` and ``policy.pth``, and load with
    SB3's own reader (JSON data, tensors), on the CPU. Answers are remembered per file version.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "the file is missing"
    except OSError as error:
        return f"it cannot be read: {error.strerror or error}"
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _damage_seen:
        _damage_seen[key] = _damage(path, stat.st_size)
    return _damage_seen[key]


def _damage(path: Path, size: int) -> str | None:
    if size == 0:
        return "it is empty"
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return "not a zip file, or cut short"
    except (OSError, EOFError, zlib.error, ValueError) as error:
        return f"it cannot be read: {error}"
    if bad_member is not None:
        return f"its member {bad_member} fails its checksum"
    missing = [member for member in ("data", "policy.pth") if member not in names]
    if missing:
        return f"it has no {' or '.join(missing)}"
    from stable_baselines3.common.save_util import load_from_zip_file

    try:
        load_from_zip_file(path, device="cpu")
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"Stable-Baselines3 cannot load it: {first_line[:200]}"
    return None


def newest_loadable(folder: Path) -> Checkpoint | None:
    """The checkpoint with the most timesteps that loads, among the rolling and milestone files.

    What ``continue`` starts from when ``latest.zip`` is damaged; files that do not load are logged.
    """
    found = list_milestones(folder)
    for path in folder.glob("rolling_*.zip"):
        match = ROLLING_PATTERN.match(path.name)
        if match:
            found.append(Checkpoint(path, None, int(match.group(1))))
    for checkpoint in sorted(found, key=lambda checkpoint: checkpoint.timesteps, reverse=True):
        damage = checkpoint_damage(checkpoint.path)
        if damage is None:
            return checkpoint
        logger.warning("%s is damaged (%s); skipped", checkpoint.path.name, damage)
    return None
