"""The workspace's inbox (``/desk``, issue 19 item 2): the tickets the signed-in person may
see (their product scope, the desk keys' visibility rule) as a dense table, in saved views
(``bot.rules.inbox.VIEWS``: all open, mine, unassigned, due soon, breached, waiting on
customer, by product, by stage, all), narrowed by a GET form (search, status, priority,
product, stage, assignee), keyset paged both ways. Each row shows the ticket's next SLA
promise at the request's clock and its pipeline stage as a compact badge.

Every list is an existing read: ``storage.reads.desk_reads.page`` (the desk API's list and
search, newest first) or the SLA lists of ``bot.tickets.sla_lists`` (due soon, breached).
The rows of a page are then filled in one statement (``storage.reads.inbox_reads``), and the
clocks computed from the policies and pauses read once a page: a page costs the same number
of statements for 50 rows as for one.

Live updates poll ``GET /desk/inbox/changes`` with the page's own query (desk_inbox.js),
which answers the page's tickets as it stands now, each with a stamp of what its row shows.
The script compares them with the rows on screen and offers "N new or changed tickets —
Show" rather than moving rows under the agent's cursor. Polling, not Server-Sent Events:
the answer is the page's own query, so every view's rule (a ticket that breached as time
passed, one that left the view) holds without a second rendering of it; it needs no
long-lived connection per open tab on the server, and it backs off (5 s doubling to 60 s,
paused while the tab is hidden) when nothing changes. Without JavaScript a reload does it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.appkeys import CLOCK, DB
from bot.errors import ApiError
from bot.http import cursor as ticket_cursor
from bot.http.bodies import refuse_unstorable, unstorable_pairs
from bot.rules import ids, sla
from bot.rules import inbox as rules
from bot.rules.desk_input import MAX_ASSIGNEE, PRIORITIES
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.inbox import Chooser, ClockState, NextDue, Order, View
from bot.rules.pipeline import STAGE_TITLES, STAGES, Stage
from bot.staff.sessions import SignedIn
from bot.tickets import desk, sla_clock, sla_lists
from bot.views.timefmt import iso_ms
from bot.web.admin.breaches import minutes_text
from bot.web.desk_auth import desk_page, staff_only, staff_scope
from bot.web.html import Html, escape, fragment, join, path, readable_time, table
from storage.reader import Reader
from storage.reads import desk_reads, inbox_reads, sla_reads
from storage.reads.desk_reads import TicketFilters
from storage.reads.inbox_reads import InboxRow, ProductChoice
from storage.reads.sla_reads import Cursor, ListFilters
from storage.visibility import Visibility

PAGE_SIZE = 50
CHANGES_PATH = "/desk/inbox/changes"
HEADERS = ["Ticket", "Subject", "Product", "Status", "Priority", "Assignee", "SLA", "Stage"]
# The page cursors, which the changes link carries over (other unknown parameters, a
# bookmark's leftovers, are ignored).
PAGING = ("cursor", "newer")


@dataclasses.dataclass(frozen=True)
class InboxQuery:
    """The query string of an inbox page, checked."""

    view: View
    given: dict[str, str]  # the filters as typed (blank ones dropped), to fill the form
    filters: TicketFilters  # the newest-first views
    sla_filters: ListFilters  # the SLA lists' views
    older: int | Cursor | None = None  # cursor: the page after this one
    newer: int | None = None  # newer: the page before this one (newest-first views)

    @property
    def waits_for_choice(self) -> bool:
        """By product / by stage with nothing chosen yet: the choices, no list."""
        chooser = self.view.chooser
        return chooser is not None and chooser.value not in self.given

    def link(self, **changes: str | None) -> str:
        """This view and these filters, with ``changes`` (a page cursor)."""
        query: dict[str, object] = {}
        if self.view is not rules.DEFAULT_VIEW:
            query["view"] = self.view.key
        query.update(self.given)
        query.update(changes)
        return path("desk", query=query)


def _bad(error: str, hint: str) -> ApiError:
    return ApiError(400, error, hint)


def parse_query(query: Mapping[str, str], products: Sequence[ProductChoice], me: str) -> InboxQuery:
    """The view, filters and page of the query string; a 400 ApiError naming what is wrong
    (NUL characters, an unknown view, stage or product, a bad cursor, a search too long)."""
    refuse_unstorable(unstorable_pairs(query.items()))
    view_key = query.get("view") or rules.DEFAULT_VIEW.key
    view = rules.BY_KEY.get(view_key)
    if view is None:
        names = ", ".join(v.key for v in rules.VIEWS)
        raise _bad("Unknown view", f"Use one of {names}, or leave view out for all open.")
    given = {name: query[name] for name in rules.FILTERS if query.get(name, "").strip()}
    refused = [name for name in given if name not in rules.filters_of(view)]
    if refused:
        raise _bad(
            f"The {view.label} view does not take {', '.join(refused)}",
            "It is an SLA list: filter it by priority, product or assignee.",
        )
    # The desk API's own checks of status, priority, assignee and the search.
    found = desk.validate_filters(
        {name: given[name] for name in ("q", "status", "priority", "assignee") if name in given}
    )
    if len(given.get("assignee", "")) > MAX_ASSIGNEE:
        raise _bad("Invalid assignee", f"An assignee has at most {MAX_ASSIGNEE} characters.")
    product_id = None
    if "product" in given:
        product = next((p for p in products if p.slug == given["product"]), None)
        if product is None:
            raise _bad("Unknown product", "Choose one of the products in the list.")
        product_id = product.id
    stage = given.get("stage")
    if stage is not None and stage not in {s.value for s in STAGES}:
        raise _bad("Unknown stage", f"Use one of {', '.join(s.value for s in STAGES)}.")
    # A filter of the form replaces the view's own condition on the same column.
    assignee = found.assignee or (me if view.mine else None)
    filters = dataclasses.replace(
        found,
        status=found.status or view.status,
        statuses=view.statuses if found.status is None else None,
        assignee=assignee,
        unassigned=view.unassigned and assignee is None,
        product_id=product_id,
        stage=stage,
    )
    sla_filters = ListFilters(
        priority=found.priority, assignee=found.assignee, product_id=product_id
    )
    older: int | Cursor | None = None
    newer = None
    if query.get("cursor") and query.get("newer"):
        raise _bad("Invalid cursor", "Follow one link, Older or Newer, at a time.")
    if query.get("cursor"):
        text = query["cursor"]
        older = (
            ticket_cursor.decode_cursor(text)
            if view.order is Order.NEWEST
            else sla_lists.decode_cursor(text)
        )
    if query.get("newer"):
        if view.order is not Order.NEWEST:
            raise _bad("Invalid cursor", "This list pages forwards only; start from the top.")
        newer = ticket_cursor.decode_cursor(query["newer"])
    return InboxQuery(view, given, filters, sla_filters, older, newer)


@dataclasses.dataclass(frozen=True)
class Listing:
    """A page of a view: its tickets in order, and the links to the pages beside it."""

    rows: list[InboxRow]
    older: str | None = None
    newer: str | None = None
    first: str | None = None  # the SLA lists page forwards only: back to their start


async def _newest_first(
    reader: Reader, visibility: Visibility, inbox: InboxQuery
) -> tuple[list[int], str | None, str | None]:
    """A page of ``desk_reads.page``, and its Older / Newer links."""
    before = inbox.older if isinstance(inbox.older, int) else None
    found = await desk_reads.page(
        reader,
        visibility,
        inbox.filters,
        before_id=before,
        after_id=inbox.newer,
        limit=PAGE_SIZE + 1,
    )
    more = len(found) > PAGE_SIZE
    if inbox.newer is not None:
        # The rows nearest above the cursor: an extra one is the newest, beyond this page.
        shown = found[1:] if more else found
        more_older, more_newer = True, more
    else:
        shown = found[:PAGE_SIZE]
        more_older, more_newer = more, before is not None
    numbers = [t.id for t in shown]
    older = (
        inbox.link(cursor=ticket_cursor.encode_cursor(numbers[-1]))
        if more_older and numbers
        else None
    )
    newer = None
    if more_newer:
        newer = (
            inbox.link(newer=ticket_cursor.encode_cursor(numbers[0])) if numbers else inbox.link()
        )
    return numbers, older, newer


async def _sla_list(
    reader: Reader, visibility: Visibility, inbox: InboxQuery, now: dt.datetime
) -> tuple[list[int], str | None, str | None]:
    """A page of the breach list or the "due within" list, and its Next / First links."""
    cursor = inbox.older if isinstance(inbox.older, tuple) else None
    if inbox.view.order is Order.BREACH:
        entries = await sla_reads.breached(
            reader, visibility, inbox.sla_filters, now, cursor=cursor, limit=PAGE_SIZE + 1
        )
    else:
        entries = await sla_reads.breaching_within(
            reader,
            visibility,
            inbox.sla_filters,
            now,
            now + rules.DUE_SOON,
            cursor=cursor,
            limit=PAGE_SIZE + 1,
        )
    shown = entries[:PAGE_SIZE]
    older = None
    if len(entries) > PAGE_SIZE:
        last = shown[-1]
        older = inbox.link(cursor=sla_lists.encode_cursor(last.key, last.ticket.id))
    return [e.ticket.id for e in shown], older, inbox.link() if cursor is not None else None


async def listing(
    reader: Reader, visibility: Visibility, inbox: InboxQuery, now: dt.datetime
) -> Listing:
    """The view's page at ``now``: two statements (the list, then its rows)."""
    if inbox.waits_for_choice:
        return Listing([])
    if inbox.view.order is Order.NEWEST:
        numbers, older, newer = await _newest_first(reader, visibility, inbox)
        first = None
    else:
        numbers, older, first = await _sla_list(reader, visibility, inbox, now)
        newer = None
    found = await inbox_reads.rows(reader, visibility, numbers)
    return Listing([found[n] for n in numbers if n in found], older, newer, first)


