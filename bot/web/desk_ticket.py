"""The workspace's ticket page (``/desk/tickets/{publicId}``, issue 19, item 3): the ticket,
its stage on the pipeline with its GitHub issue and pull requests, its SLA clocks, the
conversation (public replies and internal notes told apart), its time, its history for staff
(stage changes with their internal causes, who changed what, SLA warnings and breaches), and
the actions of a working day: reply (mailed to the submitter when TinyDesk sends mail), add a
note, log time (15 minutes in one click), change status, priority, assignee, type, category
or tags; apply a template, link or create the GitHub issue and merge a duplicate
(``bot.web.desk_ticket_actions``). Every action is the desk's own use case (bot.tickets.desk,
bot.billing.time_entries, …), done as the signed-in person, checked against their role on the
server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.billing import time_entries
from bot.errors import ApiError
from bot.github.web_url import github_web_url, issue_url
from bot.http.bodies import read_form
from bot.jobs.worker import notify_workers
from bot.rules import billing_input, desk_input, ids
from bot.rules import staff as rules
from bot.rules.desk_input import PRIORITIES, TICKET_TYPES
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.numbers import whole_number
from bot.rules.pipeline import STAGE_TITLES, STAGES, Stage
from bot.staff.sessions import SignedIn
from bot.tickets import desk, history, merge, sla_clock
from bot.tickets.apikeys import KeyScope
from bot.tickets.apply_template import templates_for
from bot.tickets.audit import Actor
from bot.web.admin.breaches import sla_facts
from bot.web.admin.tickets import deployment_links, pull_links, review_links
from bot.web.admin_auth import redirect
from bot.web.desk_auth import csrf_input, desk_page, staff_only, staff_scope
from bot.web.html import Html, fragment, join, path, time_element
from storage.models import Ticket, TicketTemplate
from storage.reads.admin_queries import AdminQueries
from storage.repos.billing import BillingRepo
from storage.repos.facts import ReviewRepo
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.products import ProductRepo

QUICK_MINUTES = 15


def ticket_path(ticket: Ticket, notice: str | None = None) -> str:
    return path("desk", "tickets", ids.public_id(ticket.id), query={"notice": notice})


def _pipeline(ticket: Ticket) -> Html:
    current = STAGES.index(Stage(ticket.stage))
    items = []
    for index, stage in enumerate(STAGES):
        state = "done" if index < current else "current" if index == current else "todo"
        items.append(
            fragment(
                '<li class="stage {state}"{aria}>{title}</li>',
                state=state,
                aria=Html(' aria-current="step"') if state == "current" else Html(""),
                title=STAGE_TITLES[stage],
            )
        )
    return fragment('<ol class="pipeline" aria-label="Pipeline">{i}</ol>', i=join(items))


NONE_LABEL = "none"


def _select(name: str, label: str, options: tuple[str, ...], chosen: str | None) -> Html:
    """A choice; the option ``""`` reads as "none" (the field is cleared)."""
    return fragment(
        '<label for="{name}">{label}</label><select id="{name}" name="{name}">{options}</select>',
        name=name,
        label=label,
        options=join(
            fragment(
                '<option value="{v}"{sel}>{text}</option>',
                v=value,
                text=value or NONE_LABEL,
                sel=Html(" selected") if value == (chosen or "") else Html(""),
            )
            for value in options
        ),
    )


def tags_text(tags: list[str]) -> str:
    return ", ".join(tags)


def parse_tags(text: str) -> list[str]:
    """The tags field: comma-separated, blanks dropped (the desk's rule checks each)."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _history(items: list[dict[str, Any]]) -> Html:
    """The staff history, newest first: what happened, who or what caused it."""
    rows = []
    for item in reversed(items):
        if item["kind"] == "change":
            who = f"{item['actor']['name']} ({item['actor']['id']})"
        elif item["kind"] == "stage":
            who = item["causeText"]
        else:
            who = "SLA"
        rows.append(
            fragment(
                '<li class="comment history-{kind}"><p class="comment-meta">{at} · {who}</p>'
                "<p>{text}</p></li>",
                kind=item["kind"],
                at=time_element(item["at"]),
                who=who,
                text=item["text"],
            )
        )
    return fragment(
        '<section class="card" aria-labelledby="history-heading"><h2 id="history-heading">'
        'History</h2><p class="hint">Newest first; for staff only: causes name GitHub '
        'deliveries and people.</p><ol class="comments" id="staff-history">{rows}</ol>'
        "</section>",
        rows=join(rows),
    )


def _actions(
    base: str,
    csrf: Html,
    ticket: Ticket,
    *,
    has_product: bool,
    usable_templates: list[TicketTemplate],
) -> Html:
    """Apply a template; link an existing GitHub issue or have it created now (a ticket of
    a product with none yet); merge this ticket into another."""
    parts = []
    if usable_templates:
        parts.append(
            fragment(
                '<form class="stacked" method="post" action="{base}/template">{csrf}'
                '<label for="template">Apply a template (fills type, category and tags '
                "where empty)</label>"
                '<select id="template" name="template">{options}</select>'
                '<button type="submit">Apply template</button></form>',
                base=base,
                csrf=csrf,
                options=join(
                    fragment('<option value="{v}">{name}</option>', v=t.desk_id, name=t.name)
                    for t in usable_templates
                ),
            )
        )
    if has_product and ticket.issue_number is None:
        parts.append(
            fragment(
                '<form class="stacked" method="post" action="{base}/link">{csrf}'
                '<label for="issue">Link an existing GitHub issue (its number in the '
                "product's repository)</label>"
                '<input id="issue" name="issue" type="number" min="1" required>'
                '<button type="submit">Link issue</button></form>',
                base=base,
                csrf=csrf,
            )
        )
        if not ticket.is_test and ticket.stage != Stage.CLOSED.value:
            parts.append(
                fragment(
                    '<form method="post" action="{base}/create-issue">{csrf}'
                    '<button type="submit">Create the GitHub issue now</button></form>',
                    base=base,
                    csrf=csrf,
                )
            )
    parts.append(
        fragment(
            '<form class="stacked" method="post" action="{base}/merge">{csrf}'
            '<label for="into">Merge this ticket into (a duplicate: it is closed and its '
            "requester told to follow the other)</label>"
            '<input id="into" name="into" required placeholder="TK-00042" '
            'autocomplete="off" spellcheck="false">'
            '<button type="submit">Merge</button></form>',
            base=base,
            csrf=csrf,
        )
    )
    return fragment(
        '<section class="card" aria-labelledby="actions-heading"><h2 id="actions-heading">'
        "Actions</h2>{parts}</section>",
        parts=join(parts),
    )


async def page(
    request: web.Request,
    signed_in: SignedIn,
    ref: str,
    *,
    error: str | None = None,
    status: int = 400,
) -> web.Response:
    """The page; with ``error``, drawn again with the reason and ``status``."""
    scope = await staff_scope(request, signed_in)
    async with request.app[DB].session() as session:
        try:
            ticket = await desk.find_ticket(session, scope, ref)
        except ApiError:
            content = fragment(
                "<h1>No ticket {ref}</h1><p>It does not exist, or is not yours to see.</p>", ref=ref
            )
            return desk_page(request, "not found", content, signed_in, status=404)
        comments = await AdminQueries(session).all_comments(ticket.id)
        product = await ProductRepo(session).by_id(ticket.product_id) if ticket.product_id else None
        pulls: list[Any] = []
        reviews: dict[int, Any] = {}
        if product is not None and ticket.issue_number is not None:
            pulls = list(
                await PullRequestLinkRepo(session).for_issue(product.id, ticket.issue_number)
            )
            reviews = await ReviewRepo(session).for_prs(product.id, [p.pr_number for p in pulls])
        standing = await sla_clock.evaluate(session, ticket, request.app[CLOCK]())
        entries = list(await BillingRepo(session).entries_of_ticket(ticket.id))
        items = await history.staff_history(session, request.app[DB].reader, ticket.id)
        merged_into = await merge.merged_into(session, ticket)
        usable = list(await templates_for(session, scope, ticket))
        tags = [t.tag for t in ticket.tags]
    web_url = github_web_url(request.app[SETTINGS].github_api_url)
    issue: object = "not created yet"
    if ticket.issue_number is not None and product is not None:
        issue = fragment(
            '<a href="{href}" rel="noopener noreferrer">{repo}#{n}</a>',
            href=issue_url(web_url, product.repo_full_name, ticket.issue_number),
            repo=product.repo_full_name,
            n=ticket.issue_number,
        )
    facts = [
        ("Status", ticket.status),
        ("Priority", ticket.priority),
        ("Assignee", ticket.assignee or "—"),
        ("Type", ticket.type or "—"),
        ("Category", ticket.category or "—"),
        ("Tags", tags_text(tags) or "—"),
        ("Requester", ticket.submitter_email),
        ("GitHub issue", issue),
        ("Pull requests", pull_links(web_url, product, pulls)),
        ("Reviews", review_links(web_url, product, reviews)),
        ("Deployed", deployment_links(web_url, product, pulls)),
        *sla_facts(standing),
    ]
    if merged_into is not None:
        target = fragment(
            '<a href="{href}">{id}</a>', href=path("desk", "tickets", merged_into), id=merged_into
        )
        facts.insert(0, ("Merged into", target))
    conversation = join(
        fragment(
            '<li class="comment{cls}"><p class="comment-meta">{author} · {at}{badge}</p>'
            '<p class="comment-body">{body}</p></li>',
            cls=" internal" if c.internal else "",
            author=c.author,
            at=time_element(c.created_at),
            badge=Html(' <span class="badge warn">Internal note</span>') if c.internal else "",
            body=c.body,
        )
        for c in comments
    )
    minutes = sum(e.minutes for e in entries)
    may_write = rules.allows(signed_in.account.role, rules.Action.WRITE_TICKETS)
    csrf = csrf_input(signed_in.csrf_token)
    base = path("desk", "tickets", ids.public_id(ticket.id))
    answer = side = Html("")
    if may_write:
        answer = fragment(
            '<section class="card" aria-labelledby="reply-heading"><h2 id="reply-heading">'
            "Answer</h2>"
            '<form class="stacked" method="post" action="{base}/reply">{csrf}'
            '<label for="reply">Reply to the requester (they see it{mailed})</label>'
            '<textarea id="reply" name="body" required rows="4"></textarea>'
            '<button type="submit">Send reply</button></form>'
            '<form class="stacked" method="post" action="{base}/note">{csrf}'
            '<label for="note">Internal note (staff only)</label>'
            '<textarea id="note" name="body" required rows="3"></textarea>'
            '<button type="submit">Add note</button></form></section>',
            base=base,
            csrf=csrf,
            mailed=", and get it by email" if request.app[SETTINGS].mail.sending else "",
        )
        # Beside the conversation on a wide screen (after it on a narrow one): the time, the
        # ticket's fields and the actions, as help desks lay out a ticket.
        side = fragment(
            '<div class="ticket-side">'
            '<section class="card" aria-labelledby="time-heading"><h2 id="time-heading">'
            "Time ({minutes} min logged)</h2>"
            '<form method="post" action="{base}/time">{csrf}'
            '<input type="hidden" name="minutes" value="{quick}">'
            '<input type="hidden" name="description" value="Work on the ticket">'
            '<button type="submit">Log {quick} min</button></form>'
            '<form class="stacked" method="post" action="{base}/time">{csrf}'
            '<label for="minutes">Minutes</label>'
            '<input id="minutes" name="minutes" type="number" min="1" required>'
            '<label for="description">What was done</label>'
            '<input id="description" name="description" required>'
            '<button type="submit">Log time</button></form></section>'
            '<section class="card" aria-labelledby="edit-heading"><h2 id="edit-heading">'
            "Change</h2>"
            '<form class="stacked" method="post" action="{base}/edit">{csrf}{status}{priority}'
            '<label for="assignee">Assignee</label>'
            '<input id="assignee" name="assignee" value="{assignee}">'
            "{type}"
            '<label for="category">Category</label>'
            '<input id="category" name="category" value="{category}">'
            '<label for="tags">Tags (separated by commas)</label>'
            '<input id="tags" name="tags" value="{tags}">'
            '<button type="submit">Save</button></form></section>{actions}</div>',
            base=base,
            csrf=csrf,
            minutes=minutes,
            quick=QUICK_MINUTES,
            status=_select("status", "Status", DESK_STATUSES, ticket.status),
            priority=_select("priority", "Priority", PRIORITIES, ticket.priority),
            assignee=ticket.assignee or "",
            type=_select("type", "Type", ("", *TICKET_TYPES), ticket.type),
            category=ticket.category or "",
            tags=tags_text(tags),
            actions=_actions(
                base,
                csrf,
                ticket,
                has_product=product is not None,
                usable_templates=usable,
            ),
        )
    content = fragment(
        '<h1>{subject} <span class="small">{public_id}</span></h1>{error}{notice}{pipeline}'
        '<dl class="facts">{facts}</dl><div class="ticket-layout"><div class="ticket-main">'
        '<section class="card" aria-labelledby="message-heading"><h2 id="message-heading">'
        'Message</h2><p class="comment-body">{body}</p></section>'
        '<section class="card" aria-labelledby="conversation-heading"><h2 '
        'id="conversation-heading">Conversation</h2>{conversation}</section>{answer}{history}'
        "</div>{side}</div>",
        subject=ticket.subject,
        public_id=ids.public_id(ticket.id),
        error=fragment('<p class="field-error" role="alert">{e}</p>', e=error) if error else "",
        notice=fragment(
            '<p class="notice" role="status">{n}</p>', n=NOTICES[request.query["notice"]]
        )
        if request.query.get("notice") in NOTICES
        else "",
        pipeline=_pipeline(ticket),
        facts=join(fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in facts),
        body=ticket.body,
        conversation=fragment('<ol class="comments">{c}</ol>', c=conversation)
        if comments
        else Html('<p class="empty">No replies or notes yet.</p>'),
        answer=answer,
        side=side,
        history=_history(items),
    )
    return desk_page(
        request,
        f"ticket {ids.public_id(ticket.id)}",
        content,
        signed_in,
        status=status if error else 200,
    )


NOTICES = {
    "replied": "Reply sent.",
    "noted": "Note added.",
    "time": "Time logged.",
    "saved": "Saved.",
    "template": "Template applied.",
    "template-none": "Nothing to fill: the ticket has a type, category and tags already, or "
    "the template has none.",
    "linked": "Linked to the GitHub issue.",
    "issue": "The GitHub issue is on its way.",
    "merged": "Merged: this ticket is closed, and its requester was told where to follow it.",
}


@staff_only()
async def show(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await page(request, signed_in, request.match_info["public_id"])


TicketAction = Callable[
    [AsyncSession, KeyScope, Ticket, MultiDictProxy[str], dt.datetime], Awaitable[None]
]


async def act(
    request: web.Request,
    signed_in: SignedIn,
    action: TicketAction,
    notice: str | Callable[[], str],
) -> web.Response:
    """Run ``action(session, scope, ticket, form, now)`` on the ticket in the URL; a refusal
    shows the page again with the reason (and its status). ``notice`` may be asked for once
    the action ran (the outcome picks it)."""
    form = await read_form(request)
    scope = await staff_scope(request, signed_in)
    now = request.app[CLOCK]()
    try:
        async with request.app[DB].begin() as session:
            ticket = await desk.find_ticket(session, scope, request.match_info["public_id"])
            await action(session, scope, ticket, form, now)
    except ApiError as exc:
        return await page(
            request,
            signed_in,
            request.match_info["public_id"],
            error=f"{exc.error}: {exc.hint or ''}",
            status=exc.status,
        )
    notify_workers(request.app)
    return redirect(ticket_path(ticket, notice if isinstance(notice, str) else notice()))


def _comment_action(internal: bool) -> TicketAction:
    async def add(
        session: AsyncSession,
        scope: KeyScope,
        ticket: Ticket,
        form: MultiDictProxy[str],
        now: dt.datetime,
    ) -> None:
        body, _ = desk_input.validate_comment({"body": form.get("body"), "internal": internal})
        await desk.add_comment(session, scope, ticket, body, internal, now)

    return add


@staff_only(rules.Action.WRITE_TICKETS)
async def reply(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _comment_action(False), "replied")


@staff_only(rules.Action.WRITE_TICKETS)
async def note(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _comment_action(True), "noted")


async def _log_time(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    form: MultiDictProxy[str],
    now: dt.datetime,
) -> None:
    # A form sends text; the rules take the number the API's JSON would carry.
    minutes = whole_number(form.get("minutes", ""))
    fields = billing_input.validate_time_entry(
        {"minutes": minutes, "description": form.get("description")}
    )
    await time_entries.log_time(session, scope.name, ticket, fields, now, actor=Actor.of(scope))


@staff_only(rules.Action.WRITE_TICKETS)
async def log_time(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _log_time, "time")


async def _edit(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    form: MultiDictProxy[str],
    now: dt.datetime,
) -> None:
    data: dict[str, Any] = {k: form[k] for k in ("status", "priority") if k in form}
    for field in ("assignee", "type", "category"):
        if field in form:
            data[field] = form[field].strip() or None
    if "tags" in form:
        data["tags"] = parse_tags(form["tags"])
    changes = desk_input.validate_changes(data)
    await desk.update_ticket(session, scope, ticket, changes, now)


@staff_only(rules.Action.WRITE_TICKETS)
async def edit(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _edit, "saved")


routes = [
    web.get("/desk/tickets/{public_id}", show),
    web.post("/desk/tickets/{public_id}/reply", reply),
    web.post("/desk/tickets/{public_id}/note", note),
    web.post("/desk/tickets/{public_id}/time", log_time),
    web.post("/desk/tickets/{public_id}/edit", edit),
]
