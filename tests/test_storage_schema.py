"""The Alembic migrations are the schema; the models must describe exactly what they make."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.models import Base


async def test_migrations_match_the_models(db):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_schema_is_at_the_newest_revision_with_every_table(db):
    assert await migrate.current_revision(db.engine) == migrate.head_revision()

    def tables(connection):
        return set(inspect(connection).get_table_names())

    async with db.engine.connect() as conn:
        found = await conn.run_sync(tables)
    assert {"products", "tickets", "stage_transitions"} <= found
    assert set(Base.metadata.tables) <= found


async def test_upgrading_twice_is_harmless(db):
    await migrate.upgrade(db.engine)
    assert await migrate.current_revision(db.engine) == migrate.head_revision()