async def clocks(
    reader: Reader, rows: Sequence[InboxRow], now: dt.datetime
) -> dict[int, NextDue | None]:
    """Each row's next SLA promise at ``now``, with the rules (``bot.tickets.sla_clock``):
    the policies and the pauses are read once for the page."""
    if not rows:
        return {}
    policies = await sla_reads.policies(reader)
    pauses = await sla_reads.pauses(reader, [row.id for row in rows])
    compiled: dict[int, sla.Policy] = {}  # each policy turned into rules once a page
    found: dict[int, NextDue | None] = {}
    for row in rows:
        policy = sla_reads.policy_of(policies, row.sla_policy_id)
        standing = None
        if policy is not None:
            if policy.id not in compiled:
                compiled[policy.id] = sla_clock.rules_policy(policy)
            standing = sla_clock.standing(
                policy, row, pauses[row.id], (), now, rules=compiled[policy.id]
            )
        found[row.id] = rules.next_due(standing.response, standing.resolution) if standing else None
    return found


def stamp(row: InboxRow, now: dt.datetime) -> str:
    """What a row shows that can change, in a few characters: the live script compares
    them to tell a changed row (a breach that time alone brought about included)."""
    breached = row.sla_breach_at is not None and row.sla_breach_at < now
    shown = (
        iso_ms(row.updated_at) or "",
        row.status,
        row.stage,
        row.priority,
        row.assignee or "",
        row.subject,
        str(breached),
    )
    return hashlib.blake2s("\x1f".join(shown).encode(), digest_size=6).hexdigest()


