"""Failure injection for the fake GitHub: the next calls fail (``fail_next``) or a share of
them at random (``set_failure_rate``), as GitHub's 5xx, rate limits and timeouts do."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sim.fakegithub.handlers import Handlers
from bot.sim.fakegithub.routes import JWT_OPERATIONS, OPERATIONS
from bot.sim.fakegithub.state import DOCS_URL, RATE_LIMIT

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@dataclass
class Failure:
    operation: str | None
    status: int | None
    times: int
    retry_after: float | None
    delay: float | None
    body: Any
    apply_then_fail: bool
    rate_limit_reset: int | None


class FailureInjection(Handlers):
    """Made-up failures, taken by the server before (or after) a handler runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures: list[Failure] = []
        self._failure_rate = 0.0
        self._failure_statuses: tuple[int, ...] = ()
        self._failure_retry_after: float | None = 0
        self._random = random.Random(0)
        self._closing = asyncio.Event()  # set at close: delayed answers are cut short

    def fail_next(
        self,
        operation: str | None,
        status: int | None = 500,
        *,
        times: int = 1,
        retry_after: float | None = None,
        delay: float | None = None,
        body: Any = None,
        apply_then_fail: bool = False,
        rate_limit_reset: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``operation`` (None: any listed one) fail.

        ``status`` 500/502/503, 403 (secondary rate limit, or primary when ``rate_limit_reset``
        is given: remaining 0 and that reset) or 429; ``retry_after`` adds Retry-After;
        ``delay`` sleeps first (longer than the client timeout = a timeout) and with
        ``status=None`` then answers normally; ``apply_then_fail`` performs the effect and
        then answers ``status`` (the change happened but the reply was lost).
        """
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"not an operation the fake serves: {operation!r}")
        self._failures.append(
            Failure(
                operation,
                status,
                times,
                retry_after,
                delay,
                body,
                apply_then_fail,
                rate_limit_reset,
            )
        )

    def set_failure_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        statuses: tuple[int, ...] = (500, 502, 403, 429),
        retry_after: float | None = 0,
    ) -> None:
        """Fail a fraction ``rate`` of repository calls at random (deterministic for a seed),
        before their effect, with a status drawn from ``statuses``; 0 switches it off."""
        self._failure_rate = rate
        self._failure_statuses = statuses
        self._failure_retry_after = retry_after
        self._random = random.Random(seed)

    def _take_failure(self, operation: str) -> Failure | None:
        for failure in self._failures:
            if failure.operation in (None, operation):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        if (
            self._failure_rate
            and operation not in JWT_OPERATIONS
            and self._random.random() < self._failure_rate
        ):
            return Failure(
                operation,
                self._random.choice(self._failure_statuses),
                1,
                self._failure_retry_after,
                None,
                None,
                False,
                None,
            )
        return None

    async def _apply_failure(
        self,
        failure: Failure,
        request: web.Request,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        result: tuple[int, Any] | None = None
        if failure.apply_then_fail or failure.status is None:
            self._validate_request(operation, query, body, json.dumps(body).encode())
            result = await self._handle(operation, params, query, body, "token", headers, request)
        if failure.delay:
            try:
                await asyncio.wait_for(self._closing.wait(), failure.delay)
            except TimeoutError:
                pass
        if failure.status is None:
            assert result is not None
            return result
        if failure.retry_after is not None:
            headers["Retry-After"] = str(int(failure.retry_after))
        if failure.body is not None:
            return failure.status, failure.body
        if failure.status == 403 and failure.rate_limit_reset is not None:
            headers.update(
                {
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(failure.rate_limit_reset),
                    "x-ratelimit-used": str(RATE_LIMIT),
                }
            )
            return 403, {
                "message": "API rate limit exceeded for installation.",
                "documentation_url": DOCS_URL,
            }
        if failure.status in (403, 429):
            return failure.status, {
                "message": SECONDARY_RATE_LIMIT_MESSAGE,
                "documentation_url": DOCS_URL,
            }
        if failure.status == 502:
            return 502, {"message": "Server Error"}
        return failure.status, {
            "message": "Server Error" if failure.status >= 500 else "Failed",
            "documentation_url": DOCS_URL,
        }
