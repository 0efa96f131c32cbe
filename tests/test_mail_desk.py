"""What staff see of mail in: a ticket's attachments in the desk (listed, and downloaded only
as attachments, never sniffed), and a product's own mail address set through the admin API."""

from __future__ import annotations

from bot.mail.incoming.deliver import deliver
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key
from tests.mail_in_kit import corpus_message, mail_settings


async def test_attachments_are_listed_on_the_desk_ticket_and_downloaded_safely(db, make_client):
    client = await make_client(mail_settings())
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    outcome = await deliver(db, mail_settings(), corpus_message("image_attachment.eml"))
    key = await make_key(client)
    resp = await client.get(f"/api/v1/desk/tickets/{outcome.public_id}", headers=bearer(key))
    assert resp.status == 200
    ticket = await resp.json()
    [attachment] = ticket["attachments"]
    assert attachment["filename"] == "screen shot.png"
    assert attachment["contentType"] == "image/png" and attachment["size"] > 0
    # The refused .exe is named to the submitter in a public comment.
    assert [c["body"] for c in ticket["comments"]] == [
        "We could not keep invoice.exe: that type is not accepted (images, PDF and text files are)."
    ]
    url = f"/api/v1/desk/tickets/{outcome.public_id}/attachments/{attachment['id']}"
    resp = await client.get(url, headers=bearer(key))
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="screen shot.png"'
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await resp.read()).startswith(b"\x89PNG")
    # Without a key, or under another ticket: nothing.
    assert (await client.get(url)).status == 401
    other = await deliver(db, mail_settings(), corpus_message("new_thunderbird.eml"))
    wrong = f"/api/v1/desk/tickets/{other.public_id}/attachments/{attachment['id']}"
    resp = await client.get(wrong, headers=bearer(key))
    assert resp.status == 404 and (await resp.json())["error"] == "Attachment not found"


async def test_a_key_limited_to_another_product_cannot_download(db, make_client):
    client = await make_client(mail_settings())
    for slug in ("my-saas-app", "other-app"):
        resp = await client.post(
            "/api/admin/products",
            json={"slug": slug, "repo": f"octo-org/{slug}"},
            headers=ADMIN_HEADERS,
        )
        assert resp.status == 201
    outcome = await deliver(db, mail_settings(), corpus_message("image_attachment.eml"))
    owner = await make_key(client, "owner", products=["my-saas-app"])
    stranger = await make_key(client, "stranger", products=["other-app"])
    resp = await client.get(f"/api/v1/desk/tickets/{outcome.public_id}", headers=bearer(owner))
    [attachment] = (await resp.json())["attachments"]
    url = f"/api/v1/desk/tickets/{outcome.public_id}/attachments/{attachment['id']}"
    assert (await client.get(url, headers=bearer(stranger))).status == 404


async def test_a_product_mail_address_is_set_lowercase_unique_and_validated(client, product):
    url = "/api/admin/products/my-saas-app"
    resp = await client.patch(
        url, json={"mailAddress": "Help@My-SaaS.example"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200
    assert (await resp.json())["mailAddress"] == "help@my-saas.example"
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "other-app", "repo": "octo-org/other", "mailAddress": "HELP@my-saas.example"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 409 and (await resp.json())["error"] == "Mail address already in use"
    resp = await client.patch(url, json={"mailAddress": "not an address"}, headers=ADMIN_HEADERS)
    assert resp.status == 400 and "mailAddress" in (await resp.json())["fields"]
    resp = await client.patch(url, json={"mailAddress": None}, headers=ADMIN_HEADERS)
    assert resp.status == 200 and (await resp.json())["mailAddress"] is None
