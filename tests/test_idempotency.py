"""``Idempotency-Key`` on the creates (issue 17, item 6): a request sent again under its key
gets the first answer and makes no second ticket, across processes and at once; another
request under the same key is a 409; a refused request keeps nothing; a key is per caller and
lasts a day; the stored answer does not hold the tracking token in clear."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select, update

from storage.models import IdempotencyKey, Ticket
from storage.types import utcnow
from tests.deskkit import bearer, make_key

SUBMISSION = {
    "productSlug": "my-saas-app",
    "submitterEmail": "agent@example.com",
    "subject": "Login button unresponsive on Safari",
    "body": "Steps: open Safari 17, click Sign In.",
}
DESK_TICKET = {"subject": "Printer on fire", "body": "Really.", "email": "ops@example.com"}


async def tickets(db) -> int:
    async with db.session() as session:
        return (await session.scalar(select(func.count()).select_from(Ticket))) or 0


async def submit(client, body=SUBMISSION, key: str | None = "key-1", **headers: str):
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/api/tickets", json=body, headers=headers)


async def test_the_same_request_again_gets_the_first_answer_and_no_second_ticket(
    client, product, db
):
    first = await submit(client)
    assert first.status == 201, await first.text()
    assert "Idempotent-Replayed" not in first.headers
    again = await submit(client)
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert await again.json() == await first.json()  # the same publicId and tracking token
    assert await tickets(db) == 1
    # The same JSON in another key order is the same request.
    reordered = dict(reversed(list(SUBMISSION.items())))
    assert (await (await submit(client, reordered)).json()) == await first.json()
    # Without a key, a create is a create.
    assert (await submit(client, key=None)).status == 201
    assert await tickets(db) == 2


async def test_another_request_under_a_used_key_is_a_conflict(client, product, db):
    assert (await submit(client)).status == 201
    resp = await submit(client, {**SUBMISSION, "subject": "Something else"})
    assert resp.status == 409
    body = await resp.json()
    assert body["error"] == "Idempotency-Key already used" and "new key" in body["hint"]
    assert await tickets(db) == 1


async def test_a_refused_request_keeps_nothing_so_the_fixed_one_goes_through(client, product, db):
    resp = await submit(client, {**SUBMISSION, "submitterEmail": "not an address"})
    assert resp.status == 400
    assert (await resp.json())["fields"]["submitterEmail"]
    resp = await submit(client)
    assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers
    assert await tickets(db) == 1


async def test_a_malformed_key_is_refused(client, product, db):
    for key in ("", "x" * 256, "tab\there"):
        resp = await submit(client, key=key)
        assert resp.status == 400, key
        assert (await resp.json())["error"] == "Invalid Idempotency-Key"
    assert await tickets(db) == 0


async def test_requests_at_once_under_one_key_make_one_ticket(client, product, db):
    answers = await asyncio.gather(*(submit(client, key="race") for _ in range(5)))
    assert [a.status for a in answers] == [201] * 5
    bodies = [await a.json() for a in answers]
    assert len({b["publicId"] for b in bodies}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 4
    assert await tickets(db) == 1


async def test_the_answer_holds_across_processes(make_client, product, db):
    # `product` registered it through the default client; these are two more servers.
    one, two = await make_client(), await make_client()
    first = await submit(one)
    again = await submit(two)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()
    assert await tickets(db) == 1


async def test_a_key_is_free_again_after_a_day(client, product, db):
    first = await (await submit(client)).json()
    async with db.begin() as session:
        await session.execute(
            update(IdempotencyKey).values(created_at=utcnow() - dt.timedelta(hours=25))
        )
    resp = await submit(client, {**SUBMISSION, "subject": "A new day"})
    assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers
    assert (await resp.json())["publicId"] != first["publicId"]
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(IdempotencyKey))) == 1


async def test_the_stored_answer_does_not_show_the_key_or_the_tracking_token(client, product, db):
    body = await (await submit(client, key="my-secret-key")).json()
    async with db.session() as session:
        [row] = (await session.scalars(select(IdempotencyKey))).all()
    assert body["trackingToken"] not in row.response
    assert "my-secret-key" not in row.key_hash + row.response
    assert row.status == 201


async def test_desk_creates_replay_per_key_and_two_keys_do_not_share(client, db):
    one, other = bearer(await make_key(client)), bearer(await make_key(client, "b@x.test"))
    headers = {**one, "Idempotency-Key": "desk-1"}
    first = await client.post("/api/v1/desk/tickets", json=DESK_TICKET, headers=headers)
    assert first.status == 201, await first.text()
    again = await client.post("/api/v1/desk/tickets", json=DESK_TICKET, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == (await first.json())["id"]
    theirs = await client.post(
        "/api/v1/desk/tickets", json=DESK_TICKET, headers={**other, "Idempotency-Key": "desk-1"}
    )
    assert theirs.status == 201 and "Idempotent-Replayed" not in theirs.headers
    assert (await theirs.json())["id"] != (await first.json())["id"]
    assert await tickets(db) == 2
