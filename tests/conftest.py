"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when configured),
settings, and an aiohttp test client around the whole TinyDesk app."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.app import create_app
from bot.config import Settings
from bot.rules.sla_policy import default_targets_doc
from storage import migrate
from storage.database import Database
from storage.models import Base, SlaPolicy
from tests.openapi_recorder import ResponseRecorder

# The one fake GitHub, as the ``fake_github`` fixture.
pytest_plugins = ("tests.fakes",)

ADMIN_TOKEN = "test-admin-token-0123456789-abcdef"
PG_URL = os.environ.get("TINYDESK_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
# A Redis server for the shared limits and sessions (storage.limits.RedisState), as .ci/run sets.
REDIS_URL = os.environ.get("TINYDESK_TEST_REDIS_URL", "").strip()


async def _migrate(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A database of its own on the test PostgreSQL server, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip("TINYDESK_TEST_DATABASE_URL is not set")
    name = f"tinydesk_test_{uuid.uuid4().hex[:10]}"
    admin_url = make_url(PG_URL)

    async def create() -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    async def drop() -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    asyncio.run(create())
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(drop())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database on each backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "tinydesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_all(url))
    return url


async def _truncate_all(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # What migration 0010 seeds: the default SLA policy (seed 003's table, 24x7).
        await conn.execute(
            insert(SlaPolicy).values(
                name="Default",
                is_default=True,
                targets=default_targets_doc(),
                calendar=None,
                response_ends="comment_or_status",
                warn_minutes=30,
            )
        )
        await conn.execute(text("SELECT setval('sla_policies_id_seq', 1)"))
    await engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """The test Redis database, emptied first (the tests run one at a time)."""
    if not REDIS_URL:
        pytest.skip("TINYDESK_TEST_REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        admin_token=ADMIN_TOKEN, public_url="https://desk.example.test", run_workers=False
    )


@pytest.fixture
def make_client(db: Database, aiohttp_client):
    """Build a test client for the app with the given settings (default: ``settings``).
    Every JSON response it sees must match the OpenAPI document (checked at teardown)."""
    recorder = ResponseRecorder()

    async def make(settings: Settings | None = None):
        app = create_app(settings or Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
        app.on_response_prepare.append(recorder.on_prepare)
        return await aiohttp_client(app)

    yield make
    recorder.assert_valid()


@pytest.fixture
async def client(make_client, settings: Settings):
    return await make_client(settings)


ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def product(client) -> dict:
    """A registered product, my-saas-app -> octo-org/my-saas-app."""
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


@pytest.fixture
async def world(make_client, fake_github):
    """TinyDesk wired to the fake GitHub, with my-saas-app -> octo-org/my-saas-app installed."""
    from tests.world import make_world

    return await make_world(make_client, fake_github)
