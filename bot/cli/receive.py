"""``tinydesk receive``: sign a payload file like GitHub does and post it to a running server
(bot/sim/hookshot.py builds on the signed headers made here, so the product never imports the
simulator)."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import hashlib
import hmac
import json
import sys
import uuid
from pathlib import Path

import aiohttp

from bot.config import Settings
from webhooks import IMPLICIT_EVENTS, SUBSCRIBED_EVENTS

# What the server does something with: the events the router subscribes to (app.yml's list,
# kept in step with the router by a test) and those GitHub sends every App.
KNOWN_EVENTS = (*SUBSCRIBED_EVENTS, *IMPLICIT_EVENTS)


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def load_payload(path: Path) -> bytes:
    """The file's JSON, compacted; Probot-style fixtures ``{"name", "payload"}`` are unwrapped."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("payload"), dict) and "name" in data:
        data = data["payload"]
    return json.dumps(data, separators=(",", ":")).encode()


def delivery_headers(
    event: str,
    body: bytes,
    secret: str,
    *,
    delivery_id: str | None,
    agent: str = "GitHub-Hookshot/tinydesk-receive",
    **extra: str,
) -> dict[str, str]:
    """The headers GitHub sends with a delivery of ``body``, signed with ``secret``
    (``X-Hub-Signature-256``); ``delivery_id`` None leaves ``X-GitHub-Delivery`` out (a load
    generator replaying one body sets its own)."""
    made = {
        "Content-Type": "application/json",
        "User-Agent": agent,
        "X-GitHub-Event": event,
        "X-Hub-Signature-256": signature(body, secret),
        **extra,
    }
    if delivery_id is not None:
        made["X-GitHub-Delivery"] = delivery_id
    return made


async def post_delivery(
    url: str, event: str, body: bytes, secret: str, delivery_id: str | None = None
) -> tuple[int, str]:
    headers = delivery_headers(event, body, secret, delivery_id=delivery_id or str(uuid.uuid4()))
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


def register(commands: argparse._SubParsersAction) -> None:
    receive = commands.add_parser(
        "receive", help="sign a webhook payload file and post it to a running server"
    )
    receive.add_argument("event", help=f"the X-GitHub-Event name: one of {', '.join(KNOWN_EVENTS)}")
    receive.add_argument("payload", type=Path, help="a JSON file holding the delivery body")
    receive.add_argument(
        "--url", help="the webhook URL (default http://localhost:$PORT/webhooks/github)"
    )
    receive.add_argument("--delivery-id", help="X-GitHub-Delivery (default: a new UUID)")
    receive.add_argument(
        "--force",
        action="store_true",
        help="post an event TinyDesk does not subscribe to (it is stored and ignored)",
    )
    receive.set_defaults(func=cmd_receive)


def unknown_event(event: str) -> str | None:
    """Why ``event`` is refused (one line, with the closest known name), or None."""
    if event in KNOWN_EVENTS:
        return None
    close = difflib.get_close_matches(event, KNOWN_EVENTS, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"tinydesk receive: unknown event {event!r}: {guess}TinyDesk handles "
        f"{', '.join(KNOWN_EVENTS)} (--force posts it anyway)"
    )


def cmd_receive(args: argparse.Namespace, settings: Settings) -> int:
    refusal = None if args.force else unknown_event(args.event)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    if not settings.github_webhook_secret:
        print(
            "tinydesk: set GITHUB_WEBHOOK_SECRET (the server's) to sign the delivery",
            file=sys.stderr,
        )
        return 2
    try:
        body = load_payload(args.payload)
    except (OSError, ValueError) as exc:
        print(f"tinydesk: cannot read {args.payload}: {exc}", file=sys.stderr)
        return 2
    url = args.url or f"http://localhost:{settings.port}/webhooks/github"
    try:
        status, text = asyncio.run(
            post_delivery(url, args.event, body, settings.github_webhook_secret, args.delivery_id)
        )
    except OSError as exc:
        print(f"tinydesk: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(f"{status} {text}")
    return 0 if 200 <= status < 300 else 1
