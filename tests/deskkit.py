"""Helpers shared by the desk API tests: keys made through the admin API, and seed 001's
example request."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tests.conftest import ADMIN_HEADERS

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# Seed 001, POST /desk/tickets: the documented request.
SEED_TICKET = {
    "subject": "Login issue",
    "body": "User cannot sign in after password reset",
    "email": "customer@example.com",
    "priority": "high",
    "tags": ["login", "urgent"],
}


async def make_key(
    client, name: str = "agent@support.com", products: Sequence[str] = (), test: bool = False
) -> dict:
    """A new desk key via POST /api/admin/keys; the answer includes the key itself."""
    resp = await client.post(
        "/api/admin/keys",
        json={"name": name, "products": list(products), "test": test},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def bearer(key: dict | str) -> dict[str, str]:
    secret = key["key"] if isinstance(key, dict) else key
    return {"Authorization": f"Bearer {secret}"}


async def add_product(client, slug: str) -> dict:
    resp = await client.post(
        "/api/admin/products",
        json={"slug": slug, "repo": f"octo-org/{slug}"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def create_ticket(client, key: dict, **overrides) -> dict:
    resp = await client.post(
        "/api/v1/desk/tickets", json={**SEED_TICKET, **overrides}, headers=bearer(key)
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()
