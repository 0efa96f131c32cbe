"""GET /api/v1/desk/tickets/{id}/attachments/{attachmentId}: the bytes of a file that came
with a ticket by mail, for any desk key that sees the ticket. Always a download (never shown
inline, never sniffed), so a file cannot run as a page of TinyDesk's origin."""

from __future__ import annotations

from aiohttp import web

from bot.api.desk import DESK_KEY
from bot.appkeys import DB
from bot.errors import ApiError
from bot.tickets import desk as desk_tickets
from storage.repos.mail import MailRepo

ATTACHMENT_NOT_FOUND = "Attachment not found"


async def download_attachment(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        ticket = await desk_tickets.find_ticket(
            session, request[DESK_KEY], request.match_info["id"]
        )
        attachment = await MailRepo(session).attachment(
            ticket.id, request.match_info["attachmentId"]
        )
    if attachment is None:
        raise ApiError(
            404,
            ATTACHMENT_NOT_FOUND,
            "Use an attachment id (att_…) from the ticket's `attachments` list.",
        )
    return web.Response(
        body=attachment.data,
        content_type=attachment.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachment.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


routes = [web.get("/desk/tickets/{id}/attachments/{attachmentId}", download_attachment)]
