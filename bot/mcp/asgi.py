"""An ASGI application answering one aiohttp request: the bridge that lets ``tinydesk serve``
mount the MCP SDK's streamable-HTTP transport (ASGI, Starlette) on its own port.

The scope comes from the aiohttp request; ``receive`` hands over the body as it arrives,
then ``http.disconnect`` once the client is gone or the answer is complete; ``send`` starts
the answer and streams it: a body sent in one message becomes a plain ``web.Response``
(with its Content-Length), one sent in parts (server-sent events) a ``web.StreamResponse``
written part by part, each part on the wire as it is sent. What is sent to a client that hung
up is dropped (as uvicorn, the server the SDK is made with, does); ``receive`` tells the
application.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_CHUNK = 64 * 1024
# aiohttp tells a handler nothing when its client leaves: a stream waiting for events
# looks at the connection this often (only while nothing else is happening).
DISCONNECT_POLL_SECONDS = 0.5
# aiohttp writes these itself, from the body it is given.
FRAMING_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"connection"})


async def answer_with(asgi: ASGIApp, request: web.Request, **extra: Any) -> web.StreamResponse:
    """Run ``asgi`` for ``request`` and return its answer; ``extra`` joins the scope (``state``:
    what a Starlette application reads as ``request.state``; ``user``)."""
    exchange = _Exchange(request)
    try:
        await asgi({**http_scope(request), **extra}, exchange.receive, exchange.send)
    except Exception:
        if exchange.stream is None:
            raise  # nothing sent yet: the error middleware answers
        # Too late for another answer: the stream is ended below.
        if exchange.client_gone():
            log.info("client hung up mid-stream", extra={"path": request.path})
        else:
            log.exception("ASGI application failed mid-stream", extra={"path": request.path})
    finally:
        exchange.finished.set()
    return await exchange.response()


def http_scope(request: web.Request) -> Scope:
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport else None
    local = transport.get_extra_info("sockname") if transport else None
    path, _, query = request.raw_path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": path.encode("latin-1", "replace"),
        "query_string": query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": (peer[0], peer[1]) if isinstance(peer, tuple) else None,
        "server": (local[0], local[1]) if isinstance(local, tuple) else None,
        "state": {},
    }


class _Exchange:
    """One request's ``receive`` and ``send``, and the aiohttp answer they build."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.body_done = False
        self.finished = asyncio.Event()
        self.status: int | None = None
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.whole: web.Response | None = None
        self.stream: web.StreamResponse | None = None
        self.complete = False
        self.hung_up = False

    async def receive(self) -> Message:
        if not self.body_done:
            chunk = await self.request.content.read(BODY_CHUNK)
            self.body_done = not chunk or self.request.content.at_eof()
            return {"type": "http.request", "body": chunk, "more_body": not self.body_done}
        while not (self.finished.is_set() or self.complete or self.client_gone()):
            try:
                await asyncio.wait_for(self.finished.wait(), DISCONNECT_POLL_SECONDS)
            except TimeoutError:
                pass
        return {"type": "http.disconnect"}

    def client_gone(self) -> bool:
        transport = self.request.transport
        return self.hung_up or transport is None or transport.is_closing()

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("http.response.start sent twice")
            self.status = int(message["status"])
            for name, value in message.get("headers", ()):
                if bytes(name).lower() not in FRAMING_HEADERS:
                    self.headers.add(bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        elif kind == "http.response.body":
            await self._body(bytes(message.get("body", b"")), bool(message.get("more_body")))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    async def _body(self, body: bytes, more: bool) -> None:
        if self.status is None:
            raise RuntimeError("http.response.body before http.response.start")
        if self.complete:
            raise RuntimeError("http.response.body after the last one")
        if self.stream is None and not more:
            self.whole = web.Response(status=self.status, headers=self.headers, body=body)
            self.complete = True
            return
        if self.hung_up:
            return
        try:
            if self.stream is None:
                self.stream = web.StreamResponse(status=self.status, headers=self.headers)
                await self.stream.prepare(self.request)
            if body:
                await self.stream.write(body)
            if not more:
                await self.stream.write_eof()
                self.complete = True
        except ConnectionResetError:
            # The client has what it wanted (an MCP client closes an event stream once its
            # answer is in, before the last chunk): the rest is dropped, as uvicorn does, and
            # ``receive`` says the client is gone.
            self.hung_up = True

    async def response(self) -> web.StreamResponse:
        if self.whole is not None:
            return self.whole
        if self.stream is not None:
            if not (self.complete or self.client_gone()):
                # The application stopped mid-stream (cancelled, or it failed): end the
                # chunked body properly if the client is still there.
                try:
                    await self.stream.write_eof()
                except (OSError, RuntimeError):
                    log.debug("could not finish a streamed answer", exc_info=True)
            return self.stream
        if self.status is not None:
            return web.Response(status=self.status, headers=self.headers)
        raise RuntimeError("the ASGI application returned without answering")
