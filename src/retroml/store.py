"""The run index and metrics: one embedded SQLite database ``<home>/retroml.db`` (WAL mode).

Any SQLAlchemy URL works (``RETROML_DB`` or ``--db``), e.g. PostgreSQL when a cluster shares the home.
The training process writes metrics and heartbeats; faces read. Every change of a run, every new
artifact and every metrics row is also appended to ``events``, whose increasing id lets a live view
(the web app's Server-Sent Events) resume exactly where it left off.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)

DB_ENV_VAR = "RETROML_DB"

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("game", String(64), nullable=False, index=True),
    Column("algo", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("fast_mode", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("heartbeat_at", Float),
    Column("pid", Integer),
    Column("pid_started_at", Float),
    Column("host", String(255)),
    Column("executor", String(16), nullable=False, default="local"),
    Column("leg", Integer, nullable=False, default=1),
    Column("leg_start_timesteps", Integer, nullable=False, default=0),
    Column("total_timesteps", Integer, nullable=False),
    Column("timesteps", Integer, nullable=False, default=0),
    Column("episodes", Integer, nullable=False, default=0),
    Column("score_mean", Float),
    Column("score_best", Float),
    Column("steps_per_sec", Float),
    Column("train_seconds", Float),
    Column("parent_run_id", String(32)),
    Column("parent_checkpoint", String(500)),
    Column("changes", JSON),
    Column("legs", JSON),
    Column("exit_code", Integer),
    Column("message", Text),
    Column("render_progress", Float),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("leg", Integer, nullable=False),
    Column("timesteps", Integer, nullable=False),
    Column("episodes", Integer, nullable=False),
    Column("score_mean", Float),
    Column("score_max", Float),
    Column("score_best", Float),
    Column("episode_length", Float),
    Column("steps_per_sec", Float),
    Column("loss", Float),
    Column("policy_loss", Float),
    Column("value_loss", Float),
    Column("entropy", Float),
    Column("explained_variance", Float),
    Column("learning_rate", Float),
    Column("exploration_rate", Float),
    Column("wall_time", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    # Rows past the checkpoint a later leg restarted from (after a crash): kept, but not shown.
    Column("superseded", Boolean, nullable=False, default=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # checkpoint | clip | journey
    Column("path", String(500), nullable=False, unique=True),  # relative to the home
    Column("milestone_pct", Integer),
    Column("timesteps", Integer),
    Column("episodes", Integer),
    Column("leg", Integer),
    Column("size_bytes", Integer),
    Column("duration_sec", Float),
    Column("meta", JSON),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # status | metrics | artifact | deleted
    Column("payload", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

RUN_COLUMNS = frozenset(column.name for column in runs.columns)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the training process write metrics while faces read; busy_timeout rides out the
    # short write locks instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    """Access to the run index, metrics, artifacts and events of one data home.

    :param home: the data home; the default database is ``<home>/retroml.db``.
    :param url: any SQLAlchemy URL instead (``RETROML_DB`` is used when this is ``None``).
    """

    def __init__(self, home: Path, url: str | None = None) -> None:
        self.home = home
        self.url = url or os.environ.get(DB_ENV_VAR) or f"sqlite:///{home / 'retroml.db'}"
        self.engine: Engine = create_engine(self.url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database made by an older RetroML gets the columns added since (all nullable or defaulted)."""
        existing = inspect(self.engine)
        with self._begin() as connection:
            for table in (runs, metrics, artifacts, events):
                present = {column["name"] for column in existing.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in present:
                        kind = column.type.compile(self.engine.dialect)
                        default = " NOT NULL DEFAULT 0" if column.default is not None and not column.nullable else ""
                        connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{default}"))

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def _event(self, connection: Connection, run_id: str, kind: str, payload: dict[str, Any]) -> None:
        connection.execute(insert(events).values(run_id=run_id, kind=kind, payload=payload, created_at=time.time()))

    # runs ------------------------------------------------------------------------------------
    def insert_run(self, row: dict[str, Any]) -> None:
        with self._begin() as connection:
            connection.execute(insert(runs).values(**row))
            self._event(connection, row["run_id"], "status", {"status": row["status"]})
        self._mirror_run_json(row["run_id"])

    def update_run(self, run_id: str, **values: Any) -> None:
        """Update columns of a run; a status change is also recorded as an event."""
        unknown = set(values) - RUN_COLUMNS
        if unknown:
            raise KeyError(f"not run columns: {sorted(unknown)}")
        with self._begin() as connection:
            connection.execute(update(runs).where(runs.c.run_id == run_id).values(**values))
            if "status" in values:
                payload = {"status": values["status"], "message": values.get("message")}
                self._event(connection, run_id, "status", payload)
        self._mirror_run_json(run_id)

    def _mirror_run_json(self, run_id: str) -> None:
        """Keep ``run.json`` in the run folder equal to its DB row, so a folder tells its own story."""
        row = self.get_run(run_id)
        folder = self.home / "runs" / run_id
        if row is None or not folder.is_dir():
            return
        target = folder / "run.json"
        temporary = folder / f".run.json.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(row, indent=2, default=str), encoding="utf-8")
        os.replace(temporary, target)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        return dict(row) if row else None

    def list_runs(self, status: str | None = None, game: str | None = None) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.created_at.desc())
        if status:
            query = query.where(runs.c.status == status)
        if game:
            query = query.where(runs.c.game == game)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def delete_run(self, run_id: str) -> None:
        with self._begin() as connection:
            for table in (metrics, artifacts, runs):
                connection.execute(delete(table).where(table.c.run_id == run_id))
            self._event(connection, run_id, "deleted", {})

    # metrics ---------------------------------------------------------------------------------
    def add_metrics(self, run_id: str, row: dict[str, Any]) -> None:
        with self._begin() as connection:
            result = connection.execute(insert(metrics).values(run_id=run_id, created_at=time.time(), **row))
            payload = {"metric_id": _primary_key(result), **row}
            self._event(connection, run_id, "metrics", payload)

    def supersede_metrics(self, run_id: str, after_timesteps: int) -> int:
        """Hide the rows past ``after_timesteps``: a new leg retrains from there, so curves never go back."""
        with self._begin() as connection:
            result = connection.execute(
                update(metrics)
                .where(metrics.c.run_id == run_id, metrics.c.timesteps > after_timesteps, ~metrics.c.superseded)
                .values(superseded=True)
            )
        return int(result.rowcount or 0)

    def metrics(self, run_id: str, since_id: int = 0) -> list[dict[str, Any]]:
        query = (
            select(metrics)
            .where(metrics.c.run_id == run_id, metrics.c.id > since_id, ~metrics.c.superseded)
            .order_by(metrics.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def metrics_at(self, run_id: str, timesteps: int) -> dict[str, Any] | None:
        """The last metrics row at or before ``timesteps`` (what the run knew at that point)."""
        query = (
            select(metrics)
            .where(metrics.c.run_id == run_id, metrics.c.timesteps <= timesteps, ~metrics.c.superseded)
            .order_by(metrics.c.timesteps.desc(), metrics.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return dict(row) if row else None

    # artifacts -------------------------------------------------------------------------------
    def add_artifact(self, run_id: str, kind: str, path: str, **values: Any) -> int:
        """Record a file of the run (``path`` relative to the home); replaces a row with the same path."""
        with self._begin() as connection:
            connection.execute(delete(artifacts).where(artifacts.c.path == path))
            result = connection.execute(
                insert(artifacts).values(run_id=run_id, kind=kind, path=path, created_at=time.time(), **values)
            )
            artifact_id = _primary_key(result)
            payload = {"artifact_id": artifact_id, "kind": kind, "path": path, **_jsonable(values)}
            self._event(connection, run_id, "artifact", payload)
        return artifact_id

    def remove_artifact(self, path: str) -> None:
        with self._begin() as connection:
            connection.execute(delete(artifacts).where(artifacts.c.path == path))

    def artifacts(self, run_id: str | None = None, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = select(artifacts).order_by(artifacts.c.created_at, artifacts.c.id)
        if run_id:
            query = query.where(artifacts.c.run_id == run_id)
        if kinds:
            query = query.where(artifacts.c.kind.in_(list(kinds)))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def get_artifact(self, artifact_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(artifacts).where(artifacts.c.id == artifact_id)).mappings().first()
        return dict(row) if row else None

    # events ----------------------------------------------------------------------------------
    def events(self, run_id: str | None = None, after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        query = select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
        if run_id:
            query = query.where(events.c.run_id == run_id)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def dispose(self) -> None:
        self.engine.dispose()


def _primary_key(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))
