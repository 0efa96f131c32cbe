"""The public pages: tracking page, lookup form and landing page, and what they never show."""

from __future__ import annotations

import re

from sqlalchemy import update

from bot import __version__
from bot.config import Settings
from bot.rules.pipeline import STAGES
from bot.web.html import Html, escape, fragment, readable_time
from storage.models import StageTransition, Ticket
from tests.conftest import ADMIN_TOKEN
from tests.web_helpers import add_comment, move_ticket, open_test_ticket, steps

SUBMISSION = {
    "productSlug": "my-saas-app",
    "submitterEmail": "private.person@example.com",
    "submitterName": "Private Person",
    "subject": "Login button unresponsive on Safari",
    "body": "A very private body text",
}


async def submit(client, **overrides) -> dict:
    resp = await client.post("/api/tickets", json={**SUBMISSION, **overrides})
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_tracking_page_draws_the_eight_stages_with_received_current(client, product):
    created = await submit(client)
    resp = await client.get("/track/TK-00001")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    drawn = steps(page)
    assert list(drawn) == [s.value for s in STAGES]
    assert drawn["RECEIVED"] == ("current", True)
    assert all(
        state == "pending" and not current
        for stage, (state, current) in drawn.items()
        if stage != "RECEIVED"
    )
    assert page.count('aria-current="step"') == 1
    assert (
        f'<time datetime="{created["createdAt"]}">{readable_time(created["createdAt"])}</time>'
        in page
    )
    assert '<html lang="en">' in page


async def test_tracking_page_marks_reached_stages_and_only_the_current_one(client, product, db):
    await submit(client)
    await move_ticket(db, "TK-00001", "ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN")
    page = await (await client.get("/track/TK-00001")).text()
    drawn = steps(page)
    assert drawn["RECEIVED"] == ("reached", False)
    assert drawn["ISSUE_CREATED"] == ("reached", False)
    assert drawn["FIX_IN_PROGRESS"] == ("reached", False)
    assert drawn["PR_OPEN"] == ("current", True)
    assert drawn["CHANGES_REQUESTED"] == ("pending", False)
    assert drawn["MERGED"] == ("pending", False)
    assert page.count('aria-current="step"') == 1
    assert "Moved to PR_OPEN by a test" in page
    assert '<dd id="current-stage">Pull request open</dd>' in page


async def test_a_stage_the_ticket_went_past_without_entering_is_drawn_as_not_needed(
    client, product, db
):
    await submit(client)
    await move_ticket(db, "TK-00001", "ISSUE_CREATED", "PR_OPEN", "MERGED")
    drawn = steps(await (await client.get("/track/TK-00001")).text())
    assert drawn["CHANGES_REQUESTED"] == ("skipped", False)
    assert drawn["MERGED"] == ("current", True)


async def test_changes_requested_is_drawn_as_a_loop_of_the_review_step_not_a_done_box(
    client, product, db
):
    await submit(client)
    await move_ticket(db, "TK-00001", "ISSUE_CREATED", "PR_OPEN", "CHANGES_REQUESTED", "PR_OPEN")
    page = await (await client.get("/track/TK-00001")).text()
    assert steps(page)["CHANGES_REQUESTED"] == ("reached", False)
    loop = page.split('data-stage="CHANGES_REQUESTED"')[1].split("</li>")[0]
    assert '<span class="step-marker" aria-hidden="true">↺</span>' in loop
    assert '<span class="step-state">↺ 1 round</span>' in loop and "Done" not in loop
    markers = re.findall(r'<span class="step-marker" aria-hidden="true">([^<]+)</span>', page)
    assert markers == ["1", "2", "3", "4", "↺", "5", "6", "7"]


async def test_a_closed_ticket_says_why_in_its_current_stage(client, product, db):
    await submit(client)
    await move_ticket(db, "TK-00001", "ISSUE_CREATED")
    async with db.begin() as session:
        session.add(
            StageTransition(
                ticket_id=1,
                from_stage="ISSUE_CREATED",
                to_stage="CLOSED",
                cause="issues.closed",
                description="Issue closed as not planned",
                reason="duplicate",
            )
        )
        await session.execute(update(Ticket).where(Ticket.id == 1).values(stage="CLOSED"))
    page = await (await client.get("/track/TK-00001")).text()
    assert '<dd id="current-stage">Closed as a duplicate</dd>' in page
    assert steps(page)["MERGED"] == ("skipped", False)


async def test_subject_and_public_comments_only_with_the_token(client, product, db):
    created = await submit(client)
    await add_comment(db, "TK-00001", "We found the cause and a fix is on its way.")
    await add_comment(db, "TK-00001", "Customer is on the legacy plan", internal=True)

    anonymous = await (await client.get("/track/TK-00001")).text()
    assert SUBMISSION["subject"] not in anonymous
    assert "We found the cause" not in anonymous
    assert "Messages from support" not in anonymous

    with_token = await (
        await client.get(f"/track/TK-00001?token={created['trackingToken']}")
    ).text()
    assert SUBMISSION["subject"] in with_token
    assert "We found the cause and a fix is on its way." in with_token
    assert "Sam from Support" in with_token
    assert "sam@acme.example" not in with_token  # the staff author is never public
    assert "legacy plan" not in with_token


async def test_a_wrong_token_shows_the_public_view_and_says_so(client, product):
    await submit(client)
    other = await submit(client)
    page = await (await client.get(f"/track/TK-00001?token={other['trackingToken']}")).text()
    assert SUBMISSION["subject"] not in page
    assert "token is not valid" in page


