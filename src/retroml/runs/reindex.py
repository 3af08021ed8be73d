"""The run index is a cache of the run folders: rebuild it when the database is lost or unreadable.

Each run folder carries everything its rows hold: ``run.json`` (the run's row with its legs and
lineage, and its checkpoints and videos under ``artifacts``; the store rewrites it on every change)
and ``metrics.jsonl`` (every metrics row as written, and a ``superseded_after`` line each time a new
leg hid the rows past its checkpoint). :func:`reindex` puts back the runs the index lacks, one
transaction per run, and leaves the runs it has alone, so running it twice changes nothing.
:func:`open_store` sets aside a database file SQLite cannot read (never deletes it), so that a new
one is made and then rebuilt by :class:`~retroml.runs.service.RunService`.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError, StatementError

from retroml.errors import InvalidInputError, RetroMLError
from retroml.paths import inside, open_in_home, run_paths
from retroml.runs.model import Run
from retroml.store import METRICS_FILE, RUN_COLUMNS, Store, artifacts, database_url, metrics

logger = logging.getLogger(__name__)

ARTIFACT_FIELDS = frozenset(column.name for column in artifacts.columns) - {"id", "run_id"}
METRICS_FIELDS = tuple(column.name for column in metrics.columns if column.name not in ("id", "run_id"))
REQUIRED_METRICS = ("leg", "timesteps", "episodes", "wall_time", "created_at")


@dataclass(frozen=True)
class ReindexResult:
    """What a pass over ``<home>/runs`` found.

    :param runs: run folders that are in the index after the pass (already there or put back).
    :param new: of those, the runs this pass put back.
    :param skipped: ``"<folder>: why"`` for each folder that could not be read as a run.
    :param seconds: how long the pass took.
    """

    runs: int
    new: int
    skipped: tuple[str, ...]
    seconds: float


def reindex(store: Store, home: Path, progress: Callable[[int, int, str], None] | None = None) -> ReindexResult:
    """Index every run folder of ``home`` the store lacks; runs it has are left as they are.

    A run the store already has gets its ``run.json`` and (if missing) ``metrics.jsonl`` written
    from the store, so that runs made before these files were kept can be rebuilt later too.
    ``progress(done, total, run_id)`` is told before each folder; each run is its own transaction,
    so stopping part-way (Ctrl-C) keeps the runs done and the next reindex does the rest.
    """
    started = time.monotonic()
    indexed, new, skipped = 0, 0, []
    folders = sorted(path for path in (home / "runs").iterdir() if path.is_dir() and not path.name.startswith("."))
    for done, folder in enumerate(folders):
        if progress is not None:
            progress(done, len(folders), folder.name)
        if store.get_run(folder.name) is not None:
            try:
                store.write_run_files(folder.name)
            except OSError as error:
                logger.warning("could not write the files of run %s from the index: %s", folder.name, error)
            indexed += 1
            continue
        try:
            row, run_artifacts, metrics_rows = read_run_folder(home, folder)
        except (OSError, RetroMLError) as error:
            skipped.append(f"{folder.name}: {error}")
            continue
        try:
            restored = store.restore_run(row, run_artifacts, metrics_rows)
        except StatementError as error:
            if isinstance(error, OperationalError):
                raise  # a busy or unreachable database: nothing is wrong with the folder
            skipped.append(f"{folder.name}: the index refused its rows ({error.orig or error})")
            continue
        if restored:
            new += 1
            logger.info("reindexed run %s (%s, %d metrics rows)", row["run_id"], row["status"], len(metrics_rows))
        indexed += 1
    return ReindexResult(indexed, new, tuple(skipped), time.monotonic() - started)


def has_run_folders(home: Path) -> bool:
    """Whether any folder of ``<home>/runs`` holds a ``run.json`` (a run the index may have lost)."""
    return any((home / "runs").glob("*/run.json"))


def read_run_folder(home: Path, folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The run row, artifact rows and metrics rows a run folder holds; a folder that is not a run raises."""
    paths = run_paths(home, folder.name)
    try:
        with open_in_home(home, paths.run_json) as handle:
            saved = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        raise InvalidInputError("no run.json") from None
    except ValueError as error:
        raise InvalidInputError(f"run.json is not valid JSON ({error})") from None
    if not isinstance(saved, dict) or saved.get("run_id") != folder.name:
        raise InvalidInputError("run.json does not describe the run of this folder")
    row = {key: value for key, value in saved.items() if key in RUN_COLUMNS}
    try:
        Run.from_row(row)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInputError(f"run.json is not a run ({error})") from None
    if "artifacts" in saved:
        run_artifacts = [_artifact(home, paths.root, item, row) for item in saved["artifacts"]]
    else:
        run_artifacts = _milestone_checkpoints(home, paths.checkpoints)
    return row, run_artifacts, read_metrics_file(home, paths.root / METRICS_FILE)


