"""``/mcp``: the MCP server's streamable-HTTP transport inside ``tinydesk serve``, on its own
port, when TINYDESK_MCP=true. The SDK's transport is ASGI; ``bot.mcp.asgi`` bridges it.

The tools of an MCP request call the API of the server that took the request, at the local
address the request came in on (so whatever interface ``serve`` listens on), carrying the
request's ``Authorization: Bearer <desk key>`` (none: only the public tools work), its Host
(the tracking links point where the agent reached TinyDesk) and its X-Forwarded-For. So the
API's own handlers, guards and limits do all the work, as for any client.

A session belongs to the credential that opened it: the SDK answers 404 to its id sent with
another key, or with none (``scope["user"]``, below), so a session id alone is worth nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import aiohttp
from aiohttp import web
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from yarl import URL

from bot.appkeys import SETTINGS
from bot.errors import ApiError
from bot.http.auth import bearer_token
from bot.mcp.api import FORWARDED_HEADERS, ApiCaller
from bot.mcp.asgi import answer_with
from bot.mcp.server import build_server

log = logging.getLogger(__name__)

PATH = "/mcp"
# Sessions open at once (each a few objects and, while a client listens, one stream).
MAX_SESSIONS = 1000
CALLER = "tinydesk.api_caller"  # the scope's state: this request's ApiCaller
KEY_HINT = "Send it on the MCP connection as `Authorization: Bearer <desk key>`."
ORIGIN_HINT = (
    "A browser page may use /mcp only from TinyDesk's own origin (its Host, or "
    "TINYDESK_PUBLIC_URL); other MCP clients send no Origin header."
)


class McpEndpoint:
    """The MCP server, its session manager (run in a task of its own, so that the SDK's
    task group is entered and left in one task) and the HTTP client its tools call with."""

    def __init__(self) -> None:
        self.server = build_server(caller_of)
        # Rebinding protection off: it would need every Host name TinyDesk is reached by. It
        # guards nothing here: the tools are the public API's (open to anyone) and the desk
        # API's (a desk key, which a browser never adds on its own). Origin: ``serve_mcp``.
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_sessions=MAX_SESSIONS,
        )
        self.manager = self.server.session_manager
        self.http: aiohttp.ClientSession | None = None
        self._stop = asyncio.Event()
        self._running: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        started = asyncio.Event()

        async def run() -> None:
            async with self.manager.run():
                started.set()
                await self._stop.wait()

        self._running = asyncio.create_task(run(), name="mcp-sessions")
        ready = asyncio.ensure_future(started.wait())
        await asyncio.wait({ready, self._running}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():  # the manager failed to start: its error stops the start
            ready.cancel()
            await self._running

    async def stop(self) -> None:
        """End every session (their open streams end with them), then close the client."""
        self._stop.set()
        if self._running is not None:
            await self._running
            self._running = None
        if self.http is not None:
            await self.http.close()
            self.http = None

    def caller_for(self, request: web.Request) -> ApiCaller:
        if self.http is None:
            raise ApiError(503, "MCP endpoint stopping", "TinyDesk is stopping; try again.")
        local = request.transport.get_extra_info("sockname") if request.transport else None
        if not isinstance(local, tuple):
            raise ApiError(503, "MCP endpoint unavailable", "The connection has no address.")
        host = f"[{local[0]}]" if ":" in local[0] else local[0]
        headers = request.headers
        forwarded = {name: headers[name] for name in FORWARDED_HEADERS if name in headers}
        return ApiCaller(
            self.http,
            f"http://{host}:{local[1]}",
            desk_key=bearer_token(request),
            forwarded=forwarded,
            key_hint=KEY_HINT,
        )


MCP_ENDPOINT = web.AppKey("mcp_endpoint", McpEndpoint)


def caller_of(ctx: Context) -> ApiCaller:
    """The ApiCaller ``serve_mcp`` put in the scope of the HTTP request behind ``ctx``."""
    request: Any = ctx.request_context.request
    caller = request.scope["state"].get(CALLER) if request is not None else None
    if not isinstance(caller, ApiCaller):
        raise RuntimeError("an MCP request reached TinyDesk's tools without its HTTP request")
    return caller


async def serve_mcp(request: web.Request) -> web.StreamResponse:
    """Every method on /mcp: POST (messages; answers as server-sent events), GET (the
    session's event stream) and DELETE (end the session)."""
    refuse_other_origins(request)
    endpoint = request.config_dict[MCP_ENDPOINT]
    caller = endpoint.caller_for(request)
    extra: dict[str, Any] = {"state": {CALLER: caller}}
    if caller.desk_key is not None:
        extra["user"] = key_holder(caller.desk_key)
    return await answer_with(endpoint.manager.handle_request, request, **extra)


def key_holder(desk_key: str) -> AuthenticatedUser:
    """Who opened a session, for the SDK's check that its later requests come from the same
    credential: the key's hash, never the key itself (the API judges the key, each call)."""
    digest = hashlib.sha256(desk_key.encode()).hexdigest()
    return AuthenticatedUser(AccessToken(token=digest, client_id=f"desk-key:{digest}", scopes=[]))


def refuse_other_origins(request: web.Request) -> None:
    """The MCP specification's Origin check: a browser page of another site may not drive
    an agent's session (the answer is 403 before any MCP message is read)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    public_url = request.config_dict[SETTINGS].public_url
    allowed = {request.host.lower()}
    if public_url:
        allowed.add(URL(public_url).raw_authority.lower())
    try:
        authority = URL(origin).raw_authority.lower()
    except ValueError:
        authority = ""
    if authority not in allowed:
        raise ApiError(403, "Origin not allowed", ORIGIN_HINT)


def mount(app: web.Application) -> None:
    """``/mcp`` on ``app``. The sessions end at ``on_shutdown``, before aiohttp waits for the
    requests in flight: an open event stream would otherwise hold the stop for its grace."""
    app[MCP_ENDPOINT] = McpEndpoint()
    app.router.add_route("*", PATH, serve_mcp)

    async def start(app: web.Application) -> None:
        await app[MCP_ENDPOINT].start()

    async def stop(app: web.Application) -> None:
        await app[MCP_ENDPOINT].stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    app.on_cleanup.append(stop)  # when the start failed further on, and no shutdown ran
    log.info("MCP endpoint at %s (streamable HTTP)", PATH)