# -- drawing -------------------------------------------------------------------------------


def clock_cell(due: NextDue | None) -> Html:
    if due is None:
        return Html("—")
    when = f"Due {readable_time(due.due_at)}"
    if due.state is ClockState.PAUSED:
        return Html(
            '<span class="sla-clock paused" title="Waiting on the customer: the clock stands '
            'still">paused</span>'
        )
    if due.state is ClockState.BREACHED:
        ago = f" {minutes_text(due.minutes)} ago" if due.minutes >= 1 else ""
        return fragment(
            '<span class="sla-clock breached" title="{w}"><span class="badge warn">breached'
            "</span>{ago}</span>",
            w=when,
            ago=ago,
        )
    return fragment(
        '<span class="sla-clock" title="{w}">due in {left}</span>',
        w=when,
        left=minutes_text(due.minutes),
    )


@functools.lru_cache(maxsize=64)
def stage_badge(value: str) -> Html:
    """The stage as a short word and an 8-segment bar; its title is the accessible text.
    (The same markup for each stage: drawn once per stage, not on every row.)"""
    try:
        stage = Stage(value)
    except ValueError:
        return fragment("{v}", v=value)
    step = rules.stage_step(stage)
    segments = join(
        Html('<span class="on"></span>' if i < step else "<span></span>") for i in range(8)
    )
    return fragment(
        '<span class="stage-badge" title="{title}">'
        '<span class="stage-bar" aria-hidden="true">{segments}</span>'
        '<span aria-hidden="true">{short}</span>'
        '<span class="visually-hidden">{title}, stage {step} of {total}</span></span>',
        title=STAGE_TITLES[stage],
        segments=segments,
        short=rules.STAGE_SHORT[stage],
        step=step,
        total=len(STAGES),
    )


