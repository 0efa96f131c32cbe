"""Alerts to tickets over HTTP (issue 18, item 4), with Alertmanager's webhook body (version 4)
as tests/test_alertmanager_real.py sees the real one send it, and Grafana's recorded bodies:
a ticket per group, repeats counted, new alerts commented, resolved when all resolve unless a
person worked on it, reopened within the window, a new ticket past it; refused input is a
clear 4xx and stores nothing."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from storage.models import AlertGroup, Comment, Ticket
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, bearer, make_key
from tests.openapi_recorder import ResponseRecorder

DATA = Path(__file__).parent / "data" / "alerts"
AM = "/api/alerts/alertmanager"
T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def alert(name: str, fingerprint: str, status: str = "firing", **labels: str) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "job": "api", **labels},
        "annotations": {"summary": f"{name} on api", "description": "p99 above 2 s"},
        "startsAt": "2026-12-03T08:59:30.123456789Z",
        "endsAt": "2026-12-03T09:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict, group: str = 'group:{alertname="HighLatency"}') -> dict:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "tinydesk",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": {"alertname": alerts[0]["labels"]["alertname"], "job": "api"},
        "commonAnnotations": {"summary": alerts[0]["annotations"]["summary"]},
        "externalURL": "http://alertmanager.local:9093",
        "alerts": list(alerts),
    }


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
async def hook(db, aiohttp_client):
    """A desk key for one product, the app's clock, and a poster."""
    recorder = ResponseRecorder()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    clock = Clock()
    app[CLOCK] = clock
    app.on_response_prepare.append(recorder.on_prepare)
    client = await aiohttp_client(app)
    await add_product(client, "api")
    headers = bearer(await make_key(client, "alertmanager@ops.test", products=["api"]))

    async def post(body: dict, path: str = AM, expect: int = 200) -> dict:
        resp = await client.post(path, json=body, headers=headers)
        assert resp.status == expect, await resp.text()
        return await resp.json()

    post.client, post.clock, post.headers = client, clock, headers  # type: ignore[attr-defined]
    yield post
    recorder.assert_valid()


async def ticket_of(db, public_id: str) -> Ticket:
    async with db.session() as session:
        return await session.get(Ticket, int(public_id.removeprefix("TK-")))


async def notes(db, ticket: Ticket) -> list[Comment]:
    async with db.session() as session:
        query = select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
        return list(await session.scalars(query))


async def test_a_group_fires_repeats_grows_and_resolves(hook, db):
    opened = await hook(notification(alert("HighLatency", "a1", severity="critical")))
    assert opened["actions"] == ["opened"]
    ticket = await ticket_of(db, opened["ticket"]["publicId"])
    assert ticket.source_type == "alert" and ticket.priority == "urgent"
    assert ticket.subject == "[alert] HighLatency: HighLatency on api (api)"
    assert "fingerprint**: `a1`" in ticket.body and "alertmanager.local" in ticket.body
    # Alertmanager repeats the group: nothing new, only counted.
    again = await hook(notification(alert("HighLatency", "a1", severity="critical")))
    assert again["actions"] == ["counted"] and again["ticket"] == opened["ticket"]
    # A second alert joins the group: a note for staff.
    grown = await hook(
        notification(alert("HighLatency", "a1"), alert("HighLatency", "b2", instance="api-2"))
    )
    assert grown["actions"] == ["commented"] and grown["alerts"]["new"] == 1
    [note] = await notes(db, ticket)
    assert note.internal and "1 alert firing" in note.body and "`b2`" in note.body
    # One resolves: still firing. Both resolve: the ticket resolves.
    half = await hook(
        notification(alert("HighLatency", "a1", "resolved"), alert("HighLatency", "b2"))
    )
    assert half["actions"] == ["counted"] and half["status"] == "open"
    done = await hook(
        notification(alert("HighLatency", "a1", "resolved"), alert("HighLatency", "b2", "resolved"))
    )
    assert done["actions"] == ["resolved"] and done["status"] == "resolved"
    # Alertmanager may say it again: nothing more happens.
    assert (
        await hook(
            notification(
                alert("HighLatency", "a1", "resolved"), alert("HighLatency", "b2", "resolved")
            )
        )
    )["actions"] == ["counted"]
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Ticket))) == 1
        group = await session.scalar(select(AlertGroup))
    assert group.notifications == 6


async def test_firing_again_reopens_within_the_window_and_opens_anew_past_it(hook, db):
    first = await hook(notification(alert("DiskFull", "d1")))
    await hook(notification(alert("DiskFull", "d1", "resolved")))
    hook.clock.at = T0 + dt.timedelta(hours=2)
    back = await hook(notification(alert("DiskFull", "d1")))
    assert back["actions"] == ["reopened"] and back["status"] == "open"
    assert back["ticket"] == first["ticket"]
    ticket = await ticket_of(db, first["ticket"]["publicId"])
    assert any("Fired again." in n.body for n in await notes(db, ticket))
    await hook(notification(alert("DiskFull", "d1", "resolved")))
    hook.clock.at = T0 + dt.timedelta(days=3)  # past the 24 h window
    anew = await hook(notification(alert("DiskFull", "d1")))
    assert anew["actions"] == ["opened_again"]
    assert anew["ticket"]["publicId"] != first["ticket"]["publicId"]
    fresh = await ticket_of(db, anew["ticket"]["publicId"])
    assert first["ticket"]["publicId"] in fresh.body


