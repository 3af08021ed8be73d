"""Where RetroML keeps its files: the data home and the layout of a run folder.

Every face (CLI, web, desktop) resolves the same home, so a run or video made in one shows in all.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from retroml.errors import NotFoundError

HOME_ENV_VAR = "RETROML_HOME"
DEFAULT_HOME = "outputs"
# What RetroML writes is its owner's alone: the database (whose URL may carry a password), checkpoints,
# logs and videos of a run are no other local user's business.
PRIVATE_UMASK = 0o077


def resolve_home(home: str | Path | None = None) -> Path:
    """The data home: ``home`` if given, else ``$RETROML_HOME``, else ``./outputs``; created if missing.

    Every RetroML process (a face, a trainer, a render) resolves its home here before it writes
    anything, so this is where it takes the owner-only umask: a home created here is 0700, the
    database 0600, run folders 0700 and run files 0600. A looser home the user made stays as it is.
    """
    chosen = home or os.environ.get(HOME_ENV_VAR) or DEFAULT_HOME
    path = Path(chosen).expanduser().resolve()
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    (path / "runs").mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def inside(root: Path, relative: str | Path) -> Path:
    """Resolve ``relative`` under ``root``, refusing anything (``..``, absolute paths, symlinks) that leaves it."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise NotFoundError(f"'{relative}' is not a file of this RetroML home.")
    return candidate


def open_in_home(home: Path, path: Path, mode: Literal["rb", "ab"] = "rb") -> BinaryIO:
    """Open a regular file of ``home`` to read (``rb``) or append (``ab``, created 0600), never through a link.

    The folder holding ``path`` must resolve inside ``home``, and ``path`` itself must not be a
    symbolic link: ``O_NOFOLLOW`` makes the kernel refuse one, even one planted after any check.
    A FIFO or device is refused too (``O_NONBLOCK``, so opening one cannot hang the caller).
    A missing file raises :class:`FileNotFoundError`; a refused one :class:`NotFoundError`.
    """
    folder = path.parent.resolve()
    root = home.resolve()
    if folder != root and root not in folder.parents:
        raise NotFoundError(f"'{path}' is not a file of this RetroML home.")
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    flags |= os.O_RDONLY if mode == "rb" else os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        descriptor = os.open(folder / path.name, flags, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            link = f"'{path.name}' of {folder.name}"
            raise NotFoundError(f"{link} is a symbolic link; RetroML does not follow links out of a run.") from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise NotFoundError(f"'{path.name}' of {folder.name} is not a regular file.")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, mode)


@dataclass(frozen=True)
class RunPaths:
    """The folder of one run and the files in it (see docs/architecture.md)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def log(self) -> Path:
        return self.root / "train.log"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def clips(self) -> Path:
        return self.root / "clips"

    @property
    def videos(self) -> Path:
        return self.root / "videos"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tb"

    @property
    def latest_checkpoint(self) -> Path:
        return self.checkpoints / "latest.zip"

    def make(self) -> None:
        for folder in (self.root, self.checkpoints, self.videos, self.tensorboard):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def run_paths(home: Path, run_id: str) -> RunPaths:
    """The folder of ``run_id`` under ``home``; a run id can never point outside ``home/runs``."""
    return RunPaths(inside(home / "runs", run_id))
