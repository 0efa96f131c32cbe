"""GitHub App authentication, the installation-token cache and honouring GitHub's limits."""

from __future__ import annotations

import datetime as dt
import time

import aiohttp
import jwt
from sqlalchemy import select

from bot.appkeys import DB
from bot.github.client import GitHubApp, app_jwt
from bot.sim.fakegithub import APP_ID, generate_app_key
from storage.models import Job
from tests.world import OWNER, REPO

TOKEN_OP = "POST /app/installations/{installation_id}/access_tokens"


def test_app_jwt_is_backdated_short_lived_and_names_the_app():
    private, public = generate_app_key()
    now = time.time()
    token = app_jwt("424242", private, now=now)
    claims = jwt.decode(
        token, public, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert claims["iss"] == "424242"
    assert int(now) - 60 == claims["iat"]
    assert claims["exp"] - claims["iat"] <= 600  # GitHub's own bound
    assert now < claims["exp"] < now + 600  # expires in under 10 minutes


async def test_installation_tokens_are_cached_and_renewed(fake_github):
    fake_github.add_installation(7, OWNER, [f"{OWNER}/{REPO}"])
    async with aiohttp.ClientSession() as http:
        app = GitHubApp(
            http,
            app_id=str(APP_ID),
            private_key=generate_app_key()[0],
            base_url=fake_github.base_url,
        )
        first = await app.installation_token(7)
        assert await app.installation_token(7) == first
        assert fake_github.count(TOKEN_OP) == 1
        # A revoked or expired token: the 401 drops it, so the next attempt gets a new one.
        fake_github.expire_tokens()
        gh = await app.installation(7)
        try:
            await gh.getitem(
                "/repos/{owner}/{repo}/issues/{n}", {"owner": OWNER, "repo": REPO, "n": 999}
            )
        except Exception as exc:
            assert getattr(exc, "status", None) == 401
        assert await app.installation_token(7) != first
        assert fake_github.count(TOKEN_OP) == 2


async def test_installation_lookup_uses_the_app_jwt(fake_github):
    fake_github.add_installation(7, OWNER, [f"{OWNER}/{REPO}"])
    async with aiohttp.ClientSession() as http:
        app = GitHubApp(
            http,
            app_id=str(APP_ID),
            private_key=generate_app_key()[0],
            base_url=fake_github.base_url,
        )
        assert await app.find_installation(OWNER, REPO) == 7
        assert await app.find_installation("someone", "else") is None


async def test_an_exhausted_rate_limit_is_waited_out_until_reset(world):
    reset = int(time.time()) + 120
    world.fake.set_rate_limit(0, reset_at=reset)
    await world.submit()
    await world.drain()
    async with world.client.app[DB].session() as session:
        job = await session.scalar(select(Job).where(Job.kind == "create_issue"))
    assert job.state == "pending"
    wait = (job.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 100 <= wait <= 125, job.last_error
    calls_before = len(world.fake.calls)
    await world.drain()  # nothing is due: no call is spent on a request GitHub would refuse
    assert len(world.fake.calls) == calls_before
    world.fake.set_rate_limit(5000)
    await world.settle()
    assert len(world.fake.issues(OWNER, REPO)) == 1
    assert len(world.fake.calls) > calls_before