async def test_a_ticket_someone_worked_on_is_not_resolved_by_the_alerts(hook, db):
    opened = await hook(notification(alert("QueueBacklog", "q1")))
    resp = await hook.client.patch(
        f"/api/v1/desk/tickets/{opened['ticket']['id']}",
        json={"assignee": "ada@ops.test"},
        headers=bearer(await make_key(hook.client, "ada@ops.test")),
    )
    assert resp.status == 200, await resp.text()
    done = await hook(notification(alert("QueueBacklog", "q1", "resolved")))
    assert done["actions"] == ["kept_open"] and done["status"] == "open"
    ticket = await ticket_of(db, opened["ticket"]["publicId"])
    assert "stays open" in (await notes(db, ticket))[-1].body


async def test_resolved_alerts_of_a_group_never_seen_open_nothing(hook, db):
    body = await hook(notification(alert("Gone", "g1", "resolved")))
    assert body == {"ticket": None, "actions": ["ignored"], "status": None}
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Ticket))) == 0
        assert (await session.scalar(select(func.count()).select_from(AlertGroup))) == 0


async def test_grafana_bodies_open_and_resolve_a_ticket(hook, db):
    firing = json.loads((DATA / "grafana-firing.json").read_text())
    opened = await hook(firing, "/api/alerts/grafana")
    assert opened["actions"] == ["opened"]
    ticket = await ticket_of(db, opened["ticket"]["publicId"])
    assert ticket.priority == "urgent"
    assert ticket.subject == "[alert] Disk almost full: Disk on db-1 is 93% full (db-1)"
    resolved = json.loads((DATA / "grafana-resolved.json").read_text())
    done = await hook(resolved, "/api/alerts/grafana")
    assert done["actions"] == ["resolved"]
    # Grafana's legacy dashboard alerts are another format: refused, with the reason.
    legacy = json.loads((DATA / "grafana-legacy.json").read_text())
    refused = await hook(legacy, "/api/alerts/grafana", expect=400)
    assert "alerts" in refused["fields"] and refused["hint"]


async def test_a_grafana_body_without_group_key_groups_by_rule_and_labels(hook):
    firing = json.loads((DATA / "grafana-firing.json").read_text())
    del firing["groupKey"]
    first = await hook(firing, "/api/alerts/grafana")
    again = await hook(copy.deepcopy(firing), "/api/alerts/grafana")
    assert again["ticket"] == first["ticket"] and again["actions"] == ["counted"]


async def test_the_same_group_key_of_two_products_is_two_groups(hook, db):
    client = hook.client
    await add_product(client, "web")
    both = bearer(await make_key(client, "am@ops.test", products=["api", "web"]))
    body = notification(alert("HighLatency", "a1"))
    refused = await client.post(AM, json=body, headers=both)
    assert refused.status == 400 and "?product=" in (await refused.json())["hint"]
    one = await (await client.post(f"{AM}?product=api", json=body, headers=both)).json()
    two = await (await client.post(f"{AM}?product=web", json=body, headers=both)).json()
    assert one["ticket"] != two["ticket"]
    outside = await client.post(f"{AM}?product=nope", json=body, headers=both)
    assert outside.status == 404
    nul = await client.post(f"{AM}?product=api%00", json=body, headers=both)
    assert nul.status == 400 and "product" in (await nul.json())["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "firing", "groupKey": "g", "alerts": []},
        {"status": "firing", "groupKey": "g", "alerts": [{"status": "exploded"}]},
        {"status": "firing", "groupKey": "g", "alerts": ["nope"]},
        {"status": "firing", "groupKey": 7, "alerts": [{"status": "firing"}]},
        {"status": "firing", "groupKey": "g", "version": "3", "alerts": [{"status": "firing"}]},
        {"status": "firing", "groupKey": "g", "alerts": [{"status": "firing", "labels": [1]}]},
        {
            "status": "firing",
            "groupKey": "g",
            "alerts": [{"status": "firing", "labels": {"a": {}}}],
        },
        {
            "status": "firing",
            "groupKey": "g",
            "commonLabels": "x",
            "alerts": [{"status": "firing"}],
        },
        {"status": "firing", "groupKey": "g", "alerts": [{"status": "firing", "fingerprint": ""}]},
    ],
)
async def test_malformed_notifications_are_refused_and_store_nothing(hook, db, body):
    refused = await hook(body, expect=400)
    assert refused["error"] and refused["hint"] and refused["fields"]
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Ticket))) == 0


async def test_a_webhook_without_a_valid_key_is_401(hook):
    resp = await hook.client.post(AM, json=notification(alert("X", "x1")))
    assert resp.status == 401
    resp = await hook.client.post(
        AM, json=notification(alert("X", "x1")), headers=bearer("td_live_not-a-key")
    )
    assert resp.status == 401
