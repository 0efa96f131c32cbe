"""Staff names in public: submitters see a name chosen for them ("Support team", or the desk
key's publicName when the comment was written), never the key's name or an email address;
staff keep seeing the real author."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from bot.cli import main
from bot.rules.public_names import DEFAULT_PUBLIC_AUTHOR, public_author, validate_public_name
from bot.rules.validation import FieldErrors
from storage.models import Comment
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer

KEYS = "/api/admin/keys"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Dana from Support", "Dana from Support"),
        ("  Dana   from  Support ", "Dana from Support"),
        ("D" * 100, "D" * 100),
    ],
)
def test_a_public_name_is_stored_tidy_or_not_at_all(given, stored):
    errors = FieldErrors()
    assert validate_public_name(errors, {"publicName": given}) == stored
    assert errors.fields == {}


@pytest.mark.parametrize(
    "given",
    [
        "dana@example.com",
        "Dana @ Support",
        "Dana\uff20Support",
        "D" * 101,
        "Dana\nSupport",
        7,
        True,
        ["Dana"],
        "Dana\u200dSupport",
        "Dana\x00",
    ],
)
def test_a_bad_public_name_is_refused(given):
    errors = FieldErrors()
    assert validate_public_name(errors, {"publicName": given}) is None
    assert "publicName" in errors.fields


def test_older_comments_without_a_public_author_show_the_default():
    assert public_author(None) == DEFAULT_PUBLIC_AUTHOR == "Support team"
    assert public_author("Dana") == "Dana"


async def make_key(client, **fields) -> dict:
    resp = await client.post(
        KEYS, json={"name": "dana@acme.example", **fields}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def submit(client) -> dict:
    resp = await client.post(
        "/api/tickets",
        json={
            "productSlug": "my-saas-app",
            "submitterEmail": "customer@example.com",
            "subject": "Export fails",
            "body": "It fails.",
        },
    )
    assert resp.status == 201
    return await resp.json()


async def comment(client, key: dict, text: str, *, internal: bool = False) -> None:
    resp = await client.post(
        "/api/v1/desk/tickets/TK-00001/comments",
        json={"body": text, "internal": internal},
        headers=bearer(key),
    )
    assert resp.status == 201, await resp.text()


async def public_comments(client, ticket: dict) -> list[tuple[str, str]]:
    view = await (await client.get(f"/api/tickets/TK-00001?token={ticket['trackingToken']}")).json()
    return [(c["body"], c["author"]) for c in view["comments"]]


async def test_submitters_see_the_public_name_and_staff_the_real_author(client, product):
    anonymous = await make_key(client)
    named = await make_key(client, publicName="Dana from Support")
    assert anonymous["publicName"] is None and named["publicName"] == "Dana from Support"
    ticket = await submit(client)
    await comment(client, anonymous, "We are looking into it.")
    await comment(client, named, "Fixed in 2.4.2.")
    await comment(client, named, "internal: customer is VIP", internal=True)
    assert await public_comments(client, ticket) == [
        ("We are looking into it.", "Support team"),
        ("Fixed in 2.4.2.", "Dana from Support"),
    ]
    page = await (await client.get(f"/track/TK-00001?token={ticket['trackingToken']}")).text()
    assert "Dana from Support" in page and "Support team" in page
    assert "dana@acme.example" not in page
    staff = await (await client.get("/api/v1/desk/tickets/TK-00001", headers=bearer(named))).json()
    assert {c["author"] for c in staff["comments"]} == {"dana@acme.example"}


async def test_renaming_a_key_later_does_not_rewrite_what_submitters_saw(client, product):
    key = await make_key(client, publicName="Dana")
    ticket = await submit(client)
    await comment(client, key, "first")
    resp = await client.patch(
        f"{KEYS}/{key['id']}",
        json={"publicName": "Dana K.", "name": "Dana Kowalski"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 200
    changed = await resp.json()
    assert changed["publicName"] == "Dana K." and changed["name"] == "Dana Kowalski"
    await comment(client, key, "second")  # the same key, signed with its new public name
    resp = await client.patch(
        f"{KEYS}/{key['id']}", json={"publicName": None}, headers=ADMIN_HEADERS
    )
    assert (await resp.json())["publicName"] is None
    await comment(client, key, "third")
    assert await public_comments(client, ticket) == [
        ("first", "Dana"),
        ("second", "Dana K."),
        ("third", "Support team"),
    ]


async def test_comments_from_before_public_names_show_support_team(client, db, product):
    key = await make_key(client, publicName="Dana")
    ticket = await submit(client)
    await comment(client, key, "old")
    async with db.begin() as session:  # a row as migration 0003 found it
        await session.execute(update(Comment).values(public_author=None))
    assert await public_comments(client, ticket) == [("old", "Support team")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"publicName": "dana@acme.example"}, "publicName"),
        ({"publicName": "x" * 101}, "publicName"),
        ({"name": ""}, "name"),
        ({"products": ["a"]}, "products"),
        ({}, "body"),
    ],
)
async def test_a_bad_key_update_is_a_400(client, body, field):
    key = await make_key(client)
    resp = await client.patch(f"{KEYS}/{key['id']}", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 400
    answer = await resp.json()
    assert field in answer["fields"] and answer["hint"]


async def test_a_bad_public_name_on_create_is_a_400(client):
    resp = await client.post(
        KEYS, json={"name": "Dana", "publicName": "dana@acme.example"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 400 and "publicName" in (await resp.json())["fields"]


async def test_updating_an_unknown_key_is_a_404(client):
    for key_id in ("key_nope", "not-a-key-id"):
        resp = await client.patch(
            f"{KEYS}/{key_id}", json={"publicName": "X"}, headers=ADMIN_HEADERS
        )
        assert resp.status == 404 and (await resp.json())["error"] == "Key not found"


def test_the_cli_sets_a_public_name_on_create_and_later(tmp_path, capsys):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert main(["keys", "create", "--name", "Dana K", "--public-name", "Dana"], env) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--json"], env) == 0
    [key] = json.loads(capsys.readouterr().out)
    assert key["publicName"] == "Dana"
    assert main(["keys", "set", key["id"], "--public-name", "Support (Dana)"], env) == 0
    assert "submitters see 'Support (Dana)'" in capsys.readouterr().out
    assert main(["keys", "set", key["id"], "--default-public-name"], env) == 0
    assert "submitters see 'Support team'" in capsys.readouterr().out
    assert main(["keys", "set", key["id"], "--public-name", "d@x.io"], env) == 2
    assert "argument --public-name: must be" in capsys.readouterr().err
    assert main(["keys", "list"], env) == 0
    assert "shown as 'Support team'" in capsys.readouterr().out
