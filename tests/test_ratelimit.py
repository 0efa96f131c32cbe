"""Rate limits: the fixed-window limiter, the desk's per-key limits and the public API's
per-address limits, with seed 001's headers and 429 answer. Time is moved, never slept."""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import RateLimits, Settings
from bot.http.ratelimit import RATE_LIMITER, RateLimiter
from storage.limits import MemoryState
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import SEED_TICKET, bearer, make_key

T0 = 1_771_322_400.0  # 2026-02-17T10:00:00Z, the start of a minute


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def frozen(client, start: float = T0) -> Clock:
    clock = Clock(start)
    client.server.app[RATE_LIMITER].clock = clock
    return clock


async def test_the_limiter_counts_in_fixed_minute_windows():
    clock = Clock(T0 + 15)
    limiter = RateLimiter(clock=clock)
    decisions = [await limiter.hit("k", 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert {d.reset_at for d in decisions} == {int(T0) + 60}
    assert decisions[-1].retry_after == 45
    assert (await limiter.hit("other", 3)).allowed  # buckets are separate
    clock.now = T0 + 60
    fresh = await limiter.hit("k", 3)
    assert fresh.allowed and fresh.remaining == 2 and fresh.reset_at == int(T0) + 120


async def test_retry_after_is_at_least_one_second():
    limiter = RateLimiter(clock=Clock(T0 + 59.9))
    await limiter.hit("k", 1)
    assert (await limiter.hit("k", 1)).retry_after == 1


async def test_ended_windows_are_forgotten():
    clock = Clock()
    state = MemoryState()
    limiter = RateLimiter(state, clock=clock)
    for n in range(100):
        await limiter.hit(f"caller-{n}", 5)
    clock.now += 60
    await limiter.hit("caller-0", 5)
    assert len(state.counts) == 1


async def test_the_101st_desk_request_in_a_minute_is_429(client):
    key = await make_key(client)
    clock = frozen(client, T0 + 15)
    for n in range(100):
        resp = await client.get("/api/v1/desk/stats", headers=bearer(key))
        assert resp.status == 200
        assert resp.headers["X-RateLimit-Limit"] == "100"
        assert resp.headers["X-RateLimit-Remaining"] == str(99 - n)
        assert resp.headers["X-RateLimit-Reset"] == str(int(T0) + 60)
    resp = await client.get("/api/v1/desk/stats", headers=bearer(key))
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "45"
    assert resp.headers["X-RateLimit-Limit"] == "100"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.headers["X-RateLimit-Reset"] == str(int(T0) + 60)
    assert await resp.json() == {
        "error": "Too many requests",
        "retryAfter": 45,
        "hint": "Rate limit exceeded. Try again in 45 seconds.",
    }
    # Another key has its own allowance; the next minute starts afresh.
    other = await make_key(client, name="other")
    assert (await client.get("/api/v1/desk/stats", headers=bearer(other))).status == 200
    clock.now = T0 + 60
    resp = await client.get("/api/v1/desk/stats", headers=bearer(key))
    assert resp.status == 200 and resp.headers["X-RateLimit-Remaining"] == "99"


async def test_the_51st_ticket_creation_in_a_minute_is_429(client):
    key = await make_key(client)
    frozen(client, T0 + 30)
    for n in range(50):
        resp = await client.post("/api/v1/desk/tickets", json=SEED_TICKET, headers=bearer(key))
        assert resp.status == 201
        assert resp.headers["X-RateLimit-Limit"] == "50"
        assert resp.headers["X-RateLimit-Remaining"] == str(49 - n)
    resp = await client.post("/api/v1/desk/tickets", json=SEED_TICKET, headers=bearer(key))
    assert resp.status == 429
    body = await resp.json()
    assert body == {
        "error": "Too many requests",
        "retryAfter": 30,
        "hint": "Rate limit exceeded. Try again in 30 seconds.",
    }
    assert resp.headers["Retry-After"] == "30"
    assert resp.headers["X-RateLimit-Limit"] == "50"
    # Reading still works: the request limit (100) is not used up.
    listed = await client.get("/api/v1/desk/tickets?limit=100", headers=bearer(key))
    assert listed.status == 200 and len((await listed.json())["tickets"]) == 50
    assert listed.headers["X-RateLimit-Limit"] == "100"
    assert listed.headers["X-RateLimit-Remaining"] == "48"


async def test_error_answers_carry_the_headers_too(client):
    key = await make_key(client)
    frozen(client)
    for url in ("/api/v1/desk/tickets/tkt_missing", "/api/v1/desk/tickets?limit=0"):
        resp = await client.get(url, headers=bearer(key))
        assert resp.status in (400, 404)
        assert resp.headers["X-RateLimit-Limit"] == "100"
        assert resp.headers["X-RateLimit-Reset"] == str(int(T0) + 60)


async def test_zero_turns_a_limit_off(make_client):
    limits = RateLimits(
        desk_requests_per_minute=0,
        desk_creates_per_minute=0,
        public_creates_per_minute=0,
        public_reads_per_minute=0,
    )
    client = await make_client(Settings(admin_token=ADMIN_TOKEN, rate_limits=limits))
    key = await make_key(client)
    frozen(client)
    for _ in range(120):
        resp = await client.get("/api/v1/desk/stats", headers=bearer(key))
        assert resp.status == 200
    assert "X-RateLimit-Limit" not in resp.headers


PUBLIC_TICKET = {
    "productSlug": "my-saas-app",
    "submitterEmail": "sam@example.com",
    "subject": "s",
    "body": "b",
}


async def test_public_submissions_are_limited_per_address(client, product):
    clock = frozen(client, T0 + 50)
    for n in range(10):
        resp = await client.post("/api/tickets", json=PUBLIC_TICKET)
        assert resp.status == 201
        assert resp.headers["X-RateLimit-Limit"] == "10"
        assert resp.headers["X-RateLimit-Remaining"] == str(9 - n)
    resp = await client.post("/api/tickets", json=PUBLIC_TICKET)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "10"
    assert await resp.json() == {
        "error": "Too many requests",
        "retryAfter": 10,
        "hint": "Rate limit exceeded. Try again in 10 seconds.",
    }
    # Reads have their own allowance.
    read = await client.get("/api/tickets/TK-00001")
    assert read.status == 200 and read.headers["X-RateLimit-Limit"] == "120"
    clock.now = T0 + 60
    assert (await client.post("/api/tickets", json=PUBLIC_TICKET)).status == 201


async def test_public_reads_are_limited_per_address_even_when_not_found(client, product):
    frozen(client)
    for _ in range(120):
        resp = await client.get("/api/tickets/TK-00042")
        assert resp.status == 404
    resp = await client.get("/api/tickets/TK-00042")
    assert resp.status == 429 and resp.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("trusted", [False, True])
async def test_forwarded_for_counts_only_behind_a_trusted_proxy(make_client, product, trusted):
    base = Settings(admin_token=ADMIN_TOKEN)
    settings = dataclasses.replace(
        base,
        trust_forwarded_for=trusted,
        rate_limits=dataclasses.replace(base.rate_limits, public_creates_per_minute=1),
    )
    client = await make_client(settings)
    frozen(client)
    first = await client.post(
        "/api/tickets", json=PUBLIC_TICKET, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.1"}
    )
    # Same proxy-seen address, a different (spoofable) first entry: still the same caller.
    spoofed = await client.post(
        "/api/tickets", json=PUBLIC_TICKET, headers={"X-Forwarded-For": "192.0.2.99, 203.0.113.1"}
    )
    other = await client.post(
        "/api/tickets", json=PUBLIC_TICKET, headers={"X-Forwarded-For": "203.0.113.2"}
    )
    assert first.status == 201 and spoofed.status == 429
    assert other.status == (201 if trusted else 429)


async def test_a_caller_over_its_limit_is_refused_without_asking_the_shared_state():
    """Protects the hot GET from floods: once a bucket is over its limit, the rest of its
    window is refused by this process alone (no round trip to the database or Redis)."""

    class Counting(MemoryState):
        calls = 0

        async def hit(
            self, bucket: str, window_start: int, window_end: int, amount: int = 1
        ) -> int:
            Counting.calls += 1
            return await super().hit(bucket, window_start, window_end, amount)

    clock = Clock(T0 + 10)
    limiter = RateLimiter(Counting(), clock=clock)
    decisions = [await limiter.hit("k", 3) for _ in range(50)]
    assert [d.allowed for d in decisions] == [True] * 3 + [False] * 47
    assert Counting.calls == 3 and decisions[-1].retry_after == 50  # full after the third
    clock.now = T0 + 60  # a new window asks again
    assert (await limiter.hit("k", 3)).allowed and Counting.calls == 4


async def test_leases_ask_the_shared_state_once_per_lease_and_stay_exact_in_one_process():
    calls = []

    class Counting(MemoryState):
        async def hit(
            self, bucket: str, window_start: int, window_end: int, amount: int = 1
        ) -> int:
            calls.append(amount)
            return await super().hit(bucket, window_start, window_end, amount)

    limiter = RateLimiter(Counting(), clock=Clock(T0))
    decisions = [await limiter.hit("r", 120, lease=12) for _ in range(130)]
    assert [d.allowed for d in decisions] == [True] * 120 + [False] * 10
    assert [d.remaining for d in decisions[:3]] == [119, 118, 117]
    assert decisions[119].remaining == 0
    assert calls == [12] * 10  # the tenth lease fills the window: no more round trips


async def test_leases_over_two_processes_never_admit_more_than_the_limit():
    """Protects the public read limit across processes: however requests are spread, the
    window admits at most the limit, and at most one lease fewer per other process."""
    shared = MemoryState()
    one, two = RateLimiter(shared, clock=Clock(T0)), RateLimiter(shared, clock=Clock(T0))
    allowed = 0
    for n in range(300):
        limiter = (one, two)[(n // 7) % 2]  # uneven bursts on each
        allowed += (await limiter.hit("r", 120, lease=12)).allowed
    assert 120 - 12 <= allowed <= 120
