"""A full disk, told apart from other failures and said in one sentence, and a reserve to record it with.

Whatever hits the full disk first — a checkpoint, ``run.json``, SQLite, a video segment — raises
its own kind of error: an ``OSError`` with ``ENOSPC`` (``EDQUOT`` for a quota), PyAV's ``OSError``
subclass, or SQLite's ``SQLITE_FULL`` wrapped by SQLAlchemy. :func:`is_disk_full` recognises them
all, so the trainer and the render job end with :func:`disk_full_sentence` instead of a traceback.

Recording that failure needs a little space itself (a database page, ``run.json``): a process that
may fill the disk first puts down a :class:`DiskReserve` and frees it just before it records why
it ends.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Enough for the failure's database pages (WAL frames, an event row) and a new run.json.
RESERVE_BYTES = 2 * 1024 * 1024
RESERVE_NAME = ".disk_reserve"
# What to do, as the sentence's second half: after a failed training leg, and after a failed render.
TRAINING_FIX = "free some space, then continue the run (nothing before the last checkpoint is lost)"
RENDER_FIX = "free some space, then render again (no partial video was kept)"
# Less free space than this and a process that died without a word most likely died of it.
FULL_BELOW_BYTES = 1024 * 1024


def is_disk_full(error: BaseException | None) -> bool:
    """Whether ``error`` (or an error it was raised from) says the disk or the user's quota is full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL:
            return True
        # SQLAlchemy keeps the driver's error as ``orig``.
        original = getattr(error, "orig", None)
        if isinstance(original, BaseException) and is_disk_full(original):
            return True
        error = error.__cause__ or error.__context__
    return False


def full_path(error: BaseException, default: Path) -> Path:
    """The file the failed write was for, if the error names one; else ``default``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        filename = getattr(current, "filename", None) if isinstance(current, OSError) else None
        if filename:
            return Path(os.fsdecode(filename))
        current = current.__cause__ or current.__context__
    return default


def disk_is_full(path: Path) -> bool:
    """Whether the disk holding ``path`` has (almost) no free space left now."""
    try:
        return shutil.disk_usage(path).free < FULL_BELOW_BYTES
    except OSError:
        return False


def disk_full_sentence(path: Path, fix: str) -> str:
    """``The disk holding <path> is full: <fix>.`` — what every face shows for a full disk."""
    return f"The disk holding {path} is full: {fix}."


class DiskReserve:
    """A small file of zeros kept in a folder, deleted to get back room to record a failure.

    :param folder: where to keep it (the run folder: the same disk as its checkpoints and videos).
    :param size: bytes to keep back.
    """

    def __init__(self, folder: Path, size: int = RESERVE_BYTES) -> None:
        self.path = folder / RESERVE_NAME
        try:
            with open(self.path, "wb") as handle:
                # Zeros written, not a sparse file: only written blocks are really held back.
                handle.write(bytes(size))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            logger.warning("could not keep %d bytes in reserve in %s: %s", size, folder, error)
            self.path.unlink(missing_ok=True)

    def release(self) -> None:
        """Give the space back (before recording a failure, and when the process ends)."""
        self.path.unlink(missing_ok=True)
