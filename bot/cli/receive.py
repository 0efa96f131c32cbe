"""``tinydesk receive``: sign a payload file like GitHub does and post it to a running server."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import aiohttp


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def load_payload(path: Path) -> bytes:
    """The file's JSON, compacted; Probot-style fixtures ``{"name", "payload"}`` are unwrapped."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("payload"), dict) and "name" in data:
        data = data["payload"]
    return json.dumps(data, separators=(",", ":")).encode()


async def post_delivery(
    url: str, event: str, body: bytes, secret: str, delivery_id: str | None = None
) -> tuple[int, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/tinydesk-receive",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature(body, secret),
    }
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()
