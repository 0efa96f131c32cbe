"""Screenshot files uploaded with the submission form (issue 17, item 1): images within the
limits are kept with the ticket for staff (listed and downloaded from the desk), anything else
is named on the form shown again and nothing is stored; the post is bounded in size and number
of files. Posted as a browser posts multipart/form-data."""

from __future__ import annotations

import io
import re

import aiohttp
from sqlalchemy import func, select

from bot.rules import mail_attachments
from storage.models import Attachment, Ticket
from tests.deskkit import bearer, make_key

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 300
FIELDS = {
    "email": "ada@example.com",
    "name": "Ada",
    "subject": "Export button does nothing",
    "body": "Clicking Export does nothing.",
}


async def count(db, model) -> int:
    async with db.session() as session:
        return (await session.scalar(select(func.count()).select_from(model))) or 0


async def post_with_files(client, files: list[tuple[str, str, bytes]], **fields: str):
    page = await (await client.get("/submit/my-saas-app")).text()
    form = aiohttp.FormData()
    for name, value in {**FIELDS, **fields, "csrf_token": TOKEN.search(page).group(1)}.items():
        form.add_field(name, value)
    for filename, content_type, data in files:
        # A stream, as a browser sends a file (aiohttp warns of large in-memory bytes).
        form.add_field(
            "screenshotFile", io.BytesIO(data), filename=filename, content_type=content_type
        )
    return await client.post("/submit/my-saas-app", data=form)


async def test_uploaded_images_are_kept_with_the_ticket_for_staff(client, product, db):
    resp = await post_with_files(
        client, [("login.png", "image/png", PNG), ("../../etc/shot.jpg", "image/jpeg", JPEG)]
    )
    assert resp.status == 200, await resp.text()
    assert "TK-00001" in await resp.text()
    key = await make_key(client)
    ticket = await (await client.get("/api/v1/desk/tickets/TK-00001", headers=bearer(key))).json()
    listed = [(a["filename"], a["contentType"], a["size"]) for a in ticket["attachments"]]
    assert listed == [("login.png", "image/png", len(PNG)), ("shot.jpg", "image/jpeg", len(JPEG))]
    first = ticket["attachments"][0]
    download = await client.get(
        f"/api/v1/desk/tickets/{ticket['id']}/attachments/{first['id']}", headers=bearer(key)
    )
    assert download.status == 200 and await download.read() == PNG


async def test_a_file_that_is_not_an_image_is_named_and_nothing_is_stored(client, product, db):
    resp = await post_with_files(
        client,
        [("fine.png", "image/png", PNG), ("invoice.exe", "image/png", b"MZ\x90\x00" * 50)],
    )
    assert resp.status == 400
    text = await resp.text()
    assert "invoice.exe" in text and "only PNG, JPEG, GIF or WebP images are taken" in text
    assert 'value="Export button does nothing"' in text  # the values are kept
    assert await count(db, Ticket) == 0 and await count(db, Attachment) == 0


async def test_a_pdf_is_not_a_screenshot(client, product, db):
    resp = await post_with_files(client, [("report.pdf", "application/pdf", b"%PDF-1.4 x")])
    assert resp.status == 400
    assert await count(db, Ticket) == 0


async def test_field_errors_and_file_errors_are_shown_together(client, product, db):
    resp = await post_with_files(client, [("a.txt", "text/plain", b"hello")], email="not-mail")
    text = await resp.text()
    assert resp.status == 400
    assert "a.txt" in text and 'id="submit-email"' in text
    assert await count(db, Ticket) == 0


async def test_too_many_or_too_large_files_are_refused_before_anything_is_stored(
    client, product, db
):
    four = [(f"s{n}.png", "image/png", PNG) for n in range(4)]
    resp = await post_with_files(client, four)
    assert resp.status == 400
    assert "at most 3 files" in await resp.text()
    big = PNG + b"\x00" * mail_attachments.MAX_ATTACHMENT_BYTES
    resp = await post_with_files(client, [("big.png", "image/png", big)])
    assert resp.status == 413
    assert "at most 5 MB" in await resp.text()
    assert await count(db, Ticket) == 0


async def test_an_empty_file_input_is_no_file(client, product, db):
    resp = await post_with_files(client, [("", "application/octet-stream", b"")])
    assert resp.status == 200
    assert await count(db, Ticket) == 1 and await count(db, Attachment) == 0
