"""Alembic environment: migrations always run on a connection that TinyDesk hands in.

``storage.migrate.upgrade`` opens the (async) engine and passes its connection through
``config.attributes["connection"]``, so the same code serves the CLI, the server and tests.
"""

from alembic import context

from storage import dialect
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `tinydesk db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=dialect.alters_tables_in_batches(connection),
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
