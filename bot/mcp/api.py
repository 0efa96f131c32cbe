"""The HTTP calls behind the MCP tools: TinyDesk's own API, so that its validation, rate
limits, key scopes and error messages are the tools' own, word for word. An answer of 4xx
or 5xx (or none at all) becomes an ``ApiProblem``."""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from bot.views.public import TOKEN_HEADER

# An MCP tool waits at most this long for the API (which answers in milliseconds).
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Headers of the MCP client's own request that the API calls carry on (the HTTP transport):
# Host, so the tracking links point where the client reached TinyDesk; X-Forwarded-For, so
# that behind TINYDESK_TRUST_PROXY the public limits count the agent, not the loopback.
FORWARDED_HEADERS = ("Host", "X-Forwarded-For")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class ApiProblem(Exception):
    """What the API said instead of an answer: its ``{"error", "hint", "fields"}`` and
    whatever else its error body holds (``retryAfter`` on a 429), with the HTTP status (None
    when the API was never reached)."""

    def __init__(
        self,
        status: int | None,
        error: str,
        hint: str | None = None,
        *,
        fields: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.hint = hint
        self.fields = dict(fields or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The API's error body, with the status beside it (a tool result's structured part)."""
        body: dict[str, Any] = {"status": self.status, "error": self.error, "hint": self.hint}
        if self.fields:
            body["fields"] = self.fields
        return {**self.extra, **body}

    def text(self) -> str:
        """One line for the error and its hint, then one per failing field."""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        lines = [f"{self.error}{status}" + (f": {self.hint}" if self.hint else "")]
        lines += [f"- {field}: {message}" for field, message in self.fields.items()]
        return "\n".join(lines)


def segment(ref: str) -> str:
    """``ref`` as one path segment, whatever it holds: ``/``, ``?``, ``%`` and dots are
    escaped, so ``..`` or ``x/../../admin`` stays a (not found) ticket id and never climbs
    to another route."""
    return urllib.parse.quote(ref, safe="").replace(".", "%2E")


@dataclasses.dataclass(frozen=True)
class ApiCaller:
    """Calls TinyDesk at ``base_url`` for one MCP client: with its desk key (or none) and the
    headers of its own request worth carrying on (``FORWARDED_HEADERS``)."""

    http: aiohttp.ClientSession
    base_url: str
    desk_key: str | None = dataclasses.field(default=None, repr=False)
    forwarded: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # How this client gives a desk key, for the error of a desk tool called without one.
    key_hint: str = "Give the MCP server a desk API key."

    async def submit_ticket(
        self, fields: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key is not None else {}
        return await self.send("POST", "/api/tickets", json_body=dict(fields), headers=headers)

    async def ticket_status(self, public_id: str, token: str | None = None) -> dict[str, Any]:
        headers = {TOKEN_HEADER: token} if token else {}
        return await self.send("GET", f"/api/tickets/{segment(public_id)}", headers=headers)

    async def desk(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A call under /api/v1/desk with the desk key; without a key, not sent at all."""
        if not self.desk_key:
            raise ApiProblem(
                None,
                "Desk key required",
                f"This tool calls the help-desk API, which needs a desk API key. {self.key_hint}",
            )
        headers = {"Authorization": f"Bearer {self.desk_key}"}
        return await self.send(
            method, f"/api/v1/desk{path}", json_body=json_body, params=params, headers=headers
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {**self.forwarded, **(headers or {})}
        for name, value in headers.items():
            if _CONTROL.search(value):
                # aiohttp would refuse it (header injection): say which, not "unreachable".
                raise ApiProblem(
                    None,
                    f"Invalid {name}",
                    f"{name} is sent as an HTTP header: it must not hold control characters "
                    "(line breaks, NUL).",
                )
        # encoded=True: the path is sent as written, escapes and all (``segment``).
        url = URL(f"{self.base_url.rstrip('/')}{path}", encoded=True)
        if params:
            url = url.with_query(dict(params))
        try:
            async with self.http.request(
                method,
                url,
                json=json_body,
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,
            ) as resp:
                text, status = await resp.text(errors="replace"), resp.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ApiProblem(
                None,
                "TinyDesk unreachable",
                f"No answer from {self.base_url} ({type(exc).__name__}: {exc or 'no detail'}); "
                "is `tinydesk serve` running there?",
            ) from exc
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if status < 400 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            hint, fields = body.pop("hint", None), body.pop("fields", None)
            raise ApiProblem(
                status,
                body.pop("error"),
                hint if isinstance(hint, str) else None,
                fields=fields if isinstance(fields, dict) else None,
                extra=body,
            )
        raise ApiProblem(
            status, "Unexpected answer", f"TinyDesk answered HTTP {status} without a JSON body."
        )
