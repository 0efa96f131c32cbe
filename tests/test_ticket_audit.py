"""Audit entries (issue 19, item 6): every change people or keys make to a ticket, through
any door (desk API, ITSM API, time entries, the admin's link), records who did it and what
changed from what to what, in the same transaction; the pure rule's table; and the desk
API's ``GET /desk/tickets/{id}/history``, which shows them with the stage causes and never
to a key that may not see the ticket."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.appkeys import DB
from bot.rules import audit
from bot.rules.audit import Entry
from bot.views import ticket_history
from storage.models import TicketAuditEntry
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import add_product, bearer, create_ticket, make_key
from tests.test_staff_accounts import invite

# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"status": "open"}, {"status": "open"}, []),
        ({"status": "open"}, {"status": "pending"}, [Entry("status", "open", "pending")]),
        ({"assignee": None}, {"assignee": "ada@x.test"}, [Entry("assignee", None, "ada@x.test")]),
        ({"assignee": "ada@x.test"}, {"assignee": None}, [Entry("assignee", "ada@x.test", None)]),
        ({"tags": []}, {"tags": ["a", "b"]}, [Entry("tags", None, "a, b")]),
        ({"tags": ["a", "b"]}, {"tags": ["a", "b"]}, []),
        ({"tags": ["a", "b"]}, {"tags": ["b", "a"]}, [Entry("tags", "a, b", "b, a")]),
        ({"deleted": False}, {"deleted": True}, [Entry("deleted", "no", "yes")]),
        ({"body": "old words"}, {"body": "new words"}, [Entry("body", None, None)]),
        ({"body": "same"}, {"body": "same"}, []),
        ({}, {"category": "billing"}, [Entry("category", None, "billing")]),
        ({"category": ""}, {"category": None}, [Entry("category", "", None)]),
        (
            # Entries come in LABELS order, whatever order the change named them in.
            {"tags": [], "priority": "low", "status": "open"},
            {"tags": ["x"], "priority": "high", "status": "pending"},
            [
                Entry("status", "open", "pending"),
                Entry("priority", "low", "high"),
                Entry("tags", None, "x"),
            ],
        ),
        ({"subject": "a" * 300}, {"subject": "b"}, [Entry("subject", "a" * 199 + "…", "b")]),
    ],
)
def test_the_rule_records_exactly_the_fields_that_changed(before, after, expected):
    assert audit.entries(before, after) == expected


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (Entry("status", "open", "pending"), "Status: open → pending"),
        (Entry("assignee", None, "ada@x.test"), "Assignee: none → ada@x.test"),
        (Entry("body", None, None), "Message changed"),
        (audit.added("internal_note", "cmt_1"), "Internal note added (cmt_1)"),
        (audit.added("comment", "cmt_2"), "Public reply added (cmt_2)"),
        (audit.removed("time_entry", "tim_1: 15 min"), "Time entry removed (tim_1: 15 min)"),
        (audit.added("github_issue", "o/r#12"), "GitHub issue linked: o/r#12"),
        (audit.added("github_issue", audit.ISSUE_REQUESTED), "GitHub issue requested"),
        (audit.added("merged_into", "TK-00002"), "Merged into TK-00002"),
        (audit.added("merged_from", "TK-00001"), "TK-00001 was merged into this ticket"),
    ],
)
def test_an_entry_reads_as_staff_expect(entry, words):
    assert audit.describe(entry) == words


def test_values_become_text_the_same_way_everywhere():
    when = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    assert [audit.as_text(v) for v in (None, True, False, [], ("a",), when, 7)] == [
        None,
        "yes",
        "no",
        None,
        "a",
        "2026-03-01T12:00:00+00:00",
        "7",
    ]


# -- every door records its change -------------------------------------------------------------


async def entries_of(db, public_id: str) -> list[tuple[str, str, str, str | None, str | None]]:
    number = int(public_id.removeprefix("TK-"))
    async with db.session() as session:
        rows = await session.scalars(
            select(TicketAuditEntry)
            .where(TicketAuditEntry.ticket_id == number)
            .order_by(TicketAuditEntry.id)
        )
        return [(r.actor_id, r.actor_name, r.field, r.old_value, r.new_value) for r in rows]


@pytest.fixture
async def key(client):
    return await make_key(client, name="Intake bot")


async def test_a_patch_records_each_changed_field_with_the_keys_id_and_name(client, db, key):
    ticket = await create_ticket(client, key)
    assert await entries_of(db, ticket["publicId"]) == []  # a new ticket: its history says so
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}",
        json={"status": "pending", "priority": "high", "tags": ["login", "vip"], "category": None},
        headers=bearer(key),
    )
    assert resp.status == 200, await resp.text()
    by = (key["id"], "Intake bot")
    assert await entries_of(db, ticket["publicId"]) == [
        (*by, "status", "open", "pending"),
        (*by, "tags", "login, urgent", "login, vip"),
    ]  # priority was high already, category empty already: no entries


async def test_a_refused_patch_records_nothing(client, db, key):
    ticket = await create_ticket(client, key)
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}",
        json={"priority": "low", "slaPolicy": "No such policy"},
        headers=bearer(key),
    )
    assert resp.status == 400
    assert await entries_of(db, ticket["publicId"]) == []


async def test_the_sla_policy_is_recorded_by_name(client, db, key):
    ticket = await create_ticket(client, key)
    resp = await client.post(
        "/api/admin/sla/policies", json={"name": "Gold"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()
    name = "Gold"
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"slaPolicy": name}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    [entry] = await entries_of(db, ticket["publicId"])
    assert entry[2:] == ("sla_policy", "Default", name)


async def test_a_delete_records_the_close_and_the_delete(client, db, key):
    ticket = await create_ticket(client, key)
    resp = await client.delete(f"/api/v1/desk/tickets/{ticket['id']}", headers=bearer(key))
    assert resp.status == 200
    assert [e[2:] for e in await entries_of(db, ticket["publicId"])] == [
        ("status", "open", "closed"),
        ("deleted", "no", "yes"),
    ]


async def test_comments_are_recorded_by_id_and_never_by_their_text(client, db, key):
    ticket = await create_ticket(client, key)
    ids = []
    for internal in (False, True):
        resp = await client.post(
            f"/api/v1/desk/tickets/{ticket['id']}/comments",
            json={"body": "SECRET words", "internal": internal},
            headers=bearer(key),
        )
        assert resp.status == 201
        ids.append((await resp.json())["id"])
    recorded = await entries_of(db, ticket["publicId"])
    assert [e[2:] for e in recorded] == [
        ("comment", None, ids[0]),
        ("internal_note", None, ids[1]),
    ]
    assert not any("SECRET" in str(e) for e in recorded)


async def test_time_entries_are_recorded_when_logged_changed_and_deleted(client, db, key):
    ticket = await create_ticket(client, key)
    url = f"/api/v1/desk/tickets/{ticket['id']}/time"
    resp = await client.post(url, json={"minutes": 15, "description": "Call"}, headers=bearer(key))
    assert resp.status == 201, await resp.text()
    entry = (await resp.json())["id"]
    resp = await client.patch(
        f"{url}/{entry}", json={"minutes": 30, "billable": False}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    resp = await client.patch(f"{url}/{entry}", json={"description": "Phone"}, headers=bearer(key))
    assert resp.status == 200
    assert (await client.delete(f"{url}/{entry}", headers=bearer(key))).status == 200
    assert [e[2:] for e in await entries_of(db, ticket["publicId"])] == [
        ("time_entry", None, f"{entry}: 15 min"),
        ("time_entry", f"{entry}: 15 min", f"{entry}: 30 min, not billable"),
        # the description alone changed: the entry's own text, not recorded
        ("time_entry", f"{entry}: 30 min, not billable", None),
    ]


async def test_the_itsm_update_delete_and_restore_are_recorded(client, db, key):
    ticket = await create_ticket(client, key)
    base = f"/api/v1/helpdesk/tickets/{ticket['id']}"
    resp = await client.patch(
        base,
        json={"title": "Sign-in fails", "description": "New words", "priority": "urgent"},
        headers=bearer(key),
    )
    assert resp.status == 200, await resp.text()
    assert (await client.delete(base, headers=bearer(key))).status in (200, 204)
    assert (await client.post(f"{base}/restore", headers=bearer(key))).status == 200
    assert [e[2:] for e in await entries_of(db, ticket["publicId"])] == [
        ("priority", "high", "urgent"),
        ("subject", "Login issue", "Sign-in fails"),
        ("body", None, None),
        ("deleted", "no", "yes"),
        ("deleted", "yes", "no"),
    ]


async def test_a_persons_key_is_recorded_as_them_by_their_display_name(client, db):
    person = await invite(client, "bo@support.test", "Bo from Support", "agent")
    resp = await client.post(
        "/api/admin/keys", json={"name": "bo's key", "staff": person["id"]}, headers=ADMIN_HEADERS
    )
    key = await resp.json()
    ticket = await create_ticket(client, key)
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"assignee": "bo"}, headers=bearer(key)
    )
    assert resp.status == 200
    assert await entries_of(db, ticket["publicId"]) == [
        (key["id"], "Bo from Support", "assignee", None, "bo")
    ]


async def test_the_admins_link_is_recorded_as_admin(world):
    ticket = await world.submit()
    issue = world.fake.add_issue("octo-org", "my-saas-app", "Known problem")
    resp = await world.client.post(
        f"/api/admin/tickets/{ticket['publicId']}/link",
        json={"issue": issue},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 200, await resp.text()
    assert await entries_of(world.client.app[DB], ticket["publicId"]) == [
        ("admin", "admin", "github_issue", None, f"octo-org/my-saas-app#{issue}")
    ]


# -- the history endpoint ---------------------------------------------------------------------


async def test_the_history_lists_stage_changes_with_causes_and_audit_entries(client, key):
    ticket = await create_ticket(client, key)
    await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"status": "closed"}, headers=bearer(key)
    )
    resp = await client.get(
        f"/api/v1/desk/tickets/{ticket['publicId']}/history", headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["ticket"] == {"id": ticket["id"], "publicId": ticket["publicId"]}
    kinds = [(item["kind"], item.get("cause") or item.get("field")) for item in body["history"]]
    assert kinds == [("stage", "ticket.submitted"), ("stage", "staff.closed"), ("change", "status")]
    closing = body["history"][1]
    assert closing["actor"] == "Intake bot" and "staff.closed by Intake bot" in closing["causeText"]
    change = body["history"][2]
    assert change["actor"] == {"id": key["id"], "name": "Intake bot"}
    assert change["text"] == "Status: open → closed"


async def test_the_history_of_a_ticket_outside_the_keys_scope_is_a_404(client, key):
    await add_product(client, "theirs")
    await add_product(client, "mine")
    ticket = await create_ticket(client, key, productSlug="theirs")
    scoped = await make_key(client, name="Scoped", products=["mine"])
    resp = await client.get(f"/api/v1/desk/tickets/{ticket['id']}/history", headers=bearer(scoped))
    assert resp.status == 404


async def test_billing_a_ticket_to_a_client_is_recorded(client, db, key):
    ticket = await create_ticket(client, key)
    resp = await client.post("/api/v1/desk/clients", json={"name": "Acme"}, headers=bearer(key))
    assert resp.status == 201, await resp.text()
    acme = await resp.json()
    url = f"/api/v1/desk/tickets/{ticket['id']}/client"
    assert (await client.put(url, json={"client": acme["id"]}, headers=bearer(key))).status == 200
    assert (await client.put(url, json={"client": None}, headers=bearer(key))).status == 200
    assert [e[2:] for e in await entries_of(db, ticket["publicId"])] == [
        ("client", None, f"Acme ({acme['id']})"),
        ("client", f"Acme ({acme['id']})", None),
    ]


def test_the_history_is_one_list_in_time_order_with_stage_changes_first_at_a_tie():
    from storage.models import StageTransition
    from storage.reads.sla_events import SlaEventRecord

    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    later = t0 + dt.timedelta(minutes=5)
    step = StageTransition(
        from_stage="RECEIVED",
        to_stage="ISSUE_CREATED",
        at=later,
        cause="issues.opened",
        description="Issue opened",
        actor="octocat",
        delivery_id="d-1",
    )
    change = TicketAuditEntry(
        at=later,
        actor_id="key_1",
        actor_name="Bot",
        field="status",
        old_value="open",
        new_value="pending",
    )
    early = TicketAuditEntry(
        at=t0,
        actor_id="key_1",
        actor_name="Bot",
        field="priority",
        old_value="low",
        new_value="high",
    )
    breach = SlaEventRecord("breach", "response", t0, later)
    items = ticket_history.timeline([step], [early, change], [breach])
    assert [item["kind"] for item in items] == ["change", "stage", "change", "sla"]
    assert items[1]["causeText"] == "issues.opened by octocat via delivery d-1"
    assert items[3]["text"] == "The response target is breached"
