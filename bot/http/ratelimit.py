"""Fixed-window rate limits, their ``X-RateLimit-*`` headers and the 429 answer.

One ``RateLimiter`` lives on the app (``RATE_LIMITER``). Each limit is a bucket
name (``desk:key_abc``, ``public-create:203.0.113.9``) counted per window (a minute, unless
said otherwise) that starts on a multiple of the window length, so ``X-RateLimit-Reset`` is
the same epoch second for every caller. The counts are kept in the app's ``SharedState``
(``storage.limits``): in the database or Redis, so that every server process counts against
the same limit; in memory on SQLite. The clock is injectable, so tests move time instead of
sleeping.

Handlers call ``await enforce(request, bucket, limit)``; the decision is remembered on the
request and ``attach_rate_limit_headers`` (an ``on_response_prepare`` hook) writes the headers
onto whatever response goes out, error answers included. Failed credentials are limited by
``retry_after`` (how long a caller must wait before it may try again) and ``record_failure``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.errors import ApiError
from storage.limits import MemoryState, SharedState, StateUnavailable

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
TOO_MANY_REQUESTS = "Too many requests"
# Wrong admin bearer tokens allowed per client address per window (then 429 until it ends),
# as the sign-in form allows five.
ADMIN_TOKEN_FAILURES = 5
ADMIN_TOKEN_WINDOW = 300
STATE_RETRY_SECONDS = 5
# How many buckets' windows a process remembers (RateLimiter._leases).
MAX_LEASES = 10_000
# The public read limit is counted in leases of a tenth of it (RateLimiter.hit): the hot
# tracking GET asks the shared state once every ten reads of a caller, not on each.
PUBLIC_READ_LEASE_FRACTION = 10


@contextlib.contextmanager
def state_reachable() -> Iterator[None]:
    """Around every call to the shared state: when its server does not answer, the request is
    refused with a 503 (a limit that cannot be counted is not waived)."""
    try:
        yield
    except StateUnavailable as error:
        log.warning("rate limits and sessions unavailable: %s", error)
        raise ApiError(
            503,
            "Temporarily unavailable",
            "The server cannot reach the store of its rate limits and sessions (the database "
            f"or Redis). Try again in {STATE_RETRY_SECONDS} seconds.",
            headers={"Retry-After": str(STATE_RETRY_SECONDS)},
        ) from None


@dataclasses.dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one request against one bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds at which the current window ends
    retry_after: int  # seconds until a rejected caller may try again (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


# The decision whose headers the response carries (the most restrictive one seen).
RATE_DECISION = web.RequestKey("rate_decision", RateDecision)


@dataclasses.dataclass
class _Lease:
    """A bucket's window as this process last saw it in the shared state."""

    limit: int
    reset_at: int
    left: int  # slots this process reserved and has not used yet
    total: int  # the window's count in the shared state when they were reserved

    def remaining(self) -> int:
        """Slots nobody has reserved yet, and this process's own unused ones."""
        return max(0, self.limit - self.total) + self.left


