"""The workspace's inbox (``/desk``), first cut: the tickets the signed-in person may see
(their product scope, the desk keys' visibility rule), newest first, keyset paged, with
status, priority and assignee, and ``?status=`` / ``?mine=1`` / ``?unassigned=1`` views.
Saved views, SLA clocks, stage badges and live updates come next (issue 19, item 2)."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import DB
from bot.http.cursor import decode_cursor, encode_cursor
from bot.rules import ids
from bot.rules.desk_status import DESK_STATUSES
from bot.staff.sessions import SignedIn
from bot.tickets import desk
from bot.web.desk_auth import desk_page, staff_only, staff_scope
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from storage.reads import desk_reads
from storage.reads.desk_reads import TicketFilters

PAGE_SIZE = 50
VIEWS = (
    ("All", {}),
    ("Mine", {"mine": "1"}),
    *((status.capitalize(), {"status": status}) for status in DESK_STATUSES),
)


@staff_only()
async def inbox(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    status = request.query.get("status")
    filters = TicketFilters(
        status=status if status in DESK_STATUSES else None,
        assignee=signed_in.account.email if request.query.get("mine") == "1" else None,
    )
    cursor = request.query.get("cursor")
    before = decode_cursor(cursor) if cursor else None
    reader = request.app[DB].reader
    rows = await desk_reads.page(
        reader,
        desk.visibility(await staff_scope(request, signed_in)),
        filters,
        before_id=before,
        limit=PAGE_SIZE + 1,
    )
    shown, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    views = join(
        fragment('<li><a href="{href}">{label}</a></li>', href=path("desk", query=q), label=label)
        for label, q in VIEWS
    )
    older = (
        fragment(
            '<p><a href="{href}">Older tickets</a></p>',
            href=path("desk", query={**request.query, "cursor": encode_cursor(shown[-1].id)}),
        )
        if more
        else Html("")
    )
    content = fragment(
        '<h1>Inbox</h1><nav aria-label="Views"><ul class="views">{views}</ul></nav>{table}{older}',
        views=views,
        table=table(
            ["Ticket", "Subject", "Status", "Priority", "Assignee", "Created"],
            [
                cells(
                    fragment(
                        '<a href="{href}">{public_id}</a>',
                        href=path("desk", "tickets", ids.public_id(t.id)),
                        public_id=ids.public_id(t.id),
                    ),
                    t.subject,
                    t.status,
                    t.priority,
                    t.assignee or "—",
                    time_element(t.created_at),
                )
                for t in shown
            ],
            caption="Tickets, newest first",
            empty="No tickets in this view.",
        ),
        older=older,
    )
    return desk_page(request, "inbox", content, signed_in)


routes = [web.get("/desk", inbox)]