def read_metrics_file(home: Path, path: Path) -> list[dict[str, Any]]:
    """The metrics rows of a ``metrics.jsonl`` in the order written, ``superseded`` replayed.

    A line that cannot be read (a process killed mid-write) is skipped; a line written twice (once
    by the trainer, once copied from the store by :func:`reindex`) is kept once.
    """
    try:
        with open_in_home(home, path) as handle:
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    unreadable = 0
    for line in lines:
        try:
            values = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        if not isinstance(values, dict):
            unreadable += 1
        elif "superseded_after" in values:
            # What Store.supersede_metrics did when a leg restarted from an earlier checkpoint.
            for row in rows:
                if row["timesteps"] > int(values["superseded_after"]):
                    row["superseded"] = True
        elif all(values.get(key) is not None for key in REQUIRED_METRICS):
            key = (values["leg"], values["timesteps"], values["created_at"])
            if key not in seen:
                seen.add(key)
                rows.append(
                    {field: values.get(field) for field in METRICS_FIELDS}
                    | {"superseded": bool(values.get("superseded", False))}
                )
        else:
            unreadable += 1
    if unreadable:
        logger.warning("%s: %d unreadable lines skipped", path, unreadable)
    return rows


def _artifact(home: Path, root: Path, saved: Any, row: dict[str, Any]) -> dict[str, Any]:
    """An artifact row from ``run.json``; its file must lie in the run's own folder."""
    if not isinstance(saved, dict) or not saved.get("path") or not saved.get("kind"):
        raise InvalidInputError("run.json lists an artifact without a kind or path")
    path = inside(home, str(saved["path"]))
    if root.resolve() not in path.parents:
        raise InvalidInputError(f"run.json lists {saved['path']}, which is not in the run's folder")
    values = {key: value for key, value in saved.items() if key in ARTIFACT_FIELDS}
    values.setdefault("created_at", row["created_at"])
    return values


def _milestone_checkpoints(home: Path, folder: Path) -> list[dict[str, Any]]:
    """The milestone checkpoints of a run whose ``run.json`` predates its ``artifacts`` list."""
    from retroml.engine.checkpoints import list_milestones

    if not folder.is_dir():
        return []
    return [
        {
            "kind": "checkpoint",
            "path": checkpoint.path.relative_to(home).as_posix(),
            "milestone_pct": checkpoint.milestone_pct,
            "timesteps": checkpoint.timesteps,
            "size_bytes": checkpoint.path.stat().st_size,
            "created_at": checkpoint.path.stat().st_mtime,
        }
        for checkpoint in list_milestones(folder)
    ]


# opening ------------------------------------------------------------------------------------
def open_store(home: Path, url: str | None = None) -> Store:
    """The store of ``home``; an SQLite file that is not a database is first moved aside, never deleted.

    The new, empty database is then rebuilt from the run folders by the caller.
    """
    path = sqlite_file(database_url(home, url))
    if path is not None:
        if path.exists():
            why = _unreadable(path)
            if why is not None:
                set_aside(path, why)
        else:
            # Companions of a database that is gone: a new file beside them would be read through them.
            for companion in _companions(path):
                if not path.exists():  # not one a Store opened meanwhile
                    os.replace(companion, _free_name(companion.with_name(f"{companion.name}.orphan-{_stamp()}")))
    try:
        return Store(home, url)
    except DatabaseError as error:
        if path is None or isinstance(error, OperationalError) or not path.exists():
            raise
        set_aside(path, str(error.orig))
        return Store(home, url)


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (``None`` for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def set_aside(path: Path, why: str) -> Path:
    """Rename an unreadable database (and its -wal/-shm) to ``<name>.corrupt-<timestamp>``."""
    target = _free_name(path.with_name(f"{path.name}.corrupt-{_stamp()}"))
    companions = _companions(path)
    os.replace(path, target)
    for companion in companions:
        os.replace(companion, target.with_name(target.name + companion.name.removeprefix(path.name)))
    logger.warning("%s is not a readable database (%s): moved aside to %s", path, why, target.name)
    return target


def _unreadable(path: Path) -> str | None:
    """Why SQLite cannot read ``path`` as a database, or ``None`` (a locked database is readable)."""
    try:
        with closing(sqlite3.connect(path, timeout=30)) as connection:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        return None  # locked, or not ours to open: Store reports it
    except sqlite3.DatabaseError as error:
        return str(error)
    return None


def _companions(path: Path) -> list[Path]:
    return [companion for suffix in ("-wal", "-shm") if (companion := path.with_name(path.name + suffix)).exists()]


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _free_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3`` … if it is taken: a file set aside is never overwritten."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate
