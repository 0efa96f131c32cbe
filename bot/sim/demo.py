"""``tinydesk demo``: TinyDesk and a simulated GitHub in one process, a ticket's whole journey.

Everything is local and thrown away afterwards (``bot.sim.stack``): a temporary SQLite
file, the fake GitHub (``bot.sim.fakegithub``) on a loopback port, and TinyDesk itself,
configured as a GitHub App whose API is the fake. The demo registers a product, submits a
ticket through the public API, prints its tracking URL, then plays the developers: for each
step it changes the fake GitHub as a person would (assign the issue, open a draft PR, ...)
and posts the webhook GitHub would send (built from GitHub's own examples by
``bot.sim.payloads``), signed with the webhook secret, to TinyDesk's real
``/webhooks/github`` (``bot.sim.hookshot``). So the demo runs the same receiver, workers
and GitHub client as production.

``bot.cli`` calls ``register(commands)``; ``run_demo(options)`` is the async entry point.
A little past 400 lines: the story (eight steps, each changing the fake GitHub and posting
the delivery it causes) and its waits read best in one place.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import aiohttp
from sqlalchemy import select

from bot.config import Settings
from bot.github.comments import STATUS_MARKER
from bot.rules.poll_schedule import BASE_SECONDS
from bot.sim import hookshot
from bot.sim.events import PR_TITLE, Payloads
from bot.sim.fakegithub import FakeGitHub
from bot.sim.stack import Stack
from storage.database import Database
from storage.models import Delivery, QueueState

OWNER, REPO = "demo-org", "demo-app"
FULL_NAME = f"{OWNER}/{REPO}"
PRODUCT_SLUG = "demo-app"
INSTALLATION_ID = 4242
DEVELOPER = "dana-dev"
REVIEWER = "ravi-reviewer"
# A little longer than the tracking page's poll, so that the person sees every stage.
DEFAULT_PAUSE = BASE_SECONDS + 1
# The person needs a moment to open the printed URL before the developers start.
FIRST_PAUSE_FACTOR = 2.5
STAGE_TIMEOUT = 30.0

SAMPLE_TICKET = {
    "productSlug": PRODUCT_SLUG,
    "submitterEmail": "ada@example.com",
    "submitterName": "Ada (demo)",
    "subject": "Sign-in button does nothing on Safari",
    "body": "Steps:\n1. Open the app in Safari 17\n2. Click Sign in\nNothing happens.",
}


class DemoFailed(Exception):
    """A stage was not reached (or GitHub was not told) in time; the message says which."""


# --------------------------------------------------------------------------- the demo


@dataclasses.dataclass(frozen=True)
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    pause: float = DEFAULT_PAUSE
    once: bool = False
    timeout: float = STAGE_TIMEOUT


class Demo:
    """One demo run: start, set up, play, stop. ``out`` receives the lines to print."""

    def __init__(self, options: DemoOptions, out: TextIO) -> None:
        self.options = options
        self.out = out
        self.admin_token = secrets.token_urlsafe(32)  # as README makes one (bot.config)
        self.webhook_secret = secrets.token_urlsafe(32)
        self.payloads = Payloads(OWNER, REPO, INSTALLATION_ID)
        self.stack = Stack(
            self.admin_token, self.webhook_secret, host=options.host, port=options.port
        )
        self.fake: FakeGitHub | None = None
        self.db: Database | None = None
        self.http: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.public_id = ""
        self.issue_number = 0

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """The stack (``bot.sim.stack``), then the demo's world on the fake GitHub."""
        await self.stack.start()
        self.fake, self.db, self.base_url = self.stack.fake, self.stack.db, self.stack.base_url
        assert self.fake is not None
        self.fake.add_installation(INSTALLATION_ID, OWNER, [FULL_NAME])
        self.fake.add_commits(OWNER, REPO, [(secrets.token_hex(20), "Initial commit")])
        self.http = aiohttp.ClientSession(base_url=self.base_url)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
        await self.stack.close()

    # ----------------------------------------------------------------- talking to TinyDesk

    async def register_product(self) -> None:
        assert self.http is not None
        async with self.http.post(
            "/api/admin/products",
            json={"slug": PRODUCT_SLUG, "repo": FULL_NAME, "name": "Demo App"},
            headers={"Authorization": f"Bearer {self.admin_token}"},
        ) as resp:
            if resp.status != 201:
                raise DemoFailed(
                    f"registering the product failed: {resp.status} {await resp.text()}"
                )

    async def submit_ticket(self) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.post("/api/tickets", json=SAMPLE_TICKET) as resp:
            if resp.status != 201:
                raise DemoFailed(f"submitting the ticket failed: {resp.status} {await resp.text()}")
            ticket = await resp.json()
        self.public_id = ticket["publicId"]
        return ticket

    async def stage(self) -> str:
        """The ticket's stage, as anyone may read it (GET /api/tickets/{publicId})."""
        assert self.http is not None
        while True:
            async with self.http.get(f"/api/tickets/{self.public_id}") as resp:
                if resp.status == 429:
                    await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
                    continue
                if resp.status != 200:
                    raise DemoFailed(f"tracking the ticket failed: {resp.status}")
                return (await resp.json())["status"]

    async def deliver(self, event: str, payload: dict[str, Any]) -> str:
        """Post a signed delivery to /webhooks/github, as GitHub does; returns its id."""
        assert self.http is not None
        status, text, delivery_id = await hookshot.deliver(
            self.http,
            "/webhooks/github",
            event,
            payload,
            self.webhook_secret,
            agent="GitHub-Hookshot/tinydesk-demo",
            **{"X-GitHub-Hook-Installation-Target-Type": "integration"},
        )
        if status != 202:
            raise DemoFailed(f"the webhook {event} was refused: {status} {text}")
        return delivery_id

    async def delivery_state(self, delivery_id: str) -> tuple[str, str | None]:
        assert self.db is not None
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(Delivery.state, Delivery.last_error).where(
                        Delivery.delivery_id == delivery_id
                    )
                )
            ).one()
        return row[0], row[1]

    async def wait_for(
        self,
        what: str,
        check: Callable[[], Awaitable[bool]],
        describe: Callable[[], Awaitable[str]],
    ) -> None:
        """Poll ``check`` (backing off to half a second) until it holds or the time runs out."""
        deadline = time.monotonic() + self.options.timeout
        delay = 0.05
        while not await check():
            if time.monotonic() >= deadline:
                raise DemoFailed(
                    f"{what} not reached within {self.options.timeout:g} s ({await describe()})"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def wait_for_stage(self, expected: str, delivery_id: str | None = None) -> None:
        async def check() -> bool:
            if delivery_id is not None:
                state, error = await self.delivery_state(delivery_id)
                if state == QueueState.FAILED:
                    raise DemoFailed(f"TinyDesk could not process the delivery: {error}")
                if state != QueueState.DONE:
                    return False
            return await self.stage() == expected

        async def describe() -> str:
            return f"the ticket is at {await self.stage()}"

        await self.wait_for(expected, check, describe)

    def status_comments(self) -> list[dict[str, Any]]:
        assert self.fake is not None
        return [
            c
            for c in self.fake.comments_on(OWNER, REPO, self.issue_number)
            if STATUS_MARKER in (c.get("body") or "")
        ]

    # ----------------------------------------------------------------- the story

    async def pause(self, seconds: float | None = None) -> None:
        if not self.options.once:
            await asyncio.sleep(self.options.pause if seconds is None else seconds)

    async def play(self) -> None:
        assert self.fake is not None
        fake, p = self.fake, self.payloads
        await self.register_product()
        ticket = await self.submit_ticket()
        self.say(f"TinyDesk demo running at {self.base_url} (simulated GitHub at {fake.base_url})")
        self.say(f"  product: {PRODUCT_SLUG} -> {FULL_NAME}")
        self.say(f"  ticket:  {self.public_id} “{SAMPLE_TICKET['subject']}”")
        self.say()
        self.say(f"Open the tracking page: {ticket['trackingUrl']}")
        self.say(
            f"Admin pages:            {self.base_url}/admin  (admin token: {self.admin_token})"
        )
        self.say()
        self.say(f"✓ RECEIVED — ticket {self.public_id} submitted through POST /api/tickets")

        await self.wait_for_stage("ISSUE_CREATED")
        [issue] = [i for i in fake.issues(OWNER, REPO) if "pull_request" not in i]
        n = self.issue_number = issue["number"]
        title = issue["title"]
        self.say(f"✓ ISSUE_CREATED — TinyDesk opened issue #{n} in {FULL_NAME}")
        if not self.options.once:
            first = self.options.pause * FIRST_PAUSE_FACTOR
            self.say(f"  (the developers start in {first:g} s; the page updates itself)")
            await self.pause(first)

        head = secrets.token_hex(20)
        pr_fields: dict[str, Any] = {}

        async def assign() -> str:
            fake.assign_issue(OWNER, REPO, n, DEVELOPER)
            await self.step("FIX_IN_PROGRESS", *p.issues_assigned(n, title, DEVELOPER))
            return f"{DEVELOPER} assigned issue #{n}"

        async def draft() -> str:
            number = fake.add_pull(
                OWNER,
                REPO,
                head_sha=head,
                body=f"Fixes #{n}",
                draft=True,
                title=PR_TITLE,
                user=DEVELOPER,
                head_ref="fix-safari-sign-in",
                commits=[head],
            )
            pr_fields.update(number=number, body=f"Fixes #{n}", head_sha=head, author=DEVELOPER)
            await self.step(
                "FIX_IN_PROGRESS",
                *p.pull_request_event("opened", DEVELOPER, draft=True, **pr_fields),
            )
            await self.wait_for(
                "the note on the pull request",
                self._pr_noted,
                self._describe_pr_notes,
            )
            return f"draft pull request #{number} says “Fixes #{n}”; TinyDesk linked it"

        async def ready() -> str:
            fake.update_pull(OWNER, REPO, pr_fields["number"], draft=False)
            await self.step(
                "PR_OPEN", *p.pull_request_event("ready_for_review", DEVELOPER, **pr_fields)
            )
            return f"pull request #{pr_fields['number']} is ready for review"

        async def changes() -> str:
            await self.step(
                "CHANGES_REQUESTED", *p.review_submitted("changes_requested", REVIEWER, **pr_fields)
            )
            return f"{REVIEWER} requested changes on pull request #{pr_fields['number']}"

        async def approve() -> str:
            await self.step("PR_OPEN", *p.review_submitted("approved", REVIEWER, **pr_fields))
            return f"{REVIEWER} approved pull request #{pr_fields['number']}"

        merge_sha = secrets.token_hex(20)

        async def merge() -> str:
            fake.add_commits(
                OWNER, REPO, [(merge_sha, f"Merge pull request #{pr_fields['number']}")]
            )
            fake.merge_pull(
                OWNER, REPO, pr_fields["number"], merge_commit_sha=merge_sha, merged_by=DEVELOPER
            )
            await self.step(
                "MERGED",
                *p.pull_request_event("closed", DEVELOPER, merge_commit_sha=merge_sha, **pr_fields),
            )
            return f"pull request #{pr_fields['number']} merged as {merge_sha[:7]}"

        async def deploy() -> str:
            release = secrets.token_hex(20)
            fake.add_commits(OWNER, REPO, [(release, "Release")])
            await self.step("DEPLOYED", *p.deployment_status_created(release, 31_337))
            return f"{release[:7]} (which contains {merge_sha[:7]}) deployed to production"

        async def close() -> str:
            fake.close_issue(OWNER, REPO, n, "completed")
            await self.step("CLOSED", *p.issues_closed(n, title, (DEVELOPER,), DEVELOPER))
            return f"issue #{n} closed as completed"

        steps = [
            ("FIX_IN_PROGRESS", assign),
            ("FIX_IN_PROGRESS", draft),
            ("PR_OPEN", ready),
            ("CHANGES_REQUESTED", changes),
            ("PR_OPEN", approve),
            ("MERGED", merge),
            ("DEPLOYED", deploy),
            ("CLOSED", close),
        ]
        for index, (stage, action) in enumerate(steps):
            if index:
                await self.pause()
            self.say(f"✓ {stage} — {await action()}")

        await self.wait_for(
            "the status comment on the issue saying Closed",
            self._status_says_closed,
            self._describe_status_comments,
        )
        self.say(f"✓ TinyDesk's one status comment on issue #{n} says Closed")
        if fake.unexpected or fake.violations or fake.response_errors:
            problems = [c.path for c in fake.unexpected] + fake.violations + fake.response_errors
            raise DemoFailed("the simulated GitHub saw problems: " + "; ".join(problems[:5]))

    async def step(self, expected: str, event: str, payload: dict[str, Any]) -> None:
        delivery_id = await self.deliver(event, payload)
        await self.wait_for_stage(expected, delivery_id)

    async def _pr_noted(self) -> bool:
        assert self.fake is not None
        pulls = [i for i in self.fake.issues(OWNER, REPO) if "pull_request" in i]
        return any(
            "tinydesk:pr-link" in (c.get("body") or "")
            for pr in pulls
            for c in self.fake.comments_on(OWNER, REPO, pr["number"])
        )

    async def _describe_pr_notes(self) -> str:
        return "TinyDesk has not commented on the pull request"

    async def _status_says_closed(self) -> bool:
        comments = self.status_comments()
        return len(comments) == 1 and "now **Closed**" in comments[0]["body"]

    async def _describe_status_comments(self) -> str:
        comments = self.status_comments()
        if len(comments) != 1:
            return f"{len(comments)} status comments"
        return "it says: " + comments[0]["body"].split("now ", 1)[-1].split("\n", 1)[0]


async def run_demo(options: DemoOptions, out: TextIO | None = None) -> int:
    """Play the demo; with ``once`` return when done, else serve until cancelled (Ctrl-C)."""
    out = out or sys.stdout
    demo = Demo(options, out)
    try:
        try:
            await demo.start()
        except OSError as exc:
            print(
                f"tinydesk demo: cannot listen on {options.host}:{options.port}: {exc.strerror}; "
                "try --port 0",
                file=sys.stderr,
            )
            return 1
        try:
            await demo.play()
        except DemoFailed as exc:
            print(f"tinydesk demo: FAILED: {exc}", file=sys.stderr, flush=True)
            return 1
        if options.once:
            demo.say("Demo complete: the ticket went from RECEIVED to CLOSED.")
            return 0
        demo.say()
        demo.say("Demo complete. TinyDesk keeps running so you can look around; Ctrl-C stops it.")
        await asyncio.Event().wait()
        return 0
    finally:
        await demo.close()


# --------------------------------------------------------------------------- the command


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="watch a ticket go from RECEIVED to CLOSED against a simulated GitHub (no setup)",
        description="Start TinyDesk on a throwaway SQLite database with a simulated GitHub, "
        "submit a sample ticket and play the developers' side of its journey.",
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    demo.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    demo.add_argument(
        "--pause",
        type=float,
        default=DEFAULT_PAUSE,
        metavar="SECONDS",
        help=f"pause between the developers' steps (default {DEFAULT_PAUSE:g})",
    )
    demo.add_argument(
        "--once",
        action="store_true",
        help="play without pauses and exit: 0 once the ticket is CLOSED, 1 otherwise",
    )
    # Nothing in the environment (PORT, DATABASE_URL, GitHub's settings) reaches the demo:
    # ``bot.cli.main`` hands it default settings instead of reading them.
    demo.set_defaults(func=cmd_demo, reads_environment=False)


def cmd_demo(args: argparse.Namespace, _settings: Settings) -> int:
    """The demo ignores the environment (``reads_environment=False``): it makes its own
    throwaway settings."""
    options = DemoOptions(host=args.host, port=args.port, pause=max(args.pause, 0), once=args.once)
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        print("\ntinydesk demo: stopped.", file=sys.stderr)
        return 0