def row_html(row: InboxRow, due: NextDue | None, now: dt.datetime) -> Html:
    public_id = ids.public_id(row.id)
    values = (
        fragment(
            '<a href="{href}">{id}</a>', href=path("desk", "tickets", public_id), id=public_id
        ),
        row.subject,
        row.product.slug if row.product else "—",
        row.status,
        row.priority,
        row.assignee or "—",
        clock_cell(due),
        stage_badge(row.stage),
    )
    return fragment(
        '<tr data-ticket="{id}" data-stamp="{stamp}">{cells}</tr>',
        id=public_id,
        stamp=stamp(row, now),
        cells=Html("".join(f"<td>{escape(v)}</td>" for v in values)),
    )


def views_nav(inbox: InboxQuery | None) -> Html:
    current = inbox.view if inbox is not None else None
    return fragment(
        '<nav aria-label="Views"><ul class="views">{items}</ul></nav>',
        items=join(
            fragment(
                '<li><a href="{href}"{mark}>{label}</a></li>',
                href=path("desk", query={"view": None if v is rules.DEFAULT_VIEW else v.key}),
                mark=Html(' aria-current="page"') if v is current else Html(""),
                label=v.label,
            )
            for v in rules.VIEWS
        ),
    )


def choices_nav(inbox: InboxQuery, products: Sequence[ProductChoice]) -> Html:
    """By product / by stage: one link per choice."""
    chooser = inbox.view.chooser
    if chooser is None:
        return Html("")
    if chooser is Chooser.PRODUCT:
        options = [(p.slug, p.name or p.slug) for p in products]
        label = "Products"
    else:
        options = [(s.value, STAGE_TITLES[s]) for s in STAGES]
        label = "Stages"
    chosen = inbox.given.get(chooser.value)
    items = join(
        fragment(
            '<li><a href="{href}"{mark}>{text}</a></li>',
            href=path("desk", query={"view": inbox.view.key, chooser.value: value}),
            mark=Html(' aria-current="true"') if value == chosen else Html(""),
            text=text,
        )
        for value, text in options
    )
    empty = Html('<p class="empty">No products are open to you.</p>') if not options else ""
    return fragment(
        '<nav aria-label="{label}"><ul class="views choices">{items}</ul></nav>{empty}',
        label=label,
        items=items,
        empty=empty,
    )


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> Html:
    return fragment(
        '<div class="field"><label for="f-{name}">{label}</label>'
        '<select id="f-{name}" name="{name}"><option value="">Any</option>{options}</select>'
        "</div>",
        name=name,
        label=label,
        options=join(
            fragment(
                '<option value="{v}"{sel}>{t}</option>',
                v=value,
                t=text,
                sel=Html(" selected") if value == chosen else Html(""),
            )
            for value, text in options
        ),
    )


def filters_form(view: View, given: Mapping[str, str], products: Sequence[ProductChoice]) -> Html:
    taken = rules.filters_of(view)
    fields = []
    if "q" in taken:
        fields.append(
            fragment(
                '<div class="field search"><label for="f-q">Search</label>'
                '<input id="f-q" name="q" type="search" value="{q}" maxlength="200" '
                'aria-describedby="f-q-hint">'
                '<p class="hint" id="f-q-hint">TK-00012, a requester\'s email or words of the '
                "subject.</p></div>",
                q=given.get("q", ""),
            )
        )
    if "status" in taken:
        fields.append(
            _select("status", "Status", [(s, s) for s in DESK_STATUSES], given.get("status", ""))
        )
    fields.append(
        _select("priority", "Priority", [(p, p) for p in PRIORITIES], given.get("priority", ""))
    )
    fields.append(
        _select(
            "product",
            "Product",
            [(p.slug, p.name or p.slug) for p in products],
            given.get("product", ""),
        )
    )
    if "stage" in taken:
        fields.append(
            _select(
                "stage",
                "Stage",
                [(s.value, STAGE_TITLES[s]) for s in STAGES],
                given.get("stage", ""),
            )
        )
    fields.append(
        fragment(
            '<div class="field"><label for="f-assignee">Assignee</label>'
            '<input id="f-assignee" name="assignee" type="text" value="{a}" maxlength="320" '
            'autocomplete="off"></div>',
            a=given.get("assignee", ""),
        )
    )
    view_input = (
        fragment('<input type="hidden" name="view" value="{v}">', v=view.key)
        if view is not rules.DEFAULT_VIEW
        else Html("")
    )
    clear = path("desk", query={"view": None if view is rules.DEFAULT_VIEW else view.key})
    return fragment(
        '<form class="filters" method="get" action="/desk" role="search" '
        'aria-label="Filter the tickets">{view}{fields}'
        '<button type="submit">Filter</button> <a href="{clear}">Clear</a></form>',
        view=view_input,
        fields=join(fields),
        clear=clear,
    )


