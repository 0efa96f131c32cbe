"""The admin sign-in throttle counts per caller the way the rate limits do (one
``client_address``): a spoofed first X-Forwarded-For hop does not reset it."""

from __future__ import annotations

import dataclasses

from bot.config import Settings
from tests.conftest import ADMIN_TOKEN
from tests.web_helpers import csrf_token

ATTEMPTS = 5  # bot.http.ratelimit.ADMIN_TOKEN_FAILURES


async def sign_in_form_token(client) -> str:
    return csrf_token(await (await client.get("/admin/sign-in")).text())


async def try_token(client, csrf: str, token: str, forwarded_for: str):
    return await client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf, "token": token},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
    )


async def test_a_spoofed_first_hop_does_not_dodge_the_sign_in_throttle(make_client):
    settings = dataclasses.replace(Settings(admin_token=ADMIN_TOKEN), trust_forwarded_for=True)
    client = await make_client(settings)
    csrf = await sign_in_form_token(client)
    for n in range(ATTEMPTS):
        # The client writes whatever it likes first; our proxy appends the address it saw.
        resp = await try_token(client, csrf, "guess", f"198.51.100.{n + 1}, 203.0.113.7")
        assert resp.status == 401
    blocked = await try_token(client, csrf, ADMIN_TOKEN, "192.0.2.99, 203.0.113.7")
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many wrong tokens" in await blocked.text()
    # Another caller (another address seen by the proxy) is not held back.
    other = await try_token(client, csrf, ADMIN_TOKEN, "198.51.100.1, 203.0.113.8")
    assert other.status == 303


async def test_without_a_trusted_proxy_forwarded_for_is_ignored(make_client):
    client = await make_client(Settings(admin_token=ADMIN_TOKEN))
    csrf = await sign_in_form_token(client)
    for n in range(ATTEMPTS):
        resp = await try_token(client, csrf, "guess", f"203.0.113.{n + 1}")
        assert resp.status == 401
    # Every attempt came from the same peer, whatever the header said.
    blocked = await try_token(client, csrf, ADMIN_TOKEN, "203.0.113.200")
    assert blocked.status == 429