async def test_nothing_private_is_ever_on_the_tracking_page(client, product, db):
    created = await submit(client)
    await add_comment(db, "TK-00001", "Internal: call them back", internal=True)
    page = await (await client.get(f"/track/TK-00001?token={created['trackingToken']}")).text()
    for private in (
        "private.person@example.com",
        "Private Person",
        "A very private body text",
        "call them back",
    ):
        assert private not in page
    assert "@" not in page.replace("&#x27;", "")


async def test_the_tracking_page_is_never_cached_and_carries_the_security_headers(client, product):
    await submit(client)
    resp = await client.get("/track/TK-00001")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    page = await resp.text()
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script src="/static/track.js?v={__version__}" defer>'
    ]
    assert " style=" not in page and "<style" not in page
    assert 'data-poll-url="/api/tickets/TK-00001"' in page


async def test_every_value_is_escaped_so_a_subject_cannot_inject_script(client, product):
    created = await submit(client, subject="<script>alert(1)</script>\"'&")
    page = await (await client.get(f"/track/TK-00001?token={created['trackingToken']}")).text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;" in page


async def test_an_unknown_public_id_gets_a_friendly_404_page(client, product):
    for path in ("/track/TK-99999", "/track/not-a-ticket", "/track/%3Cb%3E"):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert resp.content_type == "text/html"
        page = await resp.text()
        assert "couldn&rsquo;t find that ticket" in page
        assert 'action="/track"' in page
        assert "<b>" not in page
        assert resp.headers["Content-Security-Policy"]


async def test_the_lookup_form_sends_you_to_the_ticket(client, product):
    await submit(client)
    form = await client.get("/track")
    assert form.status == 200
    assert '<label for="public-id">Ticket ID</label>' in await form.text()
    for typed in ("TK-00001", " tk-00001 ", "1", "TK-1"):
        resp = await client.get("/track", params={"publicId": typed}, allow_redirects=False)
        assert resp.status == 303, typed
        assert resp.headers["Location"] == "/track/TK-00001"


async def test_the_lookup_form_explains_what_is_wrong(client, product):
    empty = await client.get("/track", params={"publicId": ""})
    assert empty.status == 400
    assert "Enter a ticket ID" in await empty.text()
    bad = await client.get("/track", params={"publicId": "<i>x"})
    assert bad.status == 400
    page = await bad.text()
    assert "is not a ticket ID" in page and "<i>x" not in page
    assert 'aria-invalid="true"' in page
    missing = await client.get("/track", params={"publicId": "TK-00077"})
    assert missing.status == 404
    assert "There is no ticket TK-00077." in await missing.text()


async def test_static_files_are_served_with_the_security_headers(client):
    script = await client.get("/static/track.js")
    assert script.status == 200
    assert "javascript" in script.content_type
    assert "X-Tracking-Token" in await script.text()
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    css = await client.get("/static/site.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_the_json_api_is_left_as_it_was(client, product):
    await submit(client)
    resp = await client.get("/api/tickets/TK-00001")
    assert "Content-Security-Policy" not in resp.headers


async def test_landing_page_tells_what_tinydesk_does_with_examples_for_this_server(client, product):
    resp = await client.get("/")
    assert resp.status == 200
    page = await resp.text()
    assert "See exactly where your ticket is. Every step." in page
    assert "The 8-stage pipeline" in page
    for stage in STAGES:
        assert f"<code>{stage.value}</code>" in page
    assert "Agent Integration" in page
    assert (
        "Register your product" in page and "Submit a ticket" in page and "Track the ticket" in page
    )
    assert "curl -X POST https://desk.example.test/api/tickets" in page
    assert "curl https://desk.example.test/api/tickets/TK-00042" in page
    assert "&quot;productSlug&quot;: &quot;my-saas-app&quot;" in page
    assert 'action="/track"' in page


async def test_landing_page_uses_a_registered_slug_and_the_request_host(make_client):
    client = await make_client(Settings(admin_token=ADMIN_TOKEN))
    page = await (await client.get("/")).text()
    assert "&quot;productSlug&quot;: &quot;my-saas-app&quot;" in page
    origin = f"http://{client.server.host}:{client.server.port}"
    assert f"curl -X POST {origin}/api/tickets" in page
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "acme-cloud", "repo": "acme/cloud"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert resp.status == 201
    page = await (await client.get("/")).text()
    assert "&quot;productSlug&quot;: &quot;acme-cloud&quot;" in page


async def test_tickets_without_a_product_are_tracked_too(client, db):
    public_id, token = await open_test_ticket(db, None)
    page = await (await client.get(f"/track/{public_id}?token={token}")).text()
    assert steps(page)["RECEIVED"] == ("current", True)


def test_the_escaping_helper_escapes_everything_but_html_it_made():
    assert (
        escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
    )
    assert escape(None) == ""
    assert escape(Html("<b>ok</b>")) == "<b>ok</b>"
    made = fragment('<p title="{t}">{body}</p>', t='" onmouseover="x', body="<script>")
    assert made == '<p title="&quot; onmouseover=&quot;x">&lt;script&gt;</p>'
    assert isinstance(made, Html)


def test_each_special_character_alone_is_escaped_and_plain_text_is_kept():
    for char, escaped in [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#x27;"),
    ]:
        assert escape(f"a{char}b") == f"a{escaped}b"
    assert escape("Fix in progress · 24 Mar") == "Fix in progress · 24 Mar"
    assert escape(42) == "42" and isinstance(escape(42), Html)


def test_readable_time_names_the_month_in_english_whatever_the_locale():
    assert readable_time("2026-12-01T18:05:09.123Z") == "1 Dec 2026, 18:05 UTC"
    assert readable_time("2026-03-24T08:00:00.000Z") == "24 Mar 2026, 08:00 UTC"
