"""Merging a duplicate ticket into another (issue 19, item 3): the refusal rule's table, and
``POST /api/v1/desk/tickets/{id}/merge``: the duplicate is closed as a duplicate, its
submitter is told (by mail, the normal path) where the work goes on, its public tracking
page names the other ticket's publicId and nothing else of it, the target carries the
duplicate's conversation as an internal note, both record audit entries; merges into
itself, out of scope, across products, twice, or of closed tickets are refused (a 409 each:
the ticket in the path exists)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.jobs.worker import WORKERS
from bot.rules import merge
from bot.rules.merge import Side
from storage.models import Comment, TicketAuditEntry
from tests import test_desk_ticket_page
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import add_product, bearer, create_ticket, make_key
from tests.test_staff_accounts import invite

# -- the rule ---------------------------------------------------------------------------------


def side(public_id="TK-00001", tenant="default", product=1, status="open", merged=None):
    return Side(public_id, tenant, product, status, merged)


@pytest.mark.parametrize(
    ("duplicate", "target", "error"),
    [
        (side(), side("TK-00002"), None),
        (side(product=None), side("TK-00002"), None),
        (side(), side("TK-00002", product=None), None),
        (side(status="resolved"), side("TK-00002", status="pending"), None),
        (side(), side(), "Cannot merge a ticket into itself"),
        (side(), side("TK-00002", tenant="acme"), "Target ticket not found"),
        (side(product=1), side("TK-00002", product=2), "Tickets of different products"),
        (side(merged="TK-00009"), side("TK-00002"), "Ticket already merged"),
        (side(), side("TK-00002", merged="TK-00009"), "Target was merged away"),
        (side(status="closed"), side("TK-00002"), "Ticket closed"),
        (side(), side("TK-00002", status="closed"), "Ticket closed"),
    ],
)
def test_the_refusal_table(duplicate, target, error):
    """Every refusal is a 409: the ticket in the path exists, whatever the target."""
    refused = merge.refusal(duplicate, target)
    assert (refused.error if refused else None) == error
    assert refused is None or refused.status == 409


def test_the_targets_note_carries_the_whole_conversation_in_order():
    at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    note = merge.conversation_note(
        "TK-00001",
        "Export fails",
        "cy@example.com",
        "CSV export 500s",
        [merge.Said("ada@x", at, False, "Looking"), merge.Said("bo@x", at, True, "Plan X")],
    )
    assert note.splitlines()[0] == "Merged from TK-00001: Export fails"
    assert "cy@example.com" in note and "CSV export 500s" in note
    assert note.index("reply by ada@x") < note.index("internal note by bo@x")


def test_the_submitter_is_told_only_the_other_tickets_public_id():
    assert merge.public_reply("TK-00002") == (
        "This ticket was merged into TK-00002, which is about the same problem; "
        "the work goes on there."
    )


# -- the API ----------------------------------------------------------------------------------


# The app with mail sent to a real SMTP sink: the ticket page tests' own fixtures.
client = test_desk_ticket_page.client
sink = test_desk_ticket_page.sink


@pytest.fixture
async def key(client):
    await add_product(client, "app")
    return await make_key(client, name="Ada's key")


async def two_tickets(client, key, product="app"):
    duplicate = await create_ticket(
        client, key, subject="Export broken", email="dee@example.com", productSlug=product
    )
    target = await create_ticket(
        client, key, subject="TARGET-SUBJECT", email="cy@example.com", productSlug=product
    )
    return duplicate, target


async def merge_into(client, key, duplicate: dict, into: str):
    return await client.post(
        f"/api/v1/desk/tickets/{duplicate['id']}/merge", json={"into": into}, headers=bearer(key)
    )


async def comments_of(db, public_id: str) -> list[Comment]:
    number = int(public_id.removeprefix("TK-"))
    async with db.session() as session:
        query = select(Comment).where(Comment.ticket_id == number).order_by(Comment.id)
        return list(await session.scalars(query))


async def test_a_merge_closes_the_duplicate_tells_its_submitter_and_copies_it_over(
    client, db, key, sink
):
    duplicate, target = await two_tickets(client, key)
    await client.post(
        f"/api/v1/desk/tickets/{duplicate['id']}/comments",
        json={"body": "Is it every export?", "internal": False},
        headers=bearer(key),
    )
    await client.app[WORKERS].drain()
    before = len(sink.messages)

    resp = await merge_into(client, key, duplicate, target["publicId"])
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {
        "id": duplicate["id"],
        "publicId": duplicate["publicId"],
        "status": "closed",
        "mergedInto": {"id": target["id"], "publicId": target["publicId"]},
    }

    # The duplicate: closed as a duplicate, a public reply and an internal note.
    desk = await (
        await client.get(f"/api/v1/desk/tickets/{duplicate['id']}", headers=bearer(key))
    ).json()
    assert desk["status"] == "closed" and desk["stage"] == "CLOSED"
    said = [(c["internal"], c["body"]) for c in desk["comments"]]
    assert said[1] == (False, merge.public_reply(target["publicId"]))
    assert said[2][0] is True and target["publicId"] in said[2][1]
    # The target: the duplicate's conversation, for staff only.
    [note] = await comments_of(db, target["publicId"])
    assert note.internal and note.body.startswith(f"Merged from {duplicate['publicId']}")
    assert "Is it every export?" in note.body and "dee@example.com" in note.body

    # The duplicate's submitter is mailed the reply; the target's submitter is told nothing.
    await client.app[WORKERS].drain()
    mails = sink.messages[before:]
    assert any(
        "dee@example.com" in m["To"] and f"merged into {target['publicId']}" in m.as_string()
        for m in mails
    )
    assert not any("cy@example.com" in m["To"] for m in mails)

    # Both tickets' audit entries, as the key.
    async with db.session() as session:
        rows = list(await session.scalars(select(TicketAuditEntry).order_by(TicketAuditEntry.id)))
    numbers = {int(t["publicId"][3:]): t["publicId"] for t in (duplicate, target)}
    fields = [(numbers[r.ticket_id], r.field, r.new_value, r.actor_id) for r in rows]
    assert fields[-6:] == [
        (target["publicId"], "internal_note", note.desk_id, key["id"]),
        (duplicate["publicId"], "comment", desk["comments"][1]["id"], key["id"]),
        (duplicate["publicId"], "internal_note", desk["comments"][2]["id"], key["id"]),
        (duplicate["publicId"], "status", "closed", key["id"]),
        (duplicate["publicId"], "merged_into", target["publicId"], key["id"]),
        (target["publicId"], "merged_from", duplicate["publicId"], key["id"]),
    ]


async def test_the_duplicates_tracking_page_names_the_target_and_nothing_else_of_it(client, key):
    duplicate, target = await two_tickets(client, key)
    assert (await merge_into(client, key, duplicate, target["publicId"])).status == 200
    view = await (await client.get(f"/api/tickets/{duplicate['publicId']}")).json()
    last = view["history"][-1]
    assert last["to"] == "CLOSED" and last["description"] == f"Merged into {target['publicId']}"
    [closed] = [s for s in view["pipeline"] if s["stage"] == "CLOSED"]
    assert closed["closedReason"] == "duplicate"
    page = await (await client.get(f"/track/{duplicate['publicId']}")).text()
    assert f"Merged into {target['publicId']}" in page and "Closed: a duplicate" in page
    assert "TARGET-SUBJECT" not in page and "cy@example.com" not in page


async def test_a_ticket_merged_into_itself_is_refused(client, key):
    duplicate, _ = await two_tickets(client, key)
    resp = await merge_into(client, key, duplicate, duplicate["publicId"])
    assert resp.status == 409
    assert (await resp.json())["error"] == "Cannot merge a ticket into itself"


async def test_a_target_outside_the_keys_scope_is_refused_as_one_that_does_not_exist(
    client, db, key
):
    await add_product(client, "other")
    theirs = await create_ticket(client, key, productSlug="other")
    scoped = await make_key(client, name="App only", products=["app"])
    mine = await create_ticket(client, scoped)
    resp = await merge_into(client, scoped, mine, theirs["publicId"])
    missing = await merge_into(client, scoped, mine, "TK-09999")
    assert resp.status == missing.status == 409
    assert (await resp.json())["error"] == (await missing.json())["error"]
    assert (await resp.json())["error"] == "Target ticket not found"
    assert await comments_of(db, mine["publicId"]) == []
    assert await comments_of(db, theirs["publicId"]) == []


async def test_tickets_of_two_products_are_not_merged(client, key):
    await add_product(client, "other")
    duplicate, _ = await two_tickets(client, key)
    elsewhere = await create_ticket(client, key, productSlug="other")
    resp = await merge_into(client, key, duplicate, elsewhere["publicId"])
    assert resp.status == 409
    assert (await resp.json())["error"] == "Tickets of different products"


async def test_merging_twice_or_into_a_merged_ticket_is_refused(client, key):
    duplicate, target = await two_tickets(client, key)
    third = await create_ticket(client, key, productSlug="app")
    assert (await merge_into(client, key, duplicate, target["publicId"])).status == 200
    again = await merge_into(client, key, duplicate, third["publicId"])
    assert again.status == 409  # closed now, and merged already
    resp = await merge_into(client, key, third, duplicate["publicId"])
    assert resp.status == 409
    assert (await resp.json())["error"] == "Target was merged away"


async def test_a_closed_ticket_is_not_merged(client, key):
    duplicate, target = await two_tickets(client, key)
    await client.patch(
        f"/api/v1/desk/tickets/{target['id']}", json={"status": "closed"}, headers=bearer(key)
    )
    resp = await merge_into(client, key, duplicate, target["publicId"])
    assert resp.status == 409 and (await resp.json())["error"] == "Ticket closed"


@pytest.mark.parametrize("body", [{}, {"into": ""}, {"into": 7}, {"into": "x" * 65}])
async def test_a_merge_without_a_target_is_a_400(client, key, body):
    duplicate, _ = await two_tickets(client, key)
    resp = await client.post(
        f"/api/v1/desk/tickets/{duplicate['id']}/merge", json=body, headers=bearer(key)
    )
    assert resp.status == 400
    assert "into" in (await resp.json())["fields"]


async def test_a_viewers_key_may_not_merge(client, key):
    duplicate, target = await two_tickets(client, key)
    viewer = await invite(client, "vi@support.test", "Vi", "viewer")
    resp = await client.post(
        "/api/admin/keys", json={"name": "vi's key", "staff": viewer["id"]}, headers=ADMIN_HEADERS
    )
    resp = await merge_into(client, await resp.json(), duplicate, target["publicId"])
    assert resp.status == 403
