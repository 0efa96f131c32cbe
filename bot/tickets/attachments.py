"""Files kept with a ticket: a mail's attachments (bot.mail.incoming.deliver) and the
screenshots uploaded with the submission form (bot.web.submit). Which files are kept is
``bot.rules.mail_attachments``; staff download them from the desk."""

from __future__ import annotations

import datetime as dt
import hashlib

from bot.rules import ids
from storage.models import Attachment


def attachment_row(
    ticket_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    *,
    now: dt.datetime,
    comment_id: int | None = None,
) -> Attachment:
    return Attachment(
        desk_id=ids.new_desk_id("att"),
        ticket_id=ticket_id,
        comment_id=comment_id,
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_at=now,
    )
