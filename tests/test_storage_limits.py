"""The three homes of the shared rate-limit counters and admin sessions (storage.limits) keep
the same promises: memory (SQLite), the database (PostgreSQL) and Redis, each the real thing.
What one process counts or signs in, another instance on the same store sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select

from bot.errors import ApiError
from bot.http.ratelimit import RateLimiter
from bot.web.sessions import SessionStore
from storage.database import Database
from storage.limits import MemoryState, PostgresState, RedisState, SharedState, session_key
from storage.models import StoredAdminSession
from tests.conftest import _truncate_all

T0 = 1_771_322_400  # the start of a minute
HOUR = 3600.0


@pytest.fixture(params=["memory", "database", "redis"])
def store(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Which store, and its emptied URL (skipped when the server is not configured)."""
    if request.param == "database":
        url = request.getfixturevalue("postgres_url")
        asyncio.run(_truncate_all(url))
        return "database", url
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_url")
    return "memory", ""


@pytest.fixture
async def states(store: tuple[str, str]) -> AsyncIterator[Callable[[], SharedState]]:
    """A factory of states on one store: two of them are two processes (memory: one, shared)."""
    kind, url = store
    made: list[SharedState] = []
    memory = MemoryState()

    def make() -> SharedState:
        if kind == "memory":
            return memory
        state = PostgresState(url) if kind == "database" else RedisState(url)
        made.append(state)
        return state

    yield make
    for state in made:
        await state.close()


async def test_counts_are_per_bucket_and_window_and_shared(states):
    """Protects the limits across processes: two instances add up into one count."""
    one, two = states(), states()
    assert [await one.hit("k", T0, T0 + 60) for _ in range(3)] == [1, 2, 3]
    assert await two.hit("k", T0, T0 + 60) == 4
    assert await one.count("k", T0) == 4 and await two.count("other", T0) == 0
    assert await two.hit("other", T0, T0 + 60) == 1
    # The next window starts at one, whatever the last one held.
    assert await one.hit("k", T0 + 60, T0 + 120) == 1
    assert await two.count("k", T0 + 60) == 1
    # A lease counts several at once.
    assert await one.hit("lease", T0, T0 + 60, 12) == 12
    assert await two.hit("lease", T0, T0 + 60, 12) == 24


async def test_forget_drops_a_count(states):
    one, two = states(), states()
    await one.hit("fails", T0, T0 + 300)
    await one.hit("fails", T0, T0 + 300)
    await two.forget("fails", T0)
    assert await one.count("fails", T0) == 0


async def test_a_session_started_in_one_is_live_in_the_other_until_it_ends(states):
    one, two = states(), states()
    await one.start_session("sid-1", "csrf-1", T0)
    assert await two.touch_session("sid-1", T0 + 60, lifetime=12 * HOUR, idle=2 * HOUR) == (
        "csrf-1"
    )
    assert await two.touch_session("sid-2", T0 + 60, lifetime=12 * HOUR, idle=2 * HOUR) is None
    await two.end_session("sid-1")
    assert await one.touch_session("sid-1", T0 + 61, lifetime=12 * HOUR, idle=2 * HOUR) is None


async def test_sessions_expire_when_idle_and_after_their_lifetime(states):
    state = states()
    await state.start_session("idle", "c", T0)
    later = T0 + 2 * HOUR + 1
    assert await state.touch_session("idle", later, lifetime=12 * HOUR, idle=2 * HOUR) is None
    await state.start_session("busy", "c", T0)
    now = float(T0)
    for _ in range(11):  # seen every hour: never idle, but only for twelve hours
        now += HOUR
        assert await state.touch_session("busy", now, lifetime=12 * HOUR, idle=2 * HOUR) == "c"
    now += 1.5 * HOUR
    assert await state.touch_session("busy", now, lifetime=12 * HOUR, idle=2 * HOUR) is None


async def test_the_database_keeps_only_a_hash_of_the_session_id(postgres_url):
    """A copy of the table is not a set of cookies."""
    database_url = postgres_url
    await _truncate_all(database_url)
    state = PostgresState(database_url)
    db = Database(database_url)
    try:
        await state.start_session("the-cookie-value", "csrf", T0)
        async with db.session() as session:
            ids = (await session.scalars(select(StoredAdminSession.id))).all()
        assert ids == [session_key("the-cookie-value")]
    finally:
        await state.close()
        await db.dispose()


@pytest.mark.parametrize(
    "unreachable",
    [
        lambda: RedisState("redis://127.0.0.1:1/0"),
        lambda: PostgresState("postgresql+asyncpg://postgres@127.0.0.1:1/none"),
    ],
    ids=["redis", "database"],
)
async def test_a_store_that_cannot_be_reached_refuses_with_a_503_not_unlimited(unreachable):
    """Protects the limits from being waived (and the log from tracebacks) when Redis or the
    database is down: the request is refused with a 503 that says when to try again."""
    state = unreachable()
    limiter, sessions = RateLimiter(state), SessionStore(state)
    try:
        for attempt in (limiter.hit("k", 10), sessions.get("some-session-id-of-a-cookie")):
            with pytest.raises(ApiError) as info:
                await attempt
            assert info.value.status == 503 and info.value.headers["Retry-After"] == "5"
    finally:
        await state.close()
