"""The two clients: ``Client`` (httpx, blocking) and ``AsyncClient`` (httpx, asyncio), each a
transport for the resources (tinydesk.client.resources) plus the retry rule they share.

Retries: a 429 or 503 is sent again up to ``max_retries`` times, after ``Retry-After`` when
the answer has one (seconds or an HTTP date, at most ``max_wait``), else after an
exponential wait. A create is only safe to send again with an ``idempotency_key``; without
one, TinyDesk refused the first attempt (that is what 429 and 503 mean), so nothing was made.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import httpx

from tinydesk.client.errors import TinyDeskError
from tinydesk.client.resources import JSON, Call, Desk, Helpdesk, Pages, PublicTickets

RETRIED = frozenset({429, 503})
USER_AGENT = "tinydesk-python-client/1"


def retry_wait(response: httpx.Response, attempt: int, *, max_wait: float) -> float:
    """How long to wait before attempt ``attempt + 1``."""
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return min(float(header), max_wait)
    if header:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, min(when.timestamp() - time.time(), max_wait))
    return min(0.5 * 2**attempt, max_wait)


def answer(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer, or the TinyDeskError it stands for."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if response.status_code >= 400:
        raise TinyDeskError(response.status_code, body)
    return body


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class _Retrying:
    """What both clients share: the headers every request carries, and the retry rule."""

    def __init__(self, api_key: str | None, max_retries: int, max_wait: float) -> None:
        self._headers = _headers(api_key)
        self.max_retries, self.max_wait = max_retries, max_wait

    def _request(self, call: Call) -> dict[str, Any]:
        """``call`` as httpx's ``request`` keyword arguments."""
        return {
            "method": call.method,
            "url": call.path,
            "params": call.params,
            "json": call.json,
            "headers": {**self._headers, **(call.headers or {})},
        }

    def _wait(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before sending again; None: ``response`` is the answer."""
        if response.status_code not in RETRIED or attempt >= self.max_retries:
            return None
        return retry_wait(response, attempt, max_wait=self.max_wait)


def _with_cursor(call: Call, cursor: str | None) -> Call:
    if cursor is None:
        return call
    return Call(call.method, call.path, {**(call.params or {}), "cursor": cursor}, call.json)


class Client(_Retrying):
    """Blocking client. ``api_key``: a desk key (``td_live_…``), for the desk, ITSM and alert
    APIs; the public API needs none."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, max_retries, max_wait)
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.tickets: PublicTickets[JSON, Iterator[JSON]] = PublicTickets(self)
        self.desk: Desk[JSON, Iterator[JSON]] = Desk(self)
        self.helpdesk: Helpdesk[JSON, Iterator[JSON]] = Helpdesk(self)

    def call(self, call: Call) -> JSON:
        attempt = 0
        while True:
            response = self._http.request(**self._request(call))
            wait = self._wait(response, attempt)
            if wait is None:
                return answer(response)
            time.sleep(wait)
            attempt += 1

    def pages(self, pages: Pages) -> Iterator[JSON]:
        cursor = None
        while True:
            page = self.call(_with_cursor(pages.call, cursor))
            yield from page.get(pages.items, [])
            cursor = page.get(pages.next_cursor)
            if not cursor:
                return

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Retrying):
    """The same API for asyncio: every method is awaited; ``iterate`` is ``async for``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, max_retries, max_wait)
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self.tickets: PublicTickets[Awaitable[JSON], AsyncIterator[JSON]] = PublicTickets(self)
        self.desk: Desk[Awaitable[JSON], AsyncIterator[JSON]] = Desk(self)
        self.helpdesk: Helpdesk[Awaitable[JSON], AsyncIterator[JSON]] = Helpdesk(self)

    async def call(self, call: Call) -> JSON:
        attempt = 0
        while True:
            response = await self._http.request(**self._request(call))
            wait = self._wait(response, attempt)
            if wait is None:
                return answer(response)
            await asyncio.sleep(wait)
            attempt += 1

    async def pages(self, pages: Pages) -> AsyncIterator[JSON]:
        cursor = None
        while True:
            page = await self.call(_with_cursor(pages.call, cursor))
            for item in page.get(pages.items, []):
                yield item
            cursor = page.get(pages.next_cursor)
            if not cursor:
                return

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
