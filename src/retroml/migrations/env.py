"""Alembic's environment: always online, on the connection :func:`retroml.migrations.upgrade` holds.

That connection is the Store's own (its SQLite pragmas, busy timeout and PostgreSQL lock timeout apply)
and is already inside the transaction that holds the migration lock, so Alembic opens none of its own.
"""

from __future__ import annotations

from alembic import context

from retroml.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("RetroML's migrations run through retroml.migrations.upgrade(), which passes a connection")

# render_as_batch: SQLite alters most columns only by copying the table, which Alembic's batch mode does.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
