"""The run index and metrics: one embedded SQLite database ``<home>/retroml.db`` (WAL mode).

Any SQLAlchemy URL works (``RETROML_DB`` or ``--db``), e.g. PostgreSQL when a cluster shares the home
(``postgresql+psycopg://…``; the tests run the store against both SQLite and a real PostgreSQL).
The training process writes metrics and heartbeats; faces read. Every change of a run, every new
artifact and every metrics row is also appended to ``events``, whose increasing id lets a live view
(the web app's Server-Sent Events) resume exactly where it left off.
The schema has a version (an Alembic revision, ``retroml.migrations``): opening a store brings a database
made by an older RetroML up to date, and leaves an up-to-date one alone after two small queries.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError

from retroml import migrations
from retroml.disk import is_disk_full
from retroml.errors import InvalidInputError
from retroml.paths import open_in_home

DB_ENV_VAR = "RETROML_DB"
# Beside run.json in each run folder: every metrics row as written, so the index can be rebuilt.
METRICS_FILE = "metrics.jsonl"
logger = logging.getLogger(__name__)

metadata = MetaData()
# Counts, sizes and row ids that outgrow 32 bits (a 10-hour journey passes 2 GiB): BIGINT on PostgreSQL,
# INTEGER on SQLite (already 64-bit there, and only INTEGER PRIMARY KEY numbers rows by itself).
BigInt = BigInteger().with_variant(Integer, "sqlite")
# Event ids are handed out under this transaction lock on PostgreSQL, so they commit in increasing order.
EVENTS_LOCK_KEY = 0x7265_7472_6F6D_6C  # "retroml"

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
    Column("leg_start_timesteps", BigInt, nullable=False, default=0),
    Column("total_timesteps", BigInt, nullable=False),
    Column("timesteps", BigInt, nullable=False, default=0),
    Column("episodes", BigInt, nullable=False, default=0),
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
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("leg", Integer, nullable=False),
    Column("timesteps", BigInt, nullable=False),
    Column("episodes", BigInt, nullable=False),
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
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # checkpoint | clip | journey
    Column("path", String(500), nullable=False, unique=True),  # relative to the home
    Column("milestone_pct", Integer),
    Column("timesteps", BigInt),
    Column("episodes", BigInt),
    Column("leg", Integer),
    Column("size_bytes", BigInt),
    Column("duration_sec", Float),
    Column("meta", JSON),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # status | metrics | artifact | deleted
    Column("payload", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

RUN_COLUMNS = frozenset(column.name for column in runs.columns)


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the training process write metrics while faces read; busy_timeout rides out the
        # short write locks instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return set_pragmas


# A connection opened read-only because the disk was full is replaced once it is this old.
READ_ONLY_RETRY_SEC = 2.0
_READ_ONLY_SINCE = "retroml_read_only_since"


def _sqlite_connect(busy_timeout_ms: int) -> Callable[[Any, Any, Any, Any], Any]:
    """Open an SQLite connection in WAL mode; on a full disk, one that can still read.

    WAL needs a ``-shm`` file of 32 KiB beside the database, made when the first connection opens;
    on a full disk that fails ("disk I/O error") and no read would work. The database file is then
    opened ``immutable`` (read-only, no ``-shm``): listing runs keeps working, writes fail and are
    retried by their callers, and the pool replaces the connection after ``READ_ONLY_RETRY_SEC``.
    """
    set_pragmas = _sqlite_pragmas(busy_timeout_ms)

    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        connection = dialect.loaded_dbapi.connect(*cargs, **cparams)
        try:
            set_pragmas(connection, record)
        except sqlite3.OperationalError as error:
            connection.close()
            database = Path(cargs[0]) if cargs else None
            code = getattr(error, "sqlite_errorcode", 0) & 0xFF
            if code not in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL) or database is None or not database.is_file():
                raise
            logger.warning("cannot open %s for writing (%s; is its disk full?): reading it as it is", database, error)
            record.info[_READ_ONLY_SINCE] = time.monotonic()
            uri = f"file:{urllib.parse.quote(str(database))}?immutable=1"
            return dialect.loaded_dbapi.connect(uri, *cargs[1:], **{**cparams, "uri": True})
        record.info.pop(_READ_ONLY_SINCE, None)
        return connection

    return connect


def _replace_read_only(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_READ_ONLY_SINCE)
    if since is not None and time.monotonic() - since > READ_ONLY_RETRY_SEC:
        raise DisconnectionError("opened read-only on a full disk; trying a writable connection again")


def _postgresql_lock_timeout(lock_timeout_ms: int) -> Callable[[Any, Any], None]:
    def set_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        # PostgreSQL's counterpart of SQLite's busy_timeout: a statement waits this long for another
        # session's lock, then fails with a transient error (which PatientWriter retries) instead of hanging.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        cursor.close()
        dbapi_connection.commit()

    return set_lock_timeout


def _refuse_nul_characters(
    _connection: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """PostgreSQL's text cannot hold the NUL character (SQLite's can): one clear sentence, not a driver error."""
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else ()
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise InvalidInputError("Text with a NUL character (\\0) cannot be stored or looked up: remove it.")


def _json_text(value: Any) -> str:
    """JSON for the JSON columns: NaN and infinities (which JSON lacks, and PostgreSQL refuses) become null."""
    return json.dumps(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def database_url(home: Path, url: str | None = None) -> str:
    """The store's SQLAlchemy URL: ``url``, else ``$RETROML_DB``, else ``sqlite:///<home>/retroml.db``."""
    return url or os.environ.get(DB_ENV_VAR) or f"sqlite:///{home / 'retroml.db'}"


