"""A test world for the GitHub bridge: TinyDesk wired to the fake GitHub, one product, and
helpers to submit tickets, deliver signed webhooks and run the workers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update

from bot.appkeys import DB
from bot.config import Settings
from bot.jobs.worker import WORKERS
from bot.sim import payloads, stack
from bot.sim.fakegithub import FakeGitHub
from storage.models import Delivery, Job, QueueState
from storage.repos import queue
from storage.types import utcnow
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.payloads import delivery_headers, encode, make_event

WEBHOOK_SECRET = "test-webhook-secret"
OWNER, REPO = "octo-org", "my-saas-app"
FULL_NAME = f"{OWNER}/{REPO}"
INSTALLATION_ID = 1001


def github_settings(fake: FakeGitHub, **overrides: Any) -> Settings:
    """TinyDesk as the App whose API is ``fake`` (``bot.sim.stack``), workers off."""
    values = stack.github_settings(
        fake,
        WEBHOOK_SECRET,
        admin_token=ADMIN_TOKEN,
        public_url="https://desk.example.test",
        run_workers=False,
    )
    values.update(overrides)
    return Settings(**values)


def stamp(payload: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    """Give the event's objects the time ``when`` (fixtures carry times from years ago)."""
    return payloads.stamp(payload, when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclasses.dataclass
class World:
    client: Any
    fake: FakeGitHub

    async def submit(self, subject: str = "Login button unresponsive on Safari", **extra) -> dict:
        body = {
            "productSlug": "my-saas-app",
            "submitterEmail": "agent@example.com",
            "submitterName": "AI Agent v2",
            "subject": subject,
            "body": "Steps:\n1. Open Safari\n2. Click Sign In",
            **extra,
        }
        resp = await self.client.post("/api/tickets", json=body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    def event(self, name: str, *, at: dt.datetime | None = None, **options) -> tuple[str, dict]:
        options.setdefault("repo", FULL_NAME)
        options.setdefault("installation_id", INSTALLATION_ID)
        event, payload = make_event(name, **options)
        return event, stamp(payload, at or dt.datetime.now(dt.UTC))

    async def post(
        self,
        event: str,
        payload: dict,
        *,
        delivery_id: str | None = None,
        secret: str = WEBHOOK_SECRET,
    ):
        body = encode(payload)
        headers = delivery_headers(event, body, secret, delivery_id or str(uuid.uuid4()))
        return await self.client.post("/webhooks/github", data=body, headers=headers)

    async def deliver(
        self, name: str, *, at: dt.datetime | None = None, delivery_id: str | None = None, **options
    ):
        event, payload = self.event(name, at=at, **options)
        resp = await self.post(event, payload, delivery_id=delivery_id)
        assert resp.status == 202, await resp.text()
        return resp

    def add_fix(self, issue_number: int, *, draft: bool = False) -> int:
        """A pull request on the fake GitHub that says it fixes the issue; its number."""
        return self.fake.add_pull(
            OWNER, REPO, head_sha="c" * 40, body=f"Fixes #{issue_number}", draft=draft
        )

    async def merge(
        self, issue_number: int, pr: int, merge_sha: str, *, at: dt.datetime | None = None
    ):
        return await self.deliver(
            "pull_request.closed",
            at=at,
            pr_number=pr,
            pr_body=f"Fixes #{issue_number}",
            merged=True,
            merge_commit_sha=merge_sha,
        )

    async def deploy(
        self, sha: str, environment: str = "production", state: str = "success", **options
    ):
        return await self.deliver(
            "deployment_status.created",
            sha=sha,
            environment=environment,
            deployment_state=state,
            **options,
        )

    async def drain(self) -> int:
        return await self.client.app[WORKERS].drain()

    async def settle(self, *, rounds: int = 60) -> None:
        """Drain the queues, making retries due at once, until nothing is left to do."""
        db = self.client.app[DB]
        for _ in range(rounds):
            await self.drain()
            async with db.begin() as session:
                waiting = 0
                for model in (Delivery, Job):
                    result = await session.execute(
                        update(model)
                        .where(model.state == QueueState.PENDING)
                        .values(next_attempt_at=utcnow())
                    )
                    waiting += result.rowcount
            if not waiting:
                return
        raise AssertionError(f"work still pending after {rounds} rounds")

    async def queue_states(self) -> dict[str, dict[str, int]]:
        async with self.client.app[DB].session() as session:
            return {
                "deliveries": await queue.counts(session, Delivery),
                "jobs": await queue.counts(session, Job),
            }

    async def track(self, public_id: str, token: str | None = None) -> dict:
        url = f"/api/tickets/{public_id}" + (f"?token={token}" if token else "")
        resp = await self.client.get(url)
        assert resp.status == 200
        return await resp.json()

    async def stage(self, public_id: str) -> str:
        return (await self.track(public_id))["status"]

    def status_comments(self, issue_number: int) -> list[dict]:
        return [
            c
            for c in self.fake.comments_on(OWNER, REPO, issue_number)
            if "<!-- tinydesk:status -->" in (c.get("body") or "")
        ]


async def make_world(make_client, fake: FakeGitHub, **settings_overrides) -> World:
    fake.add_installation(INSTALLATION_ID, OWNER, [FULL_NAME])
    client = await make_client(github_settings(fake, **settings_overrides))
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": FULL_NAME},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    return World(client, fake)
