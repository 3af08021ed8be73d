"""Baseline: the runs, metrics, artifacts and events tables as RetroML had them when revisions began.

On an empty database this creates them. On a database made before revisions existed (tables, no
``alembic_version``) it adopts them instead, as ``Store._add_missing_columns`` used to on every open:
a missing table is created, a missing column added (old rows get its default), a missing index made,
and on PostgreSQL the 32-bit counts, sizes and ids (and the sequences numbering them) become 64-bit.
The tables are written out here, not imported from ``store.py``: a revision stays what it was when
later ones change the store.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Integer, String, Table, Text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

baseline = sa.MetaData()
BigInt = BigInteger().with_variant(Integer, "sqlite")

Table(
    "runs",
    baseline,
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

Table(
    "metrics",
    baseline,
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
    Column("superseded", Boolean, nullable=False, default=False),
)

Table(
    "artifacts",
    baseline,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("path", String(500), nullable=False, unique=True),
    Column("milestone_pct", Integer),
    Column("timesteps", BigInt),
    Column("episodes", BigInt),
    Column("leg", Integer),
    Column("size_bytes", BigInt),
    Column("duration_sec", Float),
    Column("meta", JSON),
    Column("created_at", Float, nullable=False),
)

Table(
    "events",
    baseline,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for table in baseline.sorted_tables:
        if table.name in present:
            _adopt(bind, table)
        else:
            table.create(bind)


def downgrade() -> None:
    for table in reversed(baseline.sorted_tables):
        op.drop_table(table.name)


def _adopt(bind: sa.Connection, table: Table) -> None:
    """Bring a table an older RetroML made to the baseline; its rows stay."""
    found = sa.inspect(bind)
    columns = {column["name"]: column["type"] for column in found.get_columns(table.name)}
    for column in table.columns:
        if column.name not in columns:
            op.add_column(table.name, _addable(column, bind.dialect))
        elif (
            bind.dialect.name == "postgresql"
            and isinstance(column.type, BigInteger)
            and not isinstance(columns[column.name], BigInteger)
        ):
            op.alter_column(table.name, column.name, type_=BigInteger(), existing_nullable=column.nullable)
            if column.primary_key:
                _widen_sequence(bind, table.name, column.name)
    indexed = {name for index in found.get_indexes(table.name) if (name := index["name"])}
    for index in table.indexes:
        if index.name not in indexed:
            index.create(bind)


def _addable(column: Column[Any], dialect: sa.Dialect) -> Column[Any]:
    """A copy of ``column`` that an ALTER TABLE can add: a required one gets its default as the server's."""
    server_default = None
    if column.default is not None and not column.nullable:
        value = sa.literal(column.default.arg, column.type)  # type: ignore[attr-defined]
        server_default = sa.text(str(value.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
    return Column(column.name, column.type, nullable=column.nullable, server_default=server_default)


def _widen_sequence(bind: sa.Connection, table: str, column: str) -> None:
    """A SERIAL's sequence stops at 2**31 - 1 even in a BIGINT column (rebuilt event ids start near 2**40)."""
    sequence = bind.execute(sa.select(sa.func.pg_get_serial_sequence(table, column))).scalar()
    if sequence is not None:
        bind.execute(sa.text(f"ALTER SEQUENCE {sequence} AS BIGINT"))