class Store:
    """Access to the run index, metrics, artifacts and events of one data home.

    :param home: the data home; the default database is ``<home>/retroml.db``.
    :param url: any SQLAlchemy URL instead (``RETROML_DB`` is used when this is ``None``).
    :param busy_timeout_ms: how long a statement waits for another writer's lock (SQLite's busy_timeout,
        PostgreSQL's lock_timeout).
    """

    def __init__(self, home: Path, url: str | None = None, busy_timeout_ms: int = 30_000) -> None:
        self.home = home
        self.url = database_url(home, url)
        sqlite = self.url.startswith("sqlite")
        # Off SQLite a pooled connection may have been cut (a restarted server): checked before each use.
        self.engine: Engine = create_engine(self.url, json_serializer=_json_text, pool_pre_ping=not sqlite)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "do_connect", _sqlite_connect(busy_timeout_ms))
            event.listen(self.engine, "checkout", _replace_read_only)
        elif self.engine.dialect.name == "postgresql":
            event.listen(self.engine, "connect", _postgresql_lock_timeout(busy_timeout_ms))
            event.listen(self.engine, "before_cursor_execute", _refuse_nul_characters)
        migrations.upgrade(self.engine, metadata)

    @property
    def schema_version(self) -> str | None:
        """The Alembic revision the database is at (``retroml.migrations.HEAD`` once the store is open)."""
        with self.engine.connect() as connection:
            return migrations.current_revision(connection)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def _event(self, connection: Connection, run_id: str, kind: str, payload: dict[str, Any]) -> None:
        if connection.dialect.name == "postgresql":
            # PostgreSQL hands out ids at insert time, not commit time: without this lock a reader could
            # see event 102 before 101 commits, resume after 102 and never see 101.
            connection.execute(select(func.pg_advisory_xact_lock(EVENTS_LOCK_KEY)))
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
        """Keep ``run.json`` equal to the run's row and its artifacts, so a folder tells its own story.

        With ``metrics.jsonl`` beside it, this is all :func:`retroml.runs.reindex.reindex` needs to
        put the run back in a lost index.
        """
        row = self.get_run(run_id)
        folder = self.home / "runs" / run_id
        if row is None or not folder.is_dir():
            return
        row["artifacts"] = [
            {key: value for key, value in artifact.items() if key != "id"} for artifact in self.artifacts(run_id)
        ]
        target = folder / "run.json"
        temporary = folder / f".run.json.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            temporary.write_text(json.dumps(row, indent=2, default=str), encoding="utf-8")
            os.replace(temporary, target)
        except OSError as error:
            # The row is committed; the mirror catches up at the next change. A full disk must not
            # turn a recorded status (a failure, a repair) into an error.
            temporary.unlink(missing_ok=True)
            logger.warning("could not rewrite %s: %s", target, error)

    def _append_metrics_file(self, run_id: str, line: dict[str, Any]) -> None:
        """Append one line to the run's ``metrics.jsonl`` (a failure is logged: training goes on)."""
        folder = self.home / "runs" / run_id
        if not folder.is_dir():
            return
        try:
            with open_in_home(self.home, folder / METRICS_FILE, "ab") as handle:
                handle.write((json.dumps(line, default=str) + "\n").encode("utf-8"))
        except OSError as error:
            logger.warning("could not append to %s of run %s: %s", METRICS_FILE, run_id, error)

    def write_run_files(self, run_id: str) -> None:
        """Write ``run.json`` and a missing ``metrics.jsonl`` from the index (a run older than these files)."""
        self._mirror_run_json(run_id)
        folder = self.home / "runs" / run_id
        target = folder / METRICS_FILE
        if not folder.is_dir() or target.exists():
            return
        query = select(metrics).where(metrics.c.run_id == run_id).order_by(metrics.c.id)
        with self.engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(query).mappings()]
        if not rows:
            return
        temporary = folder / f".{METRICS_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        lines = (json.dumps({k: v for k, v in row.items() if k not in ("id", "run_id")}) + "\n" for row in rows)
        temporary.write_text("".join(lines), encoding="utf-8")
        try:
            os.link(temporary, target)  # never over a file the trainer has begun meanwhile
        except FileExistsError:
            pass
        finally:
            temporary.unlink()

    def has_runs(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(runs.c.run_id).limit(1)).first() is not None

    def restore_run(
        self, row: dict[str, Any], run_artifacts: Sequence[dict[str, Any]], metrics_rows: Sequence[dict[str, Any]]
    ) -> bool:
        """Put a run read from its folder back in the index, in one transaction; ``False`` if it is there.

        Rows left for the id without a run row (written while the index was gone) are replaced.
        """
        run_id = row["run_id"]
        try:
            with self._begin() as connection:
                if connection.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first():
                    return False
                for table in (metrics, artifacts):
                    connection.execute(delete(table).where(table.c.run_id == run_id))
                connection.execute(insert(runs).values(**row))
                for artifact in run_artifacts:
                    connection.execute(delete(artifacts).where(artifacts.c.path == artifact["path"]))
                    connection.execute(insert(artifacts).values(run_id=run_id, **artifact))
                if metrics_rows:
                    connection.execute(insert(metrics), [{"run_id": run_id, **values} for values in metrics_rows])
                placeholder = self._number_events_past_a_lost_index(connection)
                self._event(connection, run_id, "status", {"status": row["status"], "message": row.get("message")})
                if placeholder is not None:
                    connection.execute(delete(events).where(events.c.id == placeholder))
        except IntegrityError:
            return False  # another process restored it first
        return True

    def _number_events_past_a_lost_index(self, connection: Connection) -> int | None:
        """A rebuilt index numbers its events above the lost index's: a live page resumes from the id it saw.

        Returns the id of a placeholder event to delete once the next event is in (SQLite).
        """
        if connection.execute(select(events.c.id).limit(1)).first() is not None:
            return None
        # More events than a lost index could have held: one per millisecond since 1970.
        floor = int(time.time() * 1000)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('events', 'id'), :floor)"), {"floor": floor})
            return None
        # SQLite numbers a new row max(id) + 1.
        connection.execute(
            insert(events).values(id=floor, run_id="", kind="placeholder", payload={}, created_at=time.time())
        )
        return floor

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
        created_at = time.time()
        with self._begin() as connection:
            result = connection.execute(insert(metrics).values(run_id=run_id, created_at=created_at, **row))
            payload = {"metric_id": _primary_key(result), **row}
            self._event(connection, run_id, "metrics", payload)
        # After the commit: a retried (busy) write must not leave the line twice.
        self._append_metrics_file(run_id, {**row, "created_at": created_at})

    def supersede_metrics(self, run_id: str, after_timesteps: int) -> int:
        """Hide the rows past ``after_timesteps``: a new leg retrains from there, so curves never go back."""
        with self._begin() as connection:
            result = connection.execute(
                update(metrics)
                .where(metrics.c.run_id == run_id, metrics.c.timesteps > after_timesteps, ~metrics.c.superseded)
                .values(superseded=True)
            )
        hidden = int(result.rowcount or 0)
        if hidden:
            self._append_metrics_file(run_id, {"superseded_after": after_timesteps, "created_at": time.time()})
        return hidden

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
        self._mirror_run_json(run_id)
        return artifact_id

    def remove_artifact(self, path: str) -> None:
        with self._begin() as connection:
            owner = connection.execute(select(artifacts.c.run_id).where(artifacts.c.path == path)).scalar()
            connection.execute(delete(artifacts).where(artifacts.c.path == path))
        if owner is not None:
            self._mirror_run_json(owner)

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


