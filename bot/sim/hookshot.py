"""GitHub's Hookshot, simulated: sign a webhook delivery and POST it as GitHub does.

The signing itself stays in ``bot.cli.receive`` (``signature``), because ``tinydesk
receive`` is part of the product and must not import the simulator; this module builds the
whole delivery on it for the demo, the tests and the benchmark.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from bot.cli.receive import signature
from bot.sim.payloads import encode

AGENT = "GitHub-Hookshot/tinydesk-sim"


def new_delivery_id() -> str:
    """A fresh ``X-GitHub-Delivery`` (GitHub's are UUIDs)."""
    return str(uuid.uuid4())


def headers(
    event: str,
    body: bytes,
    secret: str,
    *,
    delivery_id: str | None,
    agent: str = AGENT,
    **extra: str,
) -> dict[str, str]:
    """The headers of a delivery of ``body``, signed with ``secret`` (``X-Hub-Signature-256``);
    ``delivery_id`` None leaves ``X-GitHub-Delivery`` out (a load replaying one body)."""
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


async def deliver(
    http: aiohttp.ClientSession,
    url: str,
    event: str,
    payload: dict[str, Any],
    secret: str,
    *,
    agent: str = AGENT,
    **extra: str,
) -> tuple[int, str, str]:
    """POST ``payload`` as a signed delivery of ``event`` to ``url``: ``(status, text, id)``."""
    body = encode(payload)
    delivery_id = new_delivery_id()
    sent = headers(event, body, secret, delivery_id=delivery_id, agent=agent, **extra)
    async with http.post(url, data=body, headers=sent) as resp:
        return resp.status, await resp.text(), delivery_id