class RateLimiter:
    """Counts hits per bucket in fixed windows, in ``state`` (set when the app starts)."""

    def __init__(
        self,
        state: SharedState | None = None,
        *,
        clock: Callable[[], float] = time.time,
        window: int = WINDOW_SECONDS,
    ) -> None:
        self.state: SharedState = state if state is not None else MemoryState()
        self.clock = clock
        self.window = window
        # What this process knows of each bucket's current window (``_Lease``): slots it
        # reserved and has not used yet, and whether the window is full. A caller over its
        # limit is refused here without a round trip (a flood costs no more than a refusal).
        self._leases: dict[str, _Lease] = {}

    def _window(self, window: int | None) -> tuple[float, int, int]:
        length = window or self.window
        now = self.clock()
        start = int(now // length) * length
        return now, start, start + length

    async def hit(
        self, bucket: str, limit: int, *, window: int | None = None, lease: int = 1
    ) -> RateDecision:
        """Count one request; it is allowed while the window holds no more than ``limit``.

        ``lease`` > 1 reserves that many slots of the window at once in the shared state and
        spends them here, one round trip for ``lease`` requests. The window never admits more
        than ``limit`` over all processes; a caller spread over several processes may be
        refused up to ``(processes - 1) * lease`` requests early (slots another one holds).
        """
        now, start, reset_at = self._window(window)
        refused = RateDecision(False, limit, 0, reset_at, max(1, math.ceil(reset_at - now)))
        held = self._leases.get(bucket)
        if held is not None and held.limit == limit and held.reset_at == reset_at:
            if held.left > 0:
                held.left -= 1
                return RateDecision(True, limit, held.remaining(), reset_at, 0)
            if held.total >= limit:
                return refused
        amount = max(1, min(lease, limit))
        with state_reachable():
            total = await self.state.hit(bucket, start, reset_at, amount)
        granted = max(0, min(amount, limit - (total - amount)))
        self._keep(bucket, _Lease(limit, reset_at, max(0, granted - 1), total), now)
        if granted == 0:
            return refused
        return RateDecision(True, limit, self._leases[bucket].remaining(), reset_at, 0)

    def _keep(self, bucket: str, held: _Lease, now: float) -> None:
        if bucket not in self._leases and len(self._leases) >= MAX_LEASES:
            self._leases = {b: h for b, h in self._leases.items() if h.reset_at > now}
            if len(self._leases) >= MAX_LEASES:
                self._leases.clear()
        self._leases[bucket] = held

    async def retry_after(self, bucket: str, attempts: int, window: int) -> int:
        """Seconds until a caller with ``attempts`` failures in ``bucket``'s window may try
        again; 0 if it may now."""
        now, start, reset_at = self._window(window)
        with state_reachable():
            failures = await self.state.count(bucket, start)
        if failures < attempts:
            return 0
        return max(1, math.ceil(reset_at - now))

    async def record_failure(self, bucket: str, window: int) -> None:
        _, start, reset_at = self._window(window)
        with state_reachable():
            await self.state.hit(bucket, start, reset_at)

    async def forget(self, bucket: str, window: int) -> None:
        _, start, _ = self._window(window)
        with state_reachable():
            await self.state.forget(bucket, start)


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


async def enforce(
    request: web.Request, bucket: str, limit: int, *, lease: int = 1
) -> RateDecision | None:
    """Count this request against ``bucket``; raise the 429 when it is over ``limit``.

    A limit of 0 turns the check off (and no headers are sent for it).
    """
    if limit <= 0:
        return None
    decision = await request.config_dict[RATE_LIMITER].hit(bucket, limit, lease=lease)
    shown = request.get(RATE_DECISION)
    if shown is None or not decision.allowed or decision.remaining < shown.remaining:
        request[RATE_DECISION] = decision
    if not decision.allowed:
        raise too_many_requests(decision.retry_after)
    return decision


def too_many_requests(seconds: int, hint: str | None = None) -> ApiError:
    return ApiError(
        429,
        TOO_MANY_REQUESTS,
        hint or f"Rate limit exceeded. Try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
        retryAfter=seconds,
    )


async def attach_rate_limit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: every rate-limited response says where its caller stands."""
    decision = request.get(RATE_DECISION)
    if decision is not None:
        response.headers.update(decision.headers())


def client_address(request: web.Request) -> str:
    """Who the caller is, for every per-address limit (the public API, failed desk keys, the
    admin sign-in throttle): the connecting address; or, behind TINYDESK_TRUST_PROXY, the
    last untrusted hop, which is the last ``X-Forwarded-For`` entry: the address our proxy
    saw and appended itself. Earlier entries are whatever the client chose to send, so they
    never count (a client could otherwise be a new caller on every request)."""
    if request.config_dict[SETTINGS].trust_forwarded_for:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-1][:100]
    return request.remote or "unknown"


def admin_token_failures(request: web.Request) -> str:
    """The bucket of wrong admin tokens from this caller: one for the admin API's bearer
    tokens and the sign-in form together (both are guesses at the same secret)."""
    return f"admin-token-failures:{client_address(request)}"


async def limit_public_creates(request: web.Request) -> None:
    """POST /api/tickets: ``public_creates_per_minute`` per client address."""
    limit = request.config_dict[SETTINGS].rate_limits.public_creates_per_minute
    await enforce(request, f"public-create:{client_address(request)}", limit)


async def limit_public_reads(request: web.Request) -> None:
    """GET /api/tickets/{publicId}: ``public_reads_per_minute`` per client address, counted in
    leases (``RateLimiter.hit``): the hottest path asks the shared state least often."""
    limit = request.config_dict[SETTINGS].rate_limits.public_reads_per_minute
    if limit <= 0:
        return  # off (``enforce`` would say the same): the caller's address is not needed
    lease = max(1, limit // PUBLIC_READ_LEASE_FRACTION)
    await enforce(request, f"public-read:{client_address(request)}", limit, lease=lease)
