"""The hour bank's 80 % and 95 % warnings (issue 16 item 3): recorded once per contract,
period and threshold however often time is logged or edited, shown in the ledger's
``events``, and told to the client's billing webhook through the outbox, signed with the
secret shown once, never when the client has none."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.billing import bank_alerts, bank_webhook
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import RetryLater
from storage.models import ContractEvent, Job
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.openapi_recorder import ResponseRecorder
from tests.webhook_receiver import Receiver, start_receiver

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
SETTINGS = Settings(admin_token=ADMIN_TOKEN, run_workers=False)


@pytest.fixture
async def receiver(aiohttp_server) -> Receiver:
    return await start_receiver(aiohttp_server, "/hooks/billing")


@pytest.fixture
async def desk(db, aiohttp_client):
    recorder = ResponseRecorder()
    app = create_app(SETTINGS, db=db)
    app[CLOCK] = lambda: NOW
    app.on_response_prepare.append(recorder.on_prepare)
    client = await aiohttp_client(app)
    yield client, bearer(await make_key(client))
    recorder.assert_valid()


async def bank(client, headers, **client_fields: Any) -> tuple[dict, dict, dict]:
    """A client with a 10 h/month bank from 2026-03-01 and a ticket billed to it."""
    resp = await client.post(
        "/api/v1/desk/clients",
        json={"name": "Acme", "domains": ["acme.test"], **client_fields},
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    customer = await resp.json()
    resp = await client.post(
        "/api/v1/desk/contracts",
        json={
            "client": customer["id"],
            "name": "Acme 10 h",
            "kind": "time_based",
            "startsOn": "2026-03-01",
            "hoursPerPeriod": 10,
            "hourlyRate": "80.00",
            "overageRate": "120.00",
        },
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    contract = await resp.json()
    resp = await client.post(
        "/api/v1/desk/tickets",
        json={"subject": "VPN", "body": "It drops.", "email": "bob@acme.test"},
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    return customer, contract, await resp.json()


async def log(client, headers, ticket: dict, contract: dict, minutes: int, day: int) -> dict:
    resp = await client.post(
        f"/api/v1/desk/tickets/{ticket['id']}/time",
        json={
            "minutes": minutes,
            "description": "Work",
            "startedAt": f"2026-03-{day:02d}T10:00:00Z",
            "contract": contract["id"],
        },
        headers=headers,
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def warnings(db) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            select(ContractEvent.kind, ContractEvent.period_start).order_by(ContractEvent.id)
        )
        return [(kind, start.isoformat()) for kind, start in rows]


async def notify_jobs(db) -> list[Job]:
    async with db.session() as session:
        query = select(Job).where(Job.kind == JobKind.BANK_NOTIFY).order_by(Job.id)
        return list((await session.scalars(query)).all())


def test_thresholds_are_reached_at_80_and_95_percent_exactly():
    assert bank_alerts.crossed(479, 600) == []
    assert [kind for _, kind in bank_alerts.crossed(480, 600)] == ["bank.warning80"]
    assert [kind for _, kind in bank_alerts.crossed(569, 600)] == ["bank.warning80"]
    assert [kind for _, kind in bank_alerts.crossed(570, 600)] == [
        "bank.warning80",
        "bank.warning95",
    ]
    # A bank of nothing is used up by any time at all.
    assert bank_alerts.crossed(0, 0) == []
    assert len(bank_alerts.crossed(1, 0)) == 2


async def test_each_warning_is_recorded_once_per_period_and_shown_in_the_ledger(desk, db):
    client, headers = desk
    _, contract, ticket = await bank(client, headers)
    await log(client, headers, ticket, contract, 470, 2)  # 470 of 600: 78 %
    assert await warnings(db) == []
    await log(client, headers, ticket, contract, 10, 3)  # 480: 80 %
    assert await warnings(db) == [("bank.warning80", "2026-03-01")]
    await log(client, headers, ticket, contract, 60, 4)  # 540: 90 %, nothing new
    await log(client, headers, ticket, contract, 30, 5)  # 570: 95 %
    await log(client, headers, ticket, contract, 100, 6)  # over: nothing new
    assert await warnings(db) == [
        ("bank.warning80", "2026-03-01"),
        ("bank.warning95", "2026-03-01"),
    ]
    resp = await client.get(
        f"/api/v1/desk/contracts/{contract['id']}/ledger?through=2026-03-31", headers=headers
    )
    ledger = await resp.json()
    assert [(e["kind"], e["percent"], e["usedMinutes"]) for e in ledger["events"]] == [
        ("bank.warning80", 80, 480),
        ("bank.warning95", 95, 570),
    ]
    # No webhook: nothing queued.
    assert await notify_jobs(db) == []


async def test_the_webhook_gets_each_warning_signed(desk, db, receiver):
    client, headers = desk
    customer, contract, ticket = await bank(client, headers, webhookUrl=receiver.url)
    receiver.secret = customer[bank_webhook.SECRET_FIELD]
    assert receiver.secret.startswith("whsec_")
    resp = await client.get(f"/api/v1/desk/clients/{customer['id']}", headers=headers)
    shown = await resp.json()
    assert bank_webhook.SECRET_FIELD not in shown  # shown once only
    assert shown["webhookUrl"] == receiver.url

    await log(client, headers, ticket, contract, 600, 2)  # 100 %: both at once
    jobs = await notify_jobs(db)
    assert len(jobs) == 2
    handler = bank_webhook.notify_handler(db, SETTINGS)
    for job in jobs:
        await handler(job)
    assert [r["event"] for r in receiver.received] == ["bank.warning", "bank.warning"]
    bodies = [r["body"] for r in receiver.received]
    assert [b["percent"] for b in bodies] == [80, 95]
    assert bodies[0]["client"] == {"id": customer["id"], "name": "Acme"}
    assert bodies[0]["contract"] == {"id": contract["id"], "name": "Acme 10 h"}
    assert (bodies[0]["periodStart"], bodies[0]["periodEnd"]) == ("2026-03-01", "2026-03-31")
    assert (bodies[0]["usedMinutes"], bodies[0]["availableMinutes"]) == (600, 600)
    for request in receiver.received:
        assert receiver.secret.encode() not in request["raw"]


async def test_a_failing_receiver_is_retried_and_a_removed_webhook_sends_nothing(
    desk, db, receiver
):
    client, headers = desk
    customer, contract, ticket = await bank(client, headers, webhookUrl=receiver.url)
    receiver.secret = customer[bank_webhook.SECRET_FIELD]
    await log(client, headers, ticket, contract, 480, 2)
    [job] = await notify_jobs(db)
    handler = bank_webhook.notify_handler(db, SETTINGS)
    receiver.answers = [503]
    with pytest.raises(RetryLater):
        await handler(job)
    resp = await client.patch(
        f"/api/v1/desk/clients/{customer['id']}", json={"webhookUrl": None}, headers=headers
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["webhookUrl"] is None
    await handler(job)  # nothing to tell any more: done, no request
    assert len(receiver.received) == 1


async def test_bad_webhook_fields_are_refused_and_change_nothing(desk, db):
    client, headers = desk
    customer, _, _ = await bank(client, headers)
    for body in (
        {"webhookUrl": "http://example.com/hook"},  # plain http beyond this machine
        {"webhookUrl": "ftp://example.com"},
        {"rotateWebhookSecret": False},
    ):
        resp = await client.patch(
            f"/api/v1/desk/clients/{customer['id']}", json=body, headers=headers
        )
        assert resp.status == 400, body
        problem = await resp.json()
        assert problem["error"] and problem["hint"] and problem["fields"]
    resp = await client.patch(
        f"/api/v1/desk/clients/{customer['id']}",
        json={"rotateWebhookSecret": True},
        headers=headers,
    )
    assert resp.status == 409
    resp = await client.get(f"/api/v1/desk/clients/{customer['id']}", headers=headers)
    assert (await resp.json())["webhookUrl"] is None