def pager(page: Listing) -> Html:
    links = [
        fragment('<a href="{h}" rel="prev">Newer tickets</a>', h=page.newer) if page.newer else "",
        fragment('<a href="{h}">First page</a>', h=page.first) if page.first else "",
        fragment('<a href="{h}" rel="next">Older tickets</a>', h=page.older) if page.older else "",
    ]
    if not any(links):
        return Html("")
    return fragment(
        '<nav class="pager" aria-label="More tickets">{links}</nav>', links=join(links, " ")
    )


def list_html(inbox: InboxQuery, page: Listing, due: Mapping[int, NextDue | None], now) -> Html:
    if inbox.waits_for_choice:
        what = "product" if inbox.view.chooser is Chooser.PRODUCT else "stage"
        return fragment('<p class="empty">Choose a {what} above.</p>', what=what)
    return fragment(
        "{table}{pager}",
        table=table(
            HEADERS,
            [row_html(row, due.get(row.id), now) for row in page.rows],
            caption=inbox.view.caption,
            empty="No tickets in this view.",
        ),
        pager=pager(page),
    )


def changes_link(inbox: InboxQuery, query: Mapping[str, str]) -> str:
    paging = {name: query.get(name) for name in PAGING}
    return CHANGES_PATH + inbox.link(**paging).removeprefix("/desk")


# -- handlers ------------------------------------------------------------------------------


async def _scope(request: web.Request, signed_in: SignedIn) -> Visibility:
    return desk.visibility(await staff_scope(request, signed_in))


@staff_only()
async def inbox(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    reader = request.app[DB].reader
    visibility = await _scope(request, signed_in)
    products = await inbox_reads.products(reader, visibility.product_ids)
    now = request.app[CLOCK]()
    try:
        parsed = parse_query(request.query, products, signed_in.account.email)
        page = await listing(reader, visibility, parsed, now)
    except ApiError as exc:
        content = fragment(
            "<h1>Inbox</h1>{views}"
            '<p class="field-error" role="alert">{error}. {hint}</p>'
            '<p><a href="/desk">Back to the open tickets</a></p>',
            views=views_nav(None),
            error=exc.error,
            hint=exc.hint or "",
        )
        return desk_page(
            request, "inbox", content, signed_in, status=exc.status, scripts=("desk_inbox.js",)
        )
    due = await clocks(reader, page.rows, now)
    content = fragment(
        "<h1>Inbox</h1>{views}{choices}{form}"
        '<div id="inbox-live" class="live" role="status" aria-live="polite"></div>'
        '<div id="inbox-list" tabindex="-1" data-changes="{changes}">{list}</div>',
        views=views_nav(parsed),
        choices=choices_nav(parsed, products),
        form=filters_form(parsed.view, parsed.given, products),
        changes=changes_link(parsed, request.query),
        list=list_html(parsed, page, due, now),
    )
    return desk_page(request, "inbox", content, signed_in, scripts=("desk_inbox.js",))


@staff_only()
async def changes(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    """The page's tickets as they stand now, each with its row's stamp (desk_inbox.js)."""
    reader = request.app[DB].reader
    visibility = await _scope(request, signed_in)
    products = (
        await inbox_reads.products(reader, visibility.product_ids)
        if request.query.get("product")
        else []
    )
    now = request.app[CLOCK]()
    headers = {"Cache-Control": "no-store"}
    try:
        parsed = parse_query(request.query, products, signed_in.account.email)
        page = await listing(reader, visibility, parsed, now)
    except ApiError as exc:
        body = {"error": exc.error, "hint": exc.hint}
        return web.json_response(body, status=exc.status, headers=headers)
    rows = [{"id": ids.public_id(row.id), "stamp": stamp(row, now)} for row in page.rows]
    return web.json_response({"rows": rows, "asOf": iso_ms(now)}, headers=headers)


routes = [web.get("/desk", inbox), web.get(CHANGES_PATH, changes)]
