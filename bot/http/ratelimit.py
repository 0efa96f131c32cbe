"""In-process fixed-window rate limits, their ``X-RateLimit-*`` headers and the 429 answer.

One ``RateLimiter`` lives on the app (``RATE_LIMITER``). Each limit is a bucket
name (``desk:key_abc``, ``public-create:203.0.113.9``) counted per one-minute window that
starts on a multiple of the window length, so ``X-RateLimit-Reset`` is the same epoch second
for every caller. The clock is injectable, so tests move time instead of sleeping.

Handlers call ``enforce(request, bucket, limit)``; the decision is remembered on the request
and ``attach_rate_limit_headers`` (an ``on_response_prepare`` hook) writes the headers onto
whatever response goes out, error answers included.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.errors import ApiError

WINDOW_SECONDS = 60
TOO_MANY_REQUESTS = "Too many requests"


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


class RateLimiter:
    """Counts hits per bucket in fixed windows; forgets windows that have ended."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, window: int = WINDOW_SECONDS
    ) -> None:
        self.clock = clock
        self.window = window
        self._counts: dict[str, tuple[int, int]] = {}  # bucket -> (window start, hits)
        self._last_sweep = 0

    def hit(self, bucket: str, limit: int) -> RateDecision:
        """Count one request; it is allowed while the window holds fewer than ``limit``."""
        now = self.clock()
        start = int(now // self.window) * self.window
        reset_at = start + self.window
        self._sweep(start)
        window_start, hits = self._counts.get(bucket, (start, 0))
        if window_start != start:
            hits = 0
        if hits >= limit:
            retry_after = max(1, math.ceil(reset_at - now))
            return RateDecision(False, limit, 0, reset_at, retry_after)
        hits += 1
        self._counts[bucket] = (start, hits)
        return RateDecision(True, limit, limit - hits, reset_at, 0)

    def _sweep(self, current_start: int) -> None:
        # Dropping ended windows once per window keeps memory bounded by the active callers.
        if current_start == self._last_sweep:
            return
        self._last_sweep = current_start
        self._counts = {b: v for b, v in self._counts.items() if v[0] == current_start}


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


def enforce(request: web.Request, bucket: str, limit: int) -> RateDecision | None:
    """Count this request against ``bucket``; raise the 429 when it is over ``limit``.

    A limit of 0 turns the check off (and no headers are sent for it).
    """
    if limit <= 0:
        return None
    decision = request.config_dict[RATE_LIMITER].hit(bucket, limit)
    shown = request.get(RATE_DECISION)
    if shown is None or not decision.allowed or decision.remaining < shown.remaining:
        request[RATE_DECISION] = decision
    if not decision.allowed:
        raise too_many_requests(decision)
    return decision


def too_many_requests(decision: RateDecision) -> ApiError:
    seconds = decision.retry_after
    return ApiError(
        429,
        TOO_MANY_REQUESTS,
        f"Rate limit exceeded. Try again in {seconds} seconds.",
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


def limit_public_creates(request: web.Request) -> None:
    """POST /api/tickets: ``public_creates_per_minute`` per client address."""
    limit = request.config_dict[SETTINGS].rate_limits.public_creates_per_minute
    enforce(request, f"public-create:{client_address(request)}", limit)


def limit_public_reads(request: web.Request) -> None:
    """GET /api/tickets/{publicId}: ``public_reads_per_minute`` per client address."""
    limit = request.config_dict[SETTINGS].rate_limits.public_reads_per_minute
    enforce(request, f"public-read:{client_address(request)}", limit)
