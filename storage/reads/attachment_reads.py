"""A ticket's attachments, listed without their bytes, in plain SQL on the Reader."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from storage.reader import Reader, utc


class AttachmentRecord(NamedTuple):
    desk_id: str
    filename: str
    content_type: str
    size: int
    created_at: dt.datetime


ATTACHMENTS = """
SELECT desk_id, filename, content_type, size, created_at FROM attachments
WHERE ticket_id = $1
ORDER BY id
"""


async def of_ticket(reader: Reader, ticket_id: int) -> list[AttachmentRecord]:
    return [
        AttachmentRecord(desk_id, filename, content_type, int(size), utc(at))  # type: ignore[arg-type]
        for desk_id, filename, content_type, size, at in await reader.fetch_bounded(
            ATTACHMENTS, ticket_id
        )
    ]
