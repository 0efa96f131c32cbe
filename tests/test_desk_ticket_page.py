"""The workspace ticket page (issue 19, item 3, first cut): an agent answers (the submitter is
mailed, through the real SMTP sink), adds an internal note that the public tracking page never
shows, logs 15 minutes in one click, and changes status and priority, each as themselves; a
viewer sees the page without its forms and a viewer's POST is a 403 whatever it sends; a
ticket outside the person's products is a 404."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.jobs.worker import WORKERS
from bot.rules import ids
from storage.models import Comment, PullRequestLink, PullRequestReview, Ticket, TimeEntry
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer
from tests.mail_sink import MailSink
from tests.test_staff_accounts import accept

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def sink():
    async with MailSink() as running:
        yield running


@pytest.fixture
async def client(make_client, sink):
    base = Settings(
        admin_token=ADMIN_TOKEN, public_url="https://desk.example.test", run_workers=False
    )
    mail = dataclasses.replace(
        base.mail, mail_from="support@example.com", smtp_url=sink.url, coalesce_seconds=0.0
    )
    return await make_client(dataclasses.replace(base, mail=mail))


async def person(client, email: str, name: str, role: str, products=()) -> None:
    resp = await client.post(
        "/api/admin/staff",
        json={"email": email, "name": name, "role": role, "products": list(products)},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201, await resp.text()
    client.session.cookie_jar.clear()
    await accept(client, (await resp.json())["link"])


async def a_ticket(client, product: str = "app") -> dict:
    await client.post(
        "/api/admin/products", json={"slug": product, "repo": f"o/{product}"}, headers=ADMIN_HEADERS
    )
    key = await client.post("/api/admin/keys", json={"name": "intake"}, headers=ADMIN_HEADERS)
    body = {
        "subject": "Export fails",
        "body": "CSV export 500s",
        "email": "cy@example.com",
        "productSlug": product,
    }
    resp = await client.post("/api/v1/desk/tickets", json=body, headers=bearer(await key.json()))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def post(client, ticket: dict, action: str, **fields: str):
    page = await client.get(f"/desk/tickets/{ticket['publicId']}")
    token = CSRF.search(await page.text()).group(1)
    return await client.post(
        f"/desk/tickets/{ticket['publicId']}/{action}",
        data={"csrf_token": token, **fields},
        allow_redirects=False,
    )


async def test_an_agent_answers_notes_logs_time_and_edits(client, sink, db):
    ticket = await a_ticket(client)
    await client.app[WORKERS].drain()
    before = len(sink.messages)  # the intake mail
    await person(client, "ada@support.test", "Ada from Support", "agent")
    page = await client.get(f"/desk/tickets/{ticket['publicId']}")
    text = await page.text()
    assert page.status == 200 and "Export fails" in text and 'aria-current="step"' in text
    assert (await post(client, ticket, "reply", body="We found the cause.")).status == 303
    assert (await post(client, ticket, "note", body="SECRET: customer is on plan X")).status == 303
    assert (await post(client, ticket, "time", minutes="15", description="Work")).status == 303
    edited = await post(
        client, ticket, "edit", status="pending", priority="high", assignee="ada@support.test"
    )
    assert edited.status == 303
    async with db.session() as session:
        comments = list(await session.scalars(select(Comment).order_by(Comment.id)))
        [entry] = (await session.scalars(select(TimeEntry))).all()
    assert [(c.internal, c.author) for c in comments] == [
        (False, "ada@support.test"),
        (True, "ada@support.test"),
    ]
    assert comments[0].public_author == "Ada from Support"
    assert entry.minutes == 15 and entry.technician == "ada@support.test"
    desk = await client.get(f"/desk/tickets/{ticket['publicId']}")
    body = await desk.text()
    assert "Internal note" in body and "15 min logged" in body and "pending" in body
    # The submitter is mailed the reply, never the note; the public page never shows it.
    await client.app[WORKERS].drain()
    mails = sink.messages[before:]
    assert mails and any("We found the cause." in m.as_string() for m in mails)
    assert all("SECRET" not in m.as_string() for m in sink.messages)
    public = await client.get(f"/track/{ticket['publicId']}")
    assert "SECRET" not in await public.text()


async def test_a_viewer_reads_but_every_write_is_refused(client, db):
    ticket = await a_ticket(client)
    await person(client, "vi@support.test", "Vi", "viewer")
    page = await (await client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    assert "Export fails" in page and "Send reply" not in page
    token = CSRF.search(page).group(1)
    for action, fields in (
        ("reply", {"body": "hi"}),
        ("note", {"body": "hi"}),
        ("time", {"minutes": "15", "description": "x"}),
        ("edit", {"status": "closed"}),
    ):
        resp = await client.post(
            f"/desk/tickets/{ticket['publicId']}/{action}",
            data={"csrf_token": token, **fields},
            allow_redirects=False,
        )
        assert resp.status == 403, action
    async with db.session() as session:
        assert (await session.scalars(select(Comment))).all() == []


async def test_a_ticket_outside_the_persons_products_is_a_404(client):
    ticket = await a_ticket(client, "other")
    await client.post(
        "/api/admin/products", json={"slug": "mine", "repo": "o/mine"}, headers=ADMIN_HEADERS
    )
    await person(client, "al@support.test", "Al", "agent", products=["mine"])
    assert (await client.get(f"/desk/tickets/{ticket['publicId']}")).status == 404
    resp = await client.post(
        f"/desk/tickets/{ticket['publicId']}/reply", data={"body": "x"}, allow_redirects=False
    )
    assert resp.status == 403  # no CSRF token: nothing is even looked up


async def test_a_refused_action_shows_the_reason(client):
    ticket = await a_ticket(client)
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await post(client, ticket, "time", minutes="0", description="x")
    assert resp.status == 400 and "minutes" in await resp.text()


async def test_the_page_links_the_fix_its_reviews_and_its_deployment_on_github(client, db):
    """Item 3: the GitHub side is right there: the issue, each pull request, each reviewer's
    standing review and where the fix went live, each a link to GitHub."""
    await person(client, "ada@support.test", "Ada", "agent")
    ticket = await a_ticket(client)
    number = ids.parse_public_id(ticket["publicId"])
    shipped = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    async with db.begin() as session:
        row = await session.get(Ticket, number)
        row.issue_number = 7
        product_id = row.product_id
        session.add(
            PullRequestLink(
                product_id=product_id,
                pr_number=12,
                issue_number=7,
                state="merged",
                shipped_at=shipped,
                shipped_environment="production",
            )
        )
        for reviewer, verdict, review_id in (
            ("bo", "changes_requested", 501),
            ("al", "approved", 502),
        ):
            session.add(
                PullRequestReview(
                    product_id=product_id,
                    pr_number=12,
                    reviewer=reviewer,
                    review_id=review_id,
                    verdict=verdict,
                )
            )
    page = await (await client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    assert 'href="https://github.com/o/app/issues/7"' in page
    assert 'href="https://github.com/o/app/pull/12"' in page and "(merged)" in page
    assert (
        '@al <a href="https://github.com/o/app/pull/12#pullrequestreview-502" '
        'rel="noopener noreferrer">approved</a> (#12), '
        '@bo <a href="https://github.com/o/app/pull/12#pullrequestreview-501" '
        'rel="noopener noreferrer">asked for changes</a> (#12)'
    ) in page
    assert 'href="https://github.com/o/app/deployments/production"' in page
    assert 'datetime="2026-12-07T09:30:00' in page


async def test_before_github_has_anything_the_page_says_so(client):
    await person(client, "ada@support.test", "Ada", "agent")
    ticket = await a_ticket(client)
    page = await (await client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    for fact, value in (("Reviews", "none yet"), ("Deployed", "not yet")):
        assert f"<dt>{fact}</dt><dd>{value}</dd>" in page
