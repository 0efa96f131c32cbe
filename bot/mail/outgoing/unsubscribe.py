"""Subscribing and unsubscribing a ticket's submitter.

- ``GET /mail/unsubscribe/{token}``: a page with a button; nothing changes on GET (mail
  scanners follow links).
- ``POST /mail/unsubscribe/{token}``: unsubscribes; the RFC 8058 one-click POST
  (``List-Unsubscribe=One-Click``) mail clients send works as is. The token (signed per
  ticket under the mail key) is the credential, so no CSRF token is needed or possible.
- ``POST /track/{publicId}/email-updates`` with the tracking token (the form on the tracking
  page): mail about the ticket starts again, to its submitter's address only.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.http.bodies import read_form
from bot.mail.outgoing.queue import mail_out, ticket_mail
from bot.rules import ids
from bot.rules.mail_unsubscribe import ticket_of_token
from bot.web.html import Html, fragment, page, path
from storage.repos.mail_out import MailOutRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

INVALID_LINK = "This unsubscribe link is not valid. Use the link in the latest email you got."


def _ticket_number(request: web.Request) -> int | None:
    out = mail_out(request.app[SETTINGS])
    return None if out is None else ticket_of_token(out.key, request.match_info["token"])


def _invalid(request: web.Request) -> web.Response:
    content = fragment("<h1>Link not valid</h1><p>{text}</p>", text=INVALID_LINK)
    return page(request, "Unsubscribe", content, status=404, no_store=True)


@routes.get("/mail/unsubscribe/{token}")
async def unsubscribe_page(request: web.Request) -> web.Response:
    number = _ticket_number(request)
    if number is None:
        return _invalid(request)
    public_id = ids.public_id(number)
    content = fragment(
        "<h1>Stop emails about {public_id}?</h1>"
        "<p>You will get no more emails about ticket {public_id}. You can turn them on again "
        "on its tracking page.</p>"
        '<form method="post" action="{action}"><button type="submit" name="List-Unsubscribe" '
        'value="One-Click">Stop emails</button></form>',
        public_id=public_id,
        action=request.path,
    )
    return page(request, f"Unsubscribe from {public_id}", content, no_store=True)


@routes.post("/mail/unsubscribe/{token}")
async def unsubscribe(request: web.Request) -> web.Response:
    number = _ticket_number(request)
    if number is None:
        return _invalid(request)
    async with request.app[DB].begin() as session:
        ticket = await TicketRepo(session).by_number(number)
        if ticket is not None:
            row = await ticket_mail(session, ticket)
            row.subscribed = False
            row.updated_at = utcnow()
    public_id = ids.public_id(number)
    log.info("ticket %s unsubscribed from mail", public_id, extra={"ticket_id": number})
    content = fragment(
        "<h1>Unsubscribed</h1><p>You will get no more emails about ticket {public_id}.</p>",
        public_id=public_id,
    )
    return page(request, "Unsubscribed", content, no_store=True)


@routes.post("/track/{public_id}/email-updates")
async def email_updates(request: web.Request) -> web.Response:
    """The tracking page's "Email me updates": the tracking token proves the reader holds the
    link; mail goes to the address the ticket was submitted with, never one given here."""
    out = mail_out(request.app[SETTINGS])
    number = ids.parse_public_id(request.match_info["public_id"])
    form = await read_form(request)
    token = form.get("token", "")
    if out is None or number is None:
        raise web.HTTPNotFound(text="Email updates are not available.")
    async with request.app[DB].begin() as session:
        ticket = await TicketRepo(session).by_number(number, include_deleted=False)
        if ticket is None or not token or not ids.secrets_match(token, ticket.tracking_token_hash):
            content = fragment(
                "<h1>Link not valid</h1><p>Open the ticket from the full tracking link you "
                "were given, then try again.</p>"
            )
            return page(request, "Email updates", content, status=403, no_store=True)
        row = await MailOutRepo(session).ticket_mail(ticket.id)
        row = row or await ticket_mail(session, ticket)
        row.subscribed = True
        row.address = ticket.submitter_email
        if row.token_encrypted is None:
            row.token_encrypted = out.token_cipher.encrypt(token.encode()).decode()
        # Only what happens from now on is mailed.
        items = await MailOutRepo(session).items_after(ticket.id, row.last_item_id)
        if items:
            row.last_item_id = items[-1].id
        row.updated_at = utcnow()
    public_id = ids.public_id(number)
    raise web.HTTPSeeOther(path("track", public_id, query={"token": token, "updates": "on"}))


async def email_updates_form(request: web.Request, public_id: str, token: str | None) -> Html:
    """The tracking page's "Email me updates" form: shown with a valid token when mail is
    sent and the submitter gets none about this ticket (unsubscribed, or asked for none)."""
    number = ids.parse_public_id(public_id)
    if mail_out(request.app[SETTINGS]) is None or number is None or not token:
        return Html("")
    async with request.app[DB].session() as session:
        row = await MailOutRepo(session).ticket_mail(number)
    if row is not None and row.subscribed:
        if request.query.get("updates") == "on":  # just asked for them
            return Html(
                '<p class="notice" role="status" id="email-updates-on">We&rsquo;ll email you '
                "at each step of this ticket.</p>"
            )
        return Html("")
    return fragment(
        '<section class="card" aria-labelledby="email-updates-heading">'
        '<h2 id="email-updates-heading">Email updates</h2>'
        "<p>We don&rsquo;t email you about this ticket. Get an email at each step, to the "
        "address you submitted it with.</p>"
        '<form method="post" action="{action}">'
        '<input type="hidden" name="token" value="{token}">'
        '<button type="submit">Email me updates</button></form></section>',
        action=path("track", public_id, "email-updates"),
        token=token,
    )
