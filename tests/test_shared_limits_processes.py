"""Two real ``tinydesk serve`` processes on one PostgreSQL database share their rate limits and
admin sessions, kept in the database or, with REDIS_URL, in Redis (storage.limits): behind a
load balancer a limit does not multiply by the number of processes, and an admin signed in on
one process is not bounced to the sign-in page by the other."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.sim.stack import ServerProcess
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN, _truncate_all
from tests.web_helpers import csrf_token

DESK_LIMIT = 100
WRONG = {"Authorization": "Bearer not-the-admin-token-but-long-enough-000"}


@pytest.fixture(params=["database", "redis"])
def shared_env(request: pytest.FixtureRequest, postgres_url: str) -> dict[str, str]:
    asyncio.run(_truncate_all(postgres_url))
    env = {
        "DATABASE_URL": postgres_url,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "REDIS_URL": "",
        "TINYDESK_DESK_RATE_LIMIT": str(DESK_LIMIT),
    }
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    return env


def cookie(response: aiohttp.ClientResponse, name: str) -> str:
    return response.cookies[name].value


def wait_for_a_fresh_minute(needed: float = 15.0) -> None:
    """The limits count per wall-clock minute: start where the whole test fits in one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.1)


@pytest.mark.slow
async def test_two_processes_share_desk_limits_admin_limits_and_sessions(shared_env, tmp_path):
    servers = [ServerProcess(shared_env, tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        a, b = (server.url for server in servers)
        jar = aiohttp.DummyCookieJar()  # cookies are carried by hand, from one port to another
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            # Which store each process uses is in its log.
            store = "redis" if shared_env["REDIS_URL"] else "database"
            for server in servers:
                assert f"rate limits and admin sessions are kept in {store}" in server.log()

            # The desk limit: 100 requests a minute per key, over both processes together.
            async with http.post(
                f"{a}/api/admin/keys", json={"name": "agent"}, headers=ADMIN_HEADERS
            ) as resp:
                assert resp.status == 201, await resp.text()
                key = {"Authorization": f"Bearer {(await resp.json())['key']}"}
            await asyncio.to_thread(wait_for_a_fresh_minute)
            for n in range(DESK_LIMIT):
                async with http.get(f"{(a, b)[n % 2]}/api/v1/desk/stats", headers=key) as resp:
                    assert resp.status == 200, (n, await resp.text())
                    assert resp.headers["X-RateLimit-Remaining"] == str(DESK_LIMIT - 1 - n)
            for url in (a, b):  # the 101st is refused whichever process it reaches
                async with http.get(f"{url}/api/v1/desk/stats", headers=key) as resp:
                    assert resp.status == 429
                    body = await resp.json()
                    assert body["error"] == "Too many requests" and body["hint"]
                    assert int(resp.headers["Retry-After"]) >= 1

            # An admin signed in on one process is signed in on the other.
            async with http.get(f"{a}/admin/sign-in") as resp:
                sign_in_cookie = cookie(resp, "tinydesk_admin_sign_in")
                form_token = csrf_token(await resp.text())
            async with http.post(
                f"{a}/admin/sign-in",
                data={"csrf_token": form_token, "token": ADMIN_TOKEN},
                headers={"Cookie": f"tinydesk_admin_sign_in={sign_in_cookie}"},
                allow_redirects=False,
            ) as resp:
                assert resp.status == 303
                session = {"Cookie": f"tinydesk_admin={cookie(resp, 'tinydesk_admin')}"}
            async with http.get(f"{b}/admin", headers=session, allow_redirects=False) as resp:
                assert resp.status == 200 and "Signed in as admin." in await resp.text()
                page = await resp.text()
            # Signing out on the second process signs out on the first.
            async with http.post(
                f"{b}/admin/sign-out",
                data={"csrf_token": csrf_token(page)},
                headers=session,
                allow_redirects=False,
            ) as resp:
                assert resp.status == 303
            async with http.get(f"{a}/admin", headers=session, allow_redirects=False) as resp:
                assert resp.status == 303 and "/admin/sign-in" in resp.headers["Location"]

            # Wrong admin tokens: five in all, spread over both processes, then 429 on either.
            for n in range(5):
                async with http.get(f"{(a, b)[n % 2]}/api/admin/products", headers=WRONG) as resp:
                    assert resp.status == 401
            for url in (a, b):
                async with http.get(f"{url}/api/admin/products", headers=ADMIN_HEADERS) as resp:
                    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        assert "Traceback" not in server.log()
