"""The ticket page's history and its new actions (issue 19, item 3): the history shows stage
changes with their internal causes (the webhook delivery, the GitHub login) beside who
changed what; tags, category and type are edited and audited as the person; a template
fills what is empty; an issue is linked against the fake GitHub as the person, or created
now without GitHub ever being asked twice; a duplicate is merged; a viewer's POST to any of
them is a 403."""

from __future__ import annotations

from sqlalchemy import select

from bot.appkeys import DB
from storage.models import Job, Ticket, TicketAuditEntry
from tests.conftest import ADMIN_HEADERS
from tests.test_desk_ticket_page import CSRF, a_ticket, person, post
from tests.world import OWNER, REPO

CREATE_ISSUE = "POST /repos/{owner}/{repo}/issues"
SEARCH = "GET /repos/{owner}/{repo}/issues"


async def audit_rows(db, public_id: str) -> list[tuple[str, str, str, str | None, str | None]]:
    async with db.session() as session:
        rows = await session.scalars(
            select(TicketAuditEntry)
            .where(TicketAuditEntry.ticket_id == int(public_id[3:]))
            .order_by(TicketAuditEntry.id)
        )
        return [(r.actor_id, r.actor_name, r.field, r.old_value, r.new_value) for r in rows]


async def desk_id_of(db, email: str) -> str:
    from storage.models import StaffAccount

    async with db.session() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.email == email))
        assert account is not None
        return account.desk_id


async def stored(db, public_id: str) -> Ticket:
    async with db.session() as session:
        ticket = await session.get(Ticket, int(public_id[3:]))
        assert ticket is not None
        return ticket


# -- edits and history ------------------------------------------------------------------------


