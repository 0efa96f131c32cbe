"""Where rate-limit counters and admin sessions are kept, so that every server process sees
the same ones: ``SharedState`` and its three homes.

- ``MemoryState``: this process's memory. Only for SQLite, which one process works by design
  (``Database.single_process``); a restart forgets the counters and signs admins out.
- ``PostgresState``: the ``rate_counters`` and ``admin_sessions`` tables (migration 0006), one
  statement a call on an asyncpg pool of its own (autocommit, no reset query: the same
  shortcut as ``storage.reader``): a count costs one round trip, one row upsert.
- ``RedisState``: a Redis server (``REDIS_URL``), through redis-py's asyncio client; a counted
  request is one round trip (a script: ``INCRBY``, and ``EXPIRE`` on a window's first hit).

Counters are fixed windows: the caller names the bucket and the window (its start and end in
epoch seconds, from its own clock, so tests move time instead of sleeping); ``hit`` counts one
request (or a lease of several, ``bot.http.ratelimit.RateLimiter.hit``) and answers how many
the window holds now. Sessions are stored under the SHA-256 of
their id, so what the store holds cannot be replayed as a cookie; times are epoch seconds.
``make_state`` picks the home for a database URL and an optional Redis URL.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from storage import dialect
from storage.reader import PostgresReader

# MemoryState keeps at most this many sessions (the least recently seen one goes first), and
# PostgresState as many rows.
MAX_SESSIONS = 1000
REDIS_PREFIX = "tinydesk:"

P = ParamSpec("P")
R = TypeVar("R")


class StateUnavailable(Exception):
    """The database or Redis did not answer: the caller refuses the request (never lets it
    through unlimited), with a 503 that says to try again."""


def guarded(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """A store's method, raising ``StateUnavailable`` when its server cannot be reached."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except OSError as error:  # refused, reset, timed out (TimeoutError is one)
            raise StateUnavailable(str(error)) from error
        except Exception as error:
            # The drivers' own connection errors (asyncpg, redis-py), named by module so that
            # neither has to be imported where the other is used.
            if type(error).__module__.startswith(("asyncpg", "redis")):
                raise StateUnavailable(f"{type(error).__name__}: {error}") from error
            raise

    return wrapped


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SharedState:
    """Counters and sessions; every method is one short round trip (or none, in memory)."""

    name: str

    async def hit(self, bucket: str, window_start: int, window_end: int, amount: int = 1) -> int:
        """Count ``amount`` requests in ``bucket``'s window (one, or a lease of several); the
        number the window holds now."""
        raise NotImplementedError

    async def count(self, bucket: str, window_start: int) -> int:
        """How many requests ``bucket``'s window holds, without counting one."""
        raise NotImplementedError

    async def forget(self, bucket: str, window_start: int) -> None:
        """Drop ``bucket``'s count (a sign-in that succeeded clears its failures)."""
        raise NotImplementedError

    async def start_session(self, session_id: str, csrf_token: str, now: float) -> None:
        raise NotImplementedError

    async def touch_session(
        self, session_id: str, now: float, *, lifetime: float, idle: float
    ) -> str | None:
        """The CSRF token of a live session (started less than ``lifetime`` ago, seen less than
        ``idle`` ago), marking it seen ``now``; None for an unknown or expired one."""
        raise NotImplementedError

    async def end_session(self, session_id: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections (nothing to do in memory)."""


class MemoryState(SharedState):
    name = "memory"

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int, int]] = {}  # bucket -> (start, end, hits)
        self.sessions: dict[str, tuple[str, float, float]] = {}  # key -> (csrf, started, seen)
        self._swept_at = 0

    async def hit(self, bucket: str, window_start: int, window_end: int, amount: int = 1) -> int:
        self._sweep(window_start)
        start, _, hits = self.counts.get(bucket, (window_start, window_end, 0))
        hits = hits + amount if start == window_start else amount
        self.counts[bucket] = (window_start, window_end, hits)
        return hits

    def _sweep(self, now: int) -> None:
        # Dropping ended windows now and then keeps memory bounded by the active callers.
        if now == self._swept_at:
            return
        self._swept_at = now
        self.counts = {b: c for b, c in self.counts.items() if c[1] > now}

    async def count(self, bucket: str, window_start: int) -> int:
        start, _, hits = self.counts.get(bucket, (window_start, 0, 0))
        return hits if start == window_start else 0

    async def forget(self, bucket: str, window_start: int) -> None:
        self.counts.pop(bucket, None)

    async def start_session(self, session_id: str, csrf_token: str, now: float) -> None:
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions, key=lambda k: self.sessions[k][2])
            self.sessions.pop(oldest)
        self.sessions[session_key(session_id)] = (csrf_token, now, now)

    async def touch_session(
        self, session_id: str, now: float, *, lifetime: float, idle: float
    ) -> str | None:
        key = session_key(session_id)
        found = self.sessions.get(key)
        if found is None:
            return None
        csrf_token, started, seen = found
        if now - started > lifetime or now - seen > idle:
            self.sessions.pop(key, None)
            return None
        self.sessions[key] = (csrf_token, started, now)
        return csrf_token

    async def end_session(self, session_id: str) -> None:
        self.sessions.pop(session_key(session_id), None)


HIT_SQL = """
INSERT INTO rate_counters AS c (bucket, window_start, window_end, hits) VALUES ($1, $2, $3, $4)
ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN c.window_start = EXCLUDED.window_start THEN c.hits + $4 ELSE $4 END,
    window_start = EXCLUDED.window_start,
    window_end = EXCLUDED.window_end
RETURNING hits
"""
COUNT_SQL = "SELECT hits FROM rate_counters WHERE bucket = $1 AND window_start = $2"
FORGET_SQL = "DELETE FROM rate_counters WHERE bucket = $1"
SWEEP_SQL = "DELETE FROM rate_counters WHERE window_end <= $1"
START_SESSION_SQL = """
INSERT INTO admin_sessions (id, csrf_token, started_at, last_seen_at) VALUES ($1, $2, $3, $3)
"""
# The least recently seen sessions beyond MAX_SESSIONS go, as in memory.
TRIM_SESSIONS_SQL = f"""
DELETE FROM admin_sessions WHERE last_seen_at < $1 OR id IN (
    SELECT id FROM admin_sessions ORDER BY last_seen_at DESC OFFSET {MAX_SESSIONS}
)
"""
TOUCH_SESSION_SQL = """
UPDATE admin_sessions SET last_seen_at = $2
WHERE id = $1 AND started_at >= $3 AND last_seen_at >= $4
RETURNING csrf_token
"""
END_SESSION_SQL = "DELETE FROM admin_sessions WHERE id = $1"
# Sessions are trimmed when one starts: any older than this have expired whatever the policy.
SESSION_RETENTION = 24 * 3600


class PostgresState(SharedState):
    name = "database"

    def __init__(self, database_url: str) -> None:
        # Plain statements on a pool of their own, each its own transaction.
        reader = dialect.make_reader(database_url)
        assert isinstance(reader, PostgresReader)
        self._sql = reader
        self._swept_at = 0

    @guarded
    async def hit(self, bucket: str, window_start: int, window_end: int, amount: int = 1) -> int:
        if window_start > self._swept_at:
            # Once a window per process: the counters of ended windows go (a short table,
            # one row per active caller, so no index on window_end to slow the upserts).
            self._swept_at = window_start
            await self._sql.fetch(SWEEP_SQL, window_start)
        row = await self._sql.fetchrow(HIT_SQL, bucket, window_start, window_end, amount)
        return int(row[0]) if row else 0

    @guarded
    async def count(self, bucket: str, window_start: int) -> int:
        row = await self._sql.fetchrow(COUNT_SQL, bucket, window_start)
        return int(row[0]) if row else 0

    @guarded
    async def forget(self, bucket: str, window_start: int) -> None:
        await self._sql.fetch(FORGET_SQL, bucket)

    @guarded
    async def start_session(self, session_id: str, csrf_token: str, now: float) -> None:
        await self._sql.fetch(TRIM_SESSIONS_SQL, now - SESSION_RETENTION)
        await self._sql.fetch(START_SESSION_SQL, session_key(session_id), csrf_token, now)

    @guarded
    async def touch_session(
        self, session_id: str, now: float, *, lifetime: float, idle: float
    ) -> str | None:
        row = await self._sql.fetchrow(
            TOUCH_SESSION_SQL, session_key(session_id), now, now - lifetime, now - idle
        )
        return str(row[0]) if row else None

    @guarded
    async def end_session(self, session_id: str) -> None:
        await self._sql.fetch(END_SESSION_SQL, session_key(session_id))

    async def close(self) -> None:
        await self._sql.close()


# INCRBY, and EXPIRE on the window's first hit, in one round trip and atomically (a key never
# outlives its window for want of an EXPIRE).
HIT_SCRIPT = """
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
if hits == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""


class RedisState(SharedState):
    """Keys ``tinydesk:rate:<bucket>:<window start>`` (expiring with their window) and
    ``tinydesk:session:<sha256 of the id>`` (a hash expiring a day after it starts)."""

    name = "redis"

    def __init__(self, redis_url: str, *, prefix: str = REDIS_PREFIX) -> None:
        import redis.asyncio

        self._redis: Any = redis.asyncio.Redis.from_url(redis_url)
        self._hit = self._redis.register_script(HIT_SCRIPT)  # EVALSHA, loaded on first use
        self.prefix = prefix

    def _rate_key(self, bucket: str, window_start: int) -> str:
        return f"{self.prefix}rate:{bucket}:{window_start}"

    def _session_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_key(session_id)}"

    @guarded
    async def hit(self, bucket: str, window_start: int, window_end: int, amount: int = 1) -> int:
        # Relative expiry: the window's length from its start, whatever Redis's clock says.
        ttl = window_end - window_start + 1
        key = self._rate_key(bucket, window_start)
        return int(await self._hit(keys=[key], args=[ttl, amount]))

    @guarded
    async def count(self, bucket: str, window_start: int) -> int:
        value = await self._redis.get(self._rate_key(bucket, window_start))
        return int(value) if value is not None else 0

    @guarded
    async def forget(self, bucket: str, window_start: int) -> None:
        await self._redis.delete(self._rate_key(bucket, window_start))

    @guarded
    async def start_session(self, session_id: str, csrf_token: str, now: float) -> None:
        key = self._session_key(session_id)
        mapping = {"csrf": csrf_token, "started": repr(now), "seen": repr(now)}
        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.hset(key, mapping=mapping).expire(key, SESSION_RETENTION).execute()

    @guarded
    async def touch_session(
        self, session_id: str, now: float, *, lifetime: float, idle: float
    ) -> str | None:
        key = self._session_key(session_id)
        found = await self._redis.hgetall(key)
        if not found:
            return None
        started, seen = float(found.get(b"started", 0)), float(found.get(b"seen", 0))
        if now - started > lifetime or now - seen > idle or b"csrf" not in found:
            await self._redis.delete(key)
            return None
        await self._redis.hset(key, "seen", repr(now))
        return bytes(found[b"csrf"]).decode()

    @guarded
    async def end_session(self, session_id: str) -> None:
        await self._redis.delete(self._session_key(session_id))

    async def close(self) -> None:
        await self._redis.aclose()


def make_state(database_url: str, redis_url: str | None = None) -> SharedState:
    """Redis when ``redis_url`` is given; else the database, or memory on SQLite (one
    process works an SQLite database, so its memory is everything there is to share)."""
    if redis_url:
        return RedisState(redis_url)
    if dialect.single_process(dialect.name_of_url(database_url)):
        return MemoryState()
    return PostgresState(database_url)
