"""``tinydesk receive``: sign a payload file like GitHub does and post it to a running server
(bot/sim/hookshot.py builds on the signed headers made here, so the product never imports the
simulator)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import uuid
from pathlib import Path

import aiohttp

from bot.config import Settings


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
    receive.add_argument("event", help="the X-GitHub-Event name, e.g. pull_request")
    receive.add_argument("payload", type=Path, help="a JSON file holding the delivery body")
    receive.add_argument(
        "--url", help="the webhook URL (default http://localhost:$PORT/webhooks/github)"
    )
    receive.add_argument("--delivery-id", help="X-GitHub-Delivery (default: a new UUID)")
    receive.set_defaults(func=cmd_receive)


def cmd_receive(args: argparse.Namespace, settings: Settings) -> int:
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
