"""GitHub's Hookshot, simulated: sign a webhook delivery and POST it as GitHub does.

The signed headers are made by ``bot.cli.receive.delivery_headers``, because ``tinydesk
receive`` is part of the product and must not import the simulator; this module delivers
on them for the demo.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from bot.cli.receive import delivery_headers
from bot.sim.payloads import encode

AGENT = "GitHub-Hookshot/tinydesk-sim"


def new_delivery_id() -> str:
    """A fresh ``X-GitHub-Delivery`` (GitHub's are UUIDs)."""
    return str(uuid.uuid4())


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
    sent = delivery_headers(event, body, secret, delivery_id=delivery_id, agent=agent, **extra)
    async with http.post(url, data=body, headers=sent) as resp:
        return resp.status, await resp.text(), delivery_id
