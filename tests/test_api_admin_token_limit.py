"""Guessing the admin token over the admin API is limited per client address, as the sign-in
form is, and both draw on one budget: five wrong tokens, then 429 with Retry-After (the right
token included) until the five-minute window ends. Time is moved, never slept."""

from __future__ import annotations

import dataclasses

from bot.config import Settings
from bot.http.ratelimit import RATE_LIMITER
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.web_helpers import csrf_token

T0 = 1_771_322_400.0  # the start of a five-minute window
WRONG = {"Authorization": "Bearer not-the-admin-token-but-long-enough-000"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def frozen(client, now: float) -> Clock:
    clock = Clock(now)
    client.server.app[RATE_LIMITER].clock = clock
    return clock


async def test_forty_wrong_tokens_then_the_right_one_are_not_all_answered(client):
    """The issue's reproduction: after five wrong tokens the address is refused, so the sixth
    guess and every later one (even the right token) get a 429 with the JSON error shape."""
    clock = frozen(client, T0 + 100)
    for _ in range(5):
        resp = await client.get("/api/admin/products", headers=WRONG)
        assert resp.status == 401
    statuses = []
    for _ in range(35):
        resp = await client.get("/api/admin/products", headers=WRONG)
        statuses.append(resp.status)
    assert set(statuses) == {429}
    right = await client.get("/api/admin/products", headers=ADMIN_HEADERS)
    assert right.status == 429
    assert right.headers["Retry-After"] == "200"
    body = await right.json()
    assert body["error"] == "Too many requests" and body["retryAfter"] == 200
    assert "Try again in 200 seconds" in body["hint"]
    # A missing token counts as a wrong one too (it is refused the same way meanwhile).
    assert (await client.get("/api/admin/products")).status == 429
    # When the window ends, the right token works again.
    clock.now = T0 + 300
    assert (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).status == 200


async def test_the_right_token_is_never_counted(client):
    frozen(client, T0)
    for _ in range(20):
        assert (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).status == 200


async def test_the_limit_is_per_client_address(make_client):
    settings = dataclasses.replace(Settings(admin_token=ADMIN_TOKEN), trust_forwarded_for=True)
    client = await make_client(settings)
    frozen(client, T0)
    attacker = {**WRONG, "X-Forwarded-For": "203.0.113.66"}
    for _ in range(6):
        await client.get("/api/admin/products", headers=attacker)
    assert (await client.get("/api/admin/products", headers=attacker)).status == 429
    admin = {**ADMIN_HEADERS, "X-Forwarded-For": "198.51.100.7"}
    assert (await client.get("/api/admin/products", headers=admin)).status == 200


async def test_wrong_bearer_tokens_and_wrong_sign_ins_share_one_budget(client):
    """Both guess the same secret: three on the API and two on the form use up the five."""
    frozen(client, T0)
    for _ in range(3):
        assert (await client.get("/api/admin/products", headers=WRONG)).status == 401
    for _ in range(2):
        page = await client.get("/admin/sign-in")
        wrong = await client.post(
            "/admin/sign-in",
            data={"csrf_token": csrf_token(await page.text()), "token": "wrong"},
            allow_redirects=False,
        )
        assert wrong.status == 401
    page = await client.get("/admin/sign-in")
    blocked = await client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_token(await page.text()), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) == 300
    assert (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).status == 429
