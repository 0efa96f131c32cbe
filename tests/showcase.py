"""A small, realistic help desk to look at: products, tickets at different stages and SLA
states (one breached, one due soon, one resolved), public replies and an internal note, time,
a client with a contract and a draft invoice, a template, an SLA policy, a failed job and a
failed delivery, staff (an agent, a viewer, one invitation not yet accepted).

Built the way TinyDesk's own doors build it (the admin and desk APIs over HTTP), with the
GitHub side's stage moves and a backdated intake written straight to the database, as the
page tests do (tests/web_helpers.py). The accessibility walk over every page
(tests/test_browser_a11y.py) and the README screenshots (tests/screenshots.py) share it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import aiohttp

from storage.database import Database
from storage.models import Delivery, Job
from storage.types import utcnow
from tests.conftest import ADMIN_HEADERS
from tests.web_helpers import add_comment, move_ticket, open_test_ticket

PASSWORD = "correct horse battery staple"
AGENT = ("ada@support.test", "Ada Lovelace", "agent")
VIEWER = ("vi@support.test", "Vi Viewer", "viewer")
NEWCOMER = ("new@support.test", "Grace Hopper", "agent")
INTERNAL_NOTE = "Internal: the customer is on the legacy plan; check before promising a date."
PUBLIC_REPLY = "Thanks for the report. We reproduced it and a fix is on its way."


@dataclasses.dataclass
class Showcase:
    """What a page path may need filled in (``str.format`` fields of the page list)."""

    values: dict[str, str]
    invite_links: dict[str, str]  # email -> the invitation path (/desk/invite/…)


async def _call(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with http.request(method, url, **kw) as resp:
        assert resp.status in (200, 201), f"{method} {url}: {resp.status} {await resp.text()}"
        return await resp.json()


async def build(base: str, db: Database) -> Showcase:
    """Fill an empty TinyDesk at ``base`` (whose database is ``db``) with the showcase."""
    now = utcnow()
    values: dict[str, str] = {}
    links: dict[str, str] = {}
    async with aiohttp.ClientSession(base_url=base, headers=ADMIN_HEADERS) as http:
        for slug, name in (("my-saas-app", "My SaaS App"), ("mobile-app", "Mobile App")):
            await _call(
                http,
                "POST",
                "/api/admin/products",
                json={"slug": slug, "repo": f"octo-org/{slug}", "name": name},
            )
        for email, name, role in (AGENT, VIEWER, NEWCOMER):
            staff = await _call(
                http, "POST", "/api/admin/staff", json={"email": email, "name": name, "role": role}
            )
            link = staff["link"]
            links[email] = link[link.index("/desk/invite/") :]
        key = await _call(http, "POST", "/api/admin/keys", json={"name": "showcase"})
        desk = {"Authorization": f"Bearer {key['key']}"}
        template = await _call(
            http,
            "POST",
            "/api/admin/templates",
            json={
                "name": "Password reset",
                "subject": "Password reset does not arrive",
                "body": "The reset mail did not arrive after 10 minutes.",
                "priority": "high",
            },
        )
        values["template_id"] = str(template["id"])
        client = await _call(
            http,
            "POST",
            "/api/v1/desk/clients",
            headers=desk,
            json={
                "name": "Acme GmbH",
                "currency": "EUR",
                "timeZone": "Europe/Berlin",
                "domains": ["acme.test"],
                "hourlyRate": "95.00",
            },
        )
        values["client_id"] = client["id"]
        contract = await _call(
            http,
            "POST",
            "/api/v1/desk/contracts",
            headers=desk,
            json={
                "client": client["id"],
                "name": "Acme 20 h a month",
                "kind": "time_based",
                "period": "month",
                "startsOn": (now - dt.timedelta(days=60)).date().isoformat(),
                "timeZone": "Europe/Berlin",
                "hoursPerPeriod": 20,
                "hourlyRate": "80.00",
                "overageRate": "120.00",
            },
        )
        values["contract_id"] = contract["id"]

        tickets = [
            # (subject, product, priority, hours ago, stages, submitter)
            (
                "Login button unresponsive on Safari",
                "my-saas-app",
                "high",
                0.75,
                ("ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN"),
                "it@acme.test",
            ),
            ("Export to CSV times out", "my-saas-app", "urgent", 5, (), "ops@acme.test"),
            (
                "Push notifications arrive twice",
                "mobile-app",
                "medium",
                2,
                ("ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN", "CHANGES_REQUESTED"),
                "lee@example.com",
            ),
            (
                "Dark mode resets after update",
                "mobile-app",
                "low",
                72,
                ("ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN", "MERGED", "DEPLOYED"),
                "sam@example.com",
            ),
            (
                "Typo on the pricing page",
                "my-saas-app",
                "low",
                200,
                ("ISSUE_CREATED", "CLOSED"),
                "kim@example.com",
            ),
            ("Invoice PDF shows the wrong VAT number", None, "medium", 1, (), "billing@acme.test"),
        ]
        names = ("progress", "breached", "changes", "deployed", "closed", "new")
        for name, (subject, product, priority, hours, stages, email) in zip(
            names, tickets, strict=True
        ):
            public_id, token = await open_test_ticket(
                db,
                product_slug=product,
                subject=subject,
                body="Steps to reproduce:\n1. Sign in\n2. Open the page\nExpected: it works.",
                email=email,
                submitter_name=email.split("@")[0].title(),
                priority=priority,
                now=now - dt.timedelta(hours=hours),
            )
            if stages:
                await move_ticket(db, public_id, *stages)
            values[f"{name}_id"], values[f"{name}_token"] = public_id, token
        progress = values["progress_id"]
        await add_comment(db, progress, PUBLIC_REPLY, author=AGENT[0], public_author=AGENT[1])
        await add_comment(db, progress, INTERNAL_NOTE, internal=True, author=AGENT[0])
        await add_comment(
            db, values["changes_id"], "A reviewer asked for a test first; we are on it."
        )
        # A closed ticket is closed at the desk too, not only on GitHub; one waits on its
        # requester (its clock paused).
        for name, status in (("closed", "closed"), ("deployed", "pending")):
            await _call(
                http,
                "PATCH",
                f"/api/v1/desk/tickets/{values[name + '_id']}",
                headers=desk,
                json={"status": status},
            )
        await _call(
            http,
            "PUT",
            f"/api/v1/desk/tickets/{progress}/client",
            headers=desk,
            json={"client": client["id"]},
        )
        await _call(
            http,
            "POST",
            f"/api/v1/desk/tickets/{progress}/time",
            headers=desk,
            json={"minutes": 45, "description": "Reproduced on Safari 17"},
        )
        invoice = await _call(
            http,
            "POST",
            "/api/v1/desk/invoices",
            headers=desk,
            json={"client": client["id"], "periodEnd": now.date().isoformat()},
        )
        values["invoice_ref"] = invoice["id"]
    async with db.begin() as session:
        job = Job(
            kind="create_issue",
            args={"ticket_id": 2},
            state="failed",
            attempts=8,
            last_error="GitHub answered 502 Bad Gateway",
        )
        session.add(job)
        session.add(
            Delivery(
                delivery_id="a1b2c3d4-showcase",
                event="pull_request",
                action="closed",
                payload="{}",
                state="failed",
                attempts=8,
                last_error="GitHub answered 502 Bad Gateway",
            )
        )
    values["job_id"] = str(job.id)
    values["invite_path"] = links[NEWCOMER[0]]
    return Showcase(values, links)


async def accept_invitation(page, base: str, link: str) -> None:
    """Set the password through an invitation link in ``page``: signed in, at the inbox."""
    await page.goto(base + link)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