class PatientWriter:
    """The training process's writes: a locked or unreachable database delays them, never ends training.

    Run updates are merged (the newest value of each column wins); metrics rows and artifacts wait
    in order. Each :meth:`flush` tries what waits with the store's short busy timeout and stops at the
    first failure, so a 40 s lock held by a backup tool costs training a second now and then, not its
    life; :meth:`close` keeps trying for minutes before the process exits.

    :param store: the store, opened with a short ``busy_timeout_ms`` (a couple of seconds).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._run_values: dict[str, dict[str, Any]] = {}
        self._queue: deque[Callable[[], object]] = deque()
        self._retry_at = 0.0
        self._delay = 1.0

    @property
    def waiting(self) -> int:
        return len(self._queue) + len(self._run_values)

    def update_run(self, run_id: str, **values: Any) -> None:
        self._run_values.setdefault(run_id, {}).update(values)
        self.flush()

    def add_metrics(self, run_id: str, row: dict[str, Any]) -> None:
        self._queue.append(lambda: self.store.add_metrics(run_id, row))
        self.flush()

    def add_artifact(self, run_id: str, kind: str, path: str, **values: Any) -> None:
        self._queue.append(lambda: self.store.add_artifact(run_id, kind, path, **values))
        self.flush()

    def flush(self, force: bool = False) -> bool:
        """Write what waits, in order; ``False`` if the database is still busy (tried again later)."""
        if not force and time.monotonic() < self._retry_at:
            return False
        try:
            while self._queue:
                self._queue[0]()
                self._queue.popleft()
            while self._run_values:
                run_id, values = next(iter(self._run_values.items()))
                self.store.update_run(run_id, **values)
                del self._run_values[run_id]
        except DBAPIError as error:
            if not transient(error):
                raise
            self._retry_at = time.monotonic() + self._delay
            state = "full (its disk has no room)" if is_disk_full(error) else "busy"
            logger.warning("the database is %s (%s); %d writes wait, next try in %.0f s",
                           state, str(error.orig).strip(), self.waiting, self._delay)  # fmt: skip
            self._delay = min(self._delay * 2, 30.0)
            return False
        self._delay = 1.0
        return True

    def close(self, timeout: float = 600.0) -> bool:
        """Keep trying for up to ``timeout`` seconds; ``False`` if writes were still waiting then."""
        deadline = time.monotonic() + timeout
        while not self.flush(force=True):
            if time.monotonic() >= deadline:
                logger.error("the database stayed busy for %.0f s: %d writes lost", timeout, self.waiting)
                return False
            time.sleep(min(self._delay, max(deadline - time.monotonic(), 0.0)))
        return True


def transient(error: DBAPIError) -> bool:
    """Whether trying again later may succeed: a lock held too long (SQLite's "database is locked",
    PostgreSQL's lock timeout, deadlock or serialization failure), a server that is down, restarting or
    cut the connection. PostgreSQL's drivers raise all of these as OperationalError."""
    return isinstance(error, OperationalError) or bool(error.connection_invalidated)


def _primary_key(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))
