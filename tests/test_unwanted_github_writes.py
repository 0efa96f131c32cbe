"""Nothing is written to GitHub for a ticket that no longer wants it (issue 12, item 5): a
ticket staff closed or deleted before its issue was opened gets none (the job is dropped with
a staff note), and linking a ticket to an issue first asks GitHub whether the issue exists."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.appkeys import DB
from bot.jobs.kinds import JobKind
from storage.models import Comment, Job, QueueState, Ticket
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key
from tests.world import OWNER, REPO

CREATE_ISSUE = "POST /repos/{owner}/{repo}/issues"


async def desk_key(world) -> dict:
    return await make_key(world.client, products=["my-saas-app"])


async def notes_of(world, public_id: str) -> list[Comment]:
    number = int(public_id.removeprefix("TK-"))
    async with world.client.app[DB].session() as session:
        return list(await session.scalars(select(Comment).where(Comment.ticket_id == number)))


async def create_issue_jobs(world) -> list[str]:
    async with world.client.app[DB].session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == JobKind.CREATE_ISSUE))
        return [job.state for job in jobs]


async def issue_with_ticket(world) -> tuple[dict, int]:
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    return ticket, issue["number"]


# -- a closed or deleted ticket's pending issue ---------------------------------------------


async def test_a_ticket_deleted_before_its_issue_was_opened_gets_none(world):
    key = await desk_key(world)
    ticket = await world.submit()
    resp = await world.client.delete(
        f"/api/v1/desk/tickets/{ticket['publicId']}", headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    await world.settle()
    assert world.fake.issues(OWNER, REPO) == []
    assert world.fake.calls_to(CREATE_ISSUE) == []
    assert await create_issue_jobs(world) == [QueueState.DONE]  # dropped, not failed or retried
    [note] = await notes_of(world, ticket["publicId"])
    assert note.internal and note.author == "TinyDesk"
    assert note.body == (
        "No GitHub issue was opened: the ticket was deleted before TinyDesk opened it."
    )
    # The public history says nothing of it.
    history = (await world.track(ticket["publicId"]))["history"]
    assert [h["to"] for h in history] == ["RECEIVED", "CLOSED"]


async def test_a_ticket_closed_before_its_issue_was_opened_gets_none_and_staff_see_why(world):
    key = await desk_key(world)
    ticket = await world.submit()
    resp = await world.client.patch(
        f"/api/v1/desk/tickets/{ticket['publicId']}", json={"status": "closed"},
        headers=bearer(key),
    )
    assert resp.status == 200, await resp.text()
    await world.settle()
    assert world.fake.issues(OWNER, REPO) == []
    resp = await world.client.get(f"/api/v1/desk/tickets/{ticket['publicId']}", headers=bearer(key))
    [note] = (await resp.json())["comments"]
    assert note["internal"] is True
    assert note["body"] == (
        "No GitHub issue was opened: the ticket was closed before TinyDesk opened it."
    )


async def test_a_ticket_that_still_wants_its_issue_gets_it_and_no_note(world):
    ticket, _ = await issue_with_ticket(world)
    assert await notes_of(world, ticket["publicId"]) == []
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_a_ticket_closed_while_its_job_runs_is_checked_again_right_before_the_post(world):
    """Staff close the ticket after the job was claimed, while GitHub is slow to answer the
    call before the POST (the label): the job looks again and posts nothing."""
    key = await desk_key(world)
    ticket = await world.submit()
    world.fake.fail_next("POST /repos/{owner}/{repo}/labels", status=None, delay=1.0)
    draining = asyncio.create_task(world.drain())
    for _ in range(200):  # until the job is claimed and waiting on GitHub
        if world.fake.calls_to("POST /app/installations/{installation_id}/access_tokens"):
            break
        await asyncio.sleep(0.01)
    assert await create_issue_jobs(world) == [QueueState.PROCESSING]
    resp = await world.client.patch(
        f"/api/v1/desk/tickets/{ticket['publicId']}", json={"status": "closed"},
        headers=bearer(key),
    )
    assert resp.status == 200, await resp.text()
    await draining
    await world.settle()
    assert world.fake.calls_to("POST /repos/{owner}/{repo}/labels")  # the job did run
    assert world.fake.calls_to(CREATE_ISSUE) == []
    assert world.fake.issues(OWNER, REPO) == []
    [note] = await notes_of(world, ticket["publicId"])
    assert "the ticket was closed" in note.body


# -- linking checks the issue on GitHub -----------------------------------------------------


async def link(world, public_id: str, issue: int):
    return await world.client.post(
        f"/api/admin/tickets/{public_id}/link", json={"issue": issue}, headers=ADMIN_HEADERS
    )


async def unlinked_ticket(world) -> dict:
    """A ticket with no issue yet (its own create_issue job is left pending)."""
    return await world.submit(subject="Same problem, reported again")


async def stored_issue(world, public_id: str) -> tuple[int | None, str]:
    async with world.client.app[DB].session() as session:
        ticket = await session.get(Ticket, int(public_id.removeprefix("TK-")))
        assert ticket is not None
        return ticket.issue_number, ticket.stage


async def test_linking_to_an_issue_github_does_not_have_is_a_404_and_stores_nothing(world):
    second = await unlinked_ticket(world)
    resp = await link(world, second["publicId"], 999)
    assert resp.status == 404
    body = await resp.json()
    assert body["error"] == "Issue not found"
    assert f"{OWNER}/{REPO}#999" in body["hint"]
    assert await stored_issue(world, second["publicId"]) == (None, "RECEIVED")
    [call] = world.fake.calls_to("GET /repos/{owner}/{repo}/issues/{issue_number}")
    assert call.path.endswith("/issues/999")


async def test_linking_to_a_deleted_issue_is_a_404(world):
    second = await unlinked_ticket(world)
    deleted = world.fake.add_issue(OWNER, REPO, "Spam")
    world.fake.delete_issue(OWNER, REPO, deleted)
    resp = await link(world, second["publicId"], deleted)
    assert resp.status == 404
    assert (await resp.json())["error"] == "Issue not found"
    assert await stored_issue(world, second["publicId"]) == (None, "RECEIVED")


async def test_linking_to_a_pull_request_is_refused(world):
    _, n = await issue_with_ticket(world)
    pr = world.add_fix(n)
    second = await unlinked_ticket(world)
    resp = await link(world, second["publicId"], pr)
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == "Not an issue" and "pull request" in body["hint"]
    assert await stored_issue(world, second["publicId"]) == (None, "RECEIVED")


async def test_linking_to_an_existing_issue_still_works(world):
    await issue_with_ticket(world)
    other = world.fake.add_issue(OWNER, REPO, "Reported on GitHub by a maintainer")
    second = await unlinked_ticket(world)
    resp = await link(world, second["publicId"], other)
    assert resp.status == 200, await resp.text()
    assert await stored_issue(world, second["publicId"]) == (other, "ISSUE_CREATED")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_linking_while_github_is_down_is_a_503_with_a_hint_and_stores_nothing(
    world, status
):
    _, n = await issue_with_ticket(world)
    second = await unlinked_ticket(world)
    world.fake.fail_next("GET /repos/{owner}/{repo}/issues/{issue_number}", status)
    resp = await link(world, second["publicId"], n)
    assert resp.status == 503
    body = await resp.json()
    assert body["error"] == "GitHub unavailable" and "nothing was linked" in body["hint"]
    assert resp.headers["Retry-After"].isdigit()
    assert await stored_issue(world, second["publicId"]) == (None, "RECEIVED")


async def test_linking_when_the_app_is_not_installed_on_the_repository_is_a_409(world):
    second = await unlinked_ticket(world)
    world.fake.installations.clear()
    resp = await link(world, second["publicId"], 1)
    assert resp.status == 409
    body = await resp.json()
    assert body["error"] == "GitHub App not installed"
    assert f"{OWNER}/{REPO}" in body["hint"]
    assert await stored_issue(world, second["publicId"]) == (None, "RECEIVED")


async def test_linking_without_a_github_app_is_a_503_naming_the_settings(client, product):
    resp = await client.post("/api/tickets", json={
        "productSlug": product["slug"],
        "submitterEmail": "agent@example.com",
        "subject": "Login button unresponsive",
        "body": "Steps to reproduce",
    })
    ticket = await resp.json()
    resp = await client.post(
        f"/api/admin/tickets/{ticket['publicId']}/link", json={"issue": 12}, headers=ADMIN_HEADERS
    )
    assert resp.status == 503
    body = await resp.json()
    assert body["error"] == "GitHub App not configured"
    assert "GITHUB_APP_ID" in body["hint"]


async def test_a_deleted_ticket_is_not_linked(world):
    _, n = await issue_with_ticket(world)
    key = await desk_key(world)
    second = await unlinked_ticket(world)
    resp = await world.client.delete(
        f"/api/v1/desk/tickets/{second['publicId']}", headers=bearer(key)
    )
    assert resp.status == 200
    resp = await link(world, second["publicId"], n)
    assert resp.status == 409
    assert (await resp.json())["error"] == "Ticket deleted"
    assert await stored_issue(world, second["publicId"]) == (None, "CLOSED")
    assert world.fake.calls_to("GET /repos/{owner}/{repo}/issues/{issue_number}") == []


async def test_an_unknown_ticket_is_a_404_before_github_is_asked(world):
    resp = await link(world, "TK-09999", 1)
    assert resp.status == 404
    assert (await resp.json())["error"] == "Ticket not found"
    assert world.fake.calls_to("GET /repos/{owner}/{repo}/issues/{issue_number}") == []
