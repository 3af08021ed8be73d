"""Schema versions of the store: Alembic revisions in ``versions/``, run by :func:`upgrade` when a Store opens.

Three kinds of database meet :func:`upgrade`:

- **up to date** (``alembic_version`` holds :data:`HEAD`): two small queries and nothing else; Alembic,
  whose import alone costs more than opening the store, is not even imported.
- **new** (no tables): ``metadata.create_all`` then ``stamp head``, as Alembic's cookbook recommends
  ("Building an Up to Date Database from Scratch"): one shot from the current tables, never a replay of
  every revision on each new home; a test keeps the revisions and the tables equal. The stamp is the
  row Alembic's own ``stamp`` writes, in the table it would make, written here so that a new home (every
  first command, every test's home) does not pay for importing Alembic either.
- **older**: a stamped revision before :data:`HEAD` is upgraded revision by revision; a database made
  before revisions existed (tables, no ``alembic_version``) is upgraded from nothing, and the baseline
  revision adopts its tables (adds the columns added since, widens 32-bit counts on PostgreSQL).

Every process of a home opens the store (server, trainers, renders, each CLI command), often at once:
the work happens in one transaction under a lock (SQLite's write lock taken by ``BEGIN IMMEDIATE``,
a PostgreSQL advisory lock), and the revision is read again under it, so the second process finds the
first one's work done.

A new revision: change the tables in ``store.py``, then write ``versions/<rev>_<what>.py`` by hand
(copy the baseline's header; ``down_revision`` is the current head) and set :data:`HEAD` to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)

from retroml.errors import RetroMLError

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

# The newest revision in versions/; tests/unit/test_store_migrations.py checks it is Alembic's head.
HEAD = "0001"
VERSION_TABLE = "alembic_version"
# The table Alembic keeps the revision in (alembic.ddl.impl.DefaultImpl.version_table_impl).
version_table = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
)
# Another process may be upgrading a large database: wait for it longer than for an ordinary write.
MIGRATION_LOCK_WAIT_MS = 600_000
MIGRATIONS_LOCK_KEY = 0x7265_7472_6F6D_6D  # "retromm": beside the store's events lock


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, ``None`` when it has none (new, or older than revisions)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(select(version_table.c.version_num)).scalar()


def upgrade(engine: Engine, metadata: MetaData) -> str:
    """Bring the database of ``engine`` to :data:`HEAD` (``metadata``: the current tables); returns it."""
    with engine.connect() as connection:
        if current_revision(connection) == HEAD:
            return HEAD
    with engine.connect() as connection, _migration_lock(connection):
        revision = current_revision(connection)
        if revision == HEAD:
            return HEAD  # another process did it while this one waited for the lock
        if revision is None and not inspect(connection).get_table_names():
            metadata.create_all(connection)
            version_table.create(connection)
            connection.execute(insert(version_table).values(version_num=HEAD))
            logger.info("created the store's tables at schema %s", HEAD)
            return HEAD
        from alembic import command

        config = alembic_config(connection)
        _refuse_unknown(config, revision, engine)
        logger.info("upgrading the store from schema %s to %s", revision or "before revisions", HEAD)
        command.upgrade(config, HEAD)
    return HEAD


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, built here (no alembic.ini): this package's scripts, run on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """One transaction on ``connection`` holding the lock that serialises migrations; committed at the end."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        usual_wait = int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {MIGRATION_LOCK_WAIT_MS}")
        connection.commit()
    try:
        if sqlite:
            # pysqlite opens no transaction before DDL: take the write lock ourselves, for all of it.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL lock_timeout = {MIGRATION_LOCK_WAIT_MS}"))
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATIONS_LOCK_KEY)))
        yield
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if sqlite:
            # The connection goes back to the pool: a trainer's short wait must not become ten minutes.
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {usual_wait}")
            connection.commit()


def _refuse_unknown(config: Config, revision: str | None, engine: Engine) -> None:
    """A revision this RetroML does not know was written by a newer one: say so instead of guessing."""
    from alembic.script import ScriptDirectory

    if revision is None:
        return
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if revision not in known:
        where = engine.url.render_as_string(hide_password=True)
        raise RetroMLError(
            f"The database {where} was upgraded by a newer RetroML (schema {revision}; this one knows up to "
            f"{HEAD}): run that version or a newer one."
        )
