"""Where RetroML keeps its files: the data home and the layout of a run folder.

Every face (CLI, web, desktop) resolves the same home, so a run or video made in one shows in all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retroml.errors import NotFoundError

HOME_ENV_VAR = "RETROML_HOME"
DEFAULT_HOME = "outputs"


def resolve_home(home: str | Path | None = None) -> Path:
    """The data home: ``home`` if given, else ``$RETROML_HOME``, else ``./outputs``; created if missing."""
    chosen = home or os.environ.get(HOME_ENV_VAR) or DEFAULT_HOME
    path = Path(chosen).expanduser().resolve()
    (path / "runs").mkdir(parents=True, exist_ok=True)
    return path


def inside(root: Path, relative: str | Path) -> Path:
    """Resolve ``relative`` under ``root``, refusing anything (``..``, absolute paths, symlinks) that leaves it."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise NotFoundError(f"'{relative}' is not a file of this RetroML home.")
    return candidate


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
            folder.mkdir(parents=True, exist_ok=True)


def run_paths(home: Path, run_id: str) -> RunPaths:
    """The folder of ``run_id`` under ``home``; a run id can never point outside ``home/runs``."""
    return RunPaths(inside(home / "runs", run_id))
