"""``tinydesk mcp``: TinyDesk's MCP server on stdio, for an agent that launches it (Claude
Desktop's ``mcpServers``, an IDE). It holds no data: each tool calls the HTTP API of a running
TinyDesk (``--url``), with the desk key of TINYDESK_API_KEY when there is one."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import aiohttp

from bot.config import Settings
from bot.logs import configure_logging

log = logging.getLogger(__name__)

KEY_HINT = (
    "Set TINYDESK_API_KEY in the environment of `tinydesk mcp` (in the agent's MCP server "
    "entry) to a desk key from `tinydesk keys create`."
)


def register(commands: argparse._SubParsersAction) -> None:
    mcp = commands.add_parser(
        "mcp",
        help="serve TinyDesk's MCP tools on stdio, for an agent (talks to a running server)",
        description="Speak MCP on stdin/stdout: submit_ticket and get_ticket_status for "
        "anyone; list_tickets, get_ticket and add_comment with the desk key in "
        "TINYDESK_API_KEY. Every tool calls the HTTP API of the TinyDesk at URL.",
    )
    mcp.add_argument(
        "--url",
        help="the TinyDesk server (default $TINYDESK_URL, else http://127.0.0.1:$PORT, "
        "PORT defaulting to 8000)",
    )
    mcp.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    base = (args.url or settings.tinydesk_url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    if not base.startswith(("http://", "https://")):
        print(f"tinydesk mcp: --url must be an http(s) URL, got {base!r}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.debug_loggers)  # stderr: stdout is MCP's
    try:
        asyncio.run(serve_stdio(base, settings.desk_api_key))
    except KeyboardInterrupt:
        pass
    return 0


async def serve_stdio(base_url: str, desk_key: str | None) -> None:
    """Until the agent closes stdin."""
    # Imported here: the SDK is heavy, and every other command does without it.
    from bot.mcp.api import ApiCaller
    from bot.mcp.server import build_server

    async with aiohttp.ClientSession() as http:
        caller = ApiCaller(http, base_url, desk_key=desk_key, key_hint=KEY_HINT)
        server = build_server(lambda ctx: caller)
        log.info(
            "MCP on stdio for %s (%s)",
            base_url,
            "with a desk key" if desk_key else "public tools only: no TINYDESK_API_KEY",
        )
        await server.run_stdio_async()