async def test_tags_category_and_type_are_edited_and_audited_as_the_person(client, db):
    ticket = await a_ticket(client)
    await person(client, "ada@support.test", "Ada from Support", "agent")
    resp = await post(
        client,
        ticket,
        "edit",
        status="open",
        priority="medium",
        assignee="",
        type="incident",
        category="Exports",
        tags="csv, billing ,, csv",
    )
    assert resp.status == 303, await resp.text()
    me = await desk_id_of(db, "ada@support.test")
    assert await audit_rows(db, ticket["publicId"]) == [
        (me, "Ada from Support", "type", None, "incident"),
        (me, "Ada from Support", "category", None, "Exports"),
        (me, "Ada from Support", "tags", None, "csv, billing"),
    ]
    page = await (await client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    assert 'value="csv, billing"' in page
    assert "Category: none → Exports" in page and f"Ada from Support ({me})" in page


async def test_a_bad_tag_re_renders_the_page_with_the_reason_and_changes_nothing(client, db):
    ticket = await a_ticket(client)
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await post(client, ticket, "edit", tags="x" * 65)
    assert resp.status == 400 and "at most 64 characters" in await resp.text()
    assert await audit_rows(db, ticket["publicId"]) == []


async def test_the_history_shows_webhook_causes_with_their_delivery_and_login(world):
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    await world.deliver(
        "issues.assigned",
        issue_number=issue["number"],
        sender_login="octocat",
        delivery_id="delivery-42",
    )
    await world.settle()
    page = await (await world.client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    history = page[page.index('id="staff-history"') :]
    assert "issues.assigned by octocat via delivery delivery-42" in history
    assert "issue.created" in history and "ticket.submitted" in history
    # The public page says what happened, never the causes.
    public = await (await world.client.get(f"/track/{ticket['publicId']}")).text()
    assert "delivery-42" not in public and "octocat" not in public


# -- templates --------------------------------------------------------------------------------


async def test_a_template_fills_only_what_is_empty(client, db):
    ticket = await a_ticket(client)
    resp = await client.post(
        "/api/admin/templates",
        json={"name": "Export bug", "type": "problem", "category": "Exports", "tags": ["csv"]},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201, await resp.text()
    template = await resp.json()
    await person(client, "ada@support.test", "Ada", "agent")
    await post(client, ticket, "edit", category="Billing")
    resp = await post(client, ticket, "template", template=template["id"])
    assert resp.status == 303 and "notice=template" in resp.headers["Location"]
    saved = await stored(db, ticket["publicId"])
    assert (saved.type, saved.category) == ("problem", "Billing")
    fields = [row[2:] for row in await audit_rows(db, ticket["publicId"])]
    assert fields[-2:] == [("type", None, "problem"), ("tags", None, "csv")]
    again = await post(client, ticket, "template", template=template["id"])
    assert "notice=template-none" in again.headers["Location"]


async def test_an_unknown_template_is_a_400_with_the_reason(client):
    ticket = await a_ticket(client)
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await post(client, ticket, "template", template="tpl_nope")
    assert resp.status == 400 and "Unknown template" in await resp.text()


# -- GitHub: link and create ------------------------------------------------------------------


async def test_linking_an_issue_is_done_as_the_person_against_github(world):
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()  # its create_issue job left waiting
    known = world.fake.add_issue(OWNER, REPO, "Known problem")
    resp = await post(world.client, ticket, "link", issue=str(known))
    assert resp.status == 303, await resp.text()
    db = world.client.app[DB]
    assert (await stored(db, ticket["publicId"])).issue_number == known
    me = await desk_id_of(db, "ada@support.test")
    assert await audit_rows(db, ticket["publicId"]) == [
        (me, "Ada", "github_issue", None, f"{OWNER}/{REPO}#{known}")
    ]
    page = await (await world.client.get(f"/desk/tickets/{ticket['publicId']}")).text()
    assert "staff.linked by Ada" in page
    await world.settle()
    assert world.fake.calls_to(CREATE_ISSUE) == []  # the waiting job found it linked


async def test_linking_an_issue_github_does_not_have_shows_the_reason(world):
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()
    resp = await post(world.client, ticket, "link", issue="999")
    assert resp.status == 404 and "Issue not found" in await resp.text()
    bad = await post(world.client, ticket, "link", issue="twelve")
    assert bad.status == 400 and "Invalid issue number" in await bad.text()
    assert (await stored(world.client.app[DB], ticket["publicId"])).issue_number is None


async def create_issue_jobs(world) -> list[tuple[str, int]]:
    async with world.client.app[DB].session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == "create_issue").order_by(Job.id))
        return [(job.state, job.attempts) for job in jobs]


async def test_create_now_runs_the_waiting_job_once_and_then_refuses(world):
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()
    resp = await post(world.client, ticket, "create-issue")
    assert resp.status == 303 and "notice=issue" in resp.headers["Location"]
    assert await create_issue_jobs(world) == [("pending", 0)]  # the same job, due now
    await world.settle()
    assert len(world.fake.calls_to(CREATE_ISSUE)) == 1
    again = await post(world.client, ticket, "create-issue")
    assert again.status == 409 and "Ticket already linked" in await again.text()
    assert len(world.fake.calls_to(CREATE_ISSUE)) == 1
    [*_, entry] = await audit_rows(world.client.app[DB], ticket["publicId"])
    assert entry[2:] == ("github_issue", None, "requested")


async def test_create_now_after_a_failed_job_finds_the_issue_it_opened_and_opens_none(world):
    """GitHub opened the issue but the answer was lost, and every retry's search failed: the
    job is parked. Asked again, the new job looks for the issue by its marker first and
    links it: GitHub is never asked to open a second one."""
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()
    world.fake.fail_next(CREATE_ISSUE, 502, apply_then_fail=True)
    world.fake.fail_next(SEARCH, 502, times=7)
    await world.settle()
    assert [state for state, _ in await create_issue_jobs(world)] == ["failed"]
    assert (await stored(world.client.app[DB], ticket["publicId"])).issue_number is None
    resp = await post(world.client, ticket, "create-issue")
    assert resp.status == 303, await resp.text()
    await world.settle()
    assert len(world.fake.calls_to(CREATE_ISSUE)) == 1
    [issue] = world.fake.issues(OWNER, REPO)
    assert (await stored(world.client.app[DB], ticket["publicId"])).issue_number == issue["number"]


async def test_create_now_is_refused_for_a_closed_ticket(world):
    await person(world.client, "ada@support.test", "Ada", "agent")
    ticket = await world.submit()
    await post(world.client, ticket, "edit", status="closed")
    refused = await post(world.client, ticket, "create-issue")
    assert refused.status == 409 and "Ticket closed" in await refused.text()


# -- merge ------------------------------------------------------------------------------------


async def test_merging_a_duplicate_from_the_page(client, db):
    duplicate = await a_ticket(client)
    target = await a_ticket(client)
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await post(client, duplicate, "merge", into=target["publicId"])
    assert resp.status == 303 and "notice=merged" in resp.headers["Location"]
    page = await (await client.get(f"/desk/tickets/{duplicate['publicId']}")).text()
    link = f'<a href="/desk/tickets/{target["publicId"]}">{target["publicId"]}</a>'
    assert f"<dt>Merged into</dt><dd>{link}</dd>" in page
    assert f"Merged into {target['publicId']}" in page
    assert (await stored(db, duplicate["publicId"])).status == "closed"


async def test_merging_into_a_ticket_outside_the_persons_products_is_refused(client, db):
    theirs = await a_ticket(client, "other")
    mine = await a_ticket(client, "mine")
    await person(client, "al@support.test", "Al", "agent", products=["mine"])
    resp = await post(client, mine, "merge", into=theirs["publicId"])
    assert resp.status == 409 and "Target ticket not found" in await resp.text()
    assert (await stored(db, mine["publicId"])).status == "open"


# -- a viewer ---------------------------------------------------------------------------------


async def test_a_viewers_post_to_each_new_action_is_a_403(client, db):
    duplicate = await a_ticket(client)
    target = await a_ticket(client)
    await person(client, "vi@support.test", "Vi", "viewer")
    page = await (await client.get(f"/desk/tickets/{duplicate['publicId']}")).text()
    assert 'id="staff-history"' in page
    assert "/merge" not in page and "/link" not in page and "/template" not in page
    token = CSRF.search(page).group(1)
    for action, fields in (
        ("template", {"template": "tpl_x"}),
        ("link", {"issue": "1"}),
        ("create-issue", {}),
        ("merge", {"into": target["publicId"]}),
        ("edit", {"tags": "a"}),
    ):
        resp = await client.post(
            f"/desk/tickets/{duplicate['publicId']}/{action}",
            data={"csrf_token": token, **fields},
            allow_redirects=False,
        )
        assert resp.status == 403, action
    assert await audit_rows(db, duplicate["publicId"]) == []
