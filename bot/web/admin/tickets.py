"""The admin tickets pages: the filtered, searchable list and one ticket in full, with links
to its GitHub issue and pull requests and its time entries (with a form to log time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.errors import ApiError
from bot.github.web_url import (
    deployments_url,
    github_web_url,
    issue_url,
    pull_url,
    review_url,
)
from bot.http.bodies import read_form, shown
from bot.rules import ids
from bot.rules.numbers import whole_number
from bot.rules.pipeline import STAGE_TITLES, STAGES, Stage
from bot.rules.public_names import public_author
from bot.tickets import sla_clock
from bot.tickets.search import MAX_QUERY_CHARS, SEARCH_HINT, describe, ticket_match
from bot.web.admin import billing
from bot.web.admin.breaches import sla_cell, sla_facts
from bot.web.admin_auth import admin_only, admin_page, notice_from_query, redirect
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import Product, PullRequestLink, PullRequestReview
from storage.reads.admin_queries import AdminQueries
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.products import ProductRepo
from storage.repos.sla import SlaRepo
from storage.repos.tickets import TicketRepo

TICKETS_PER_PAGE = 25
MAX_TICKETS_PER_PAGE = 100


def ticket_filters(
    products: Sequence[Product], q: str, stage: str, product_slug: str, limit: int
) -> Html:
    stage_options = join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=s.value,
            t=STAGE_TITLES[s],
            sel=Html(" selected") if s.value == stage else Html(""),
        )
        for s in STAGES
    )
    product_options = join(
        fragment(
            '<option value="{v}"{sel}>{v}</option>',
            v=p.slug,
            sel=Html(" selected") if p.slug == product_slug else Html(""),
        )
        for p in products
    )
    return fragment(
        '<form class="filters" method="get" action="/admin/tickets" role="search">'
        '<div class="field search"><label for="q">Search</label>'
        '<input id="q" name="q" type="search" value="{q}" maxlength="{max_q}" '
        'aria-describedby="q-hint">'
        '<p class="hint" id="q-hint">TK-00012 or 12, tkt_…, an email, or subject words</p></div>'
        '<div class="field"><label for="stage">Stage</label>'
        '<select id="stage" name="stage"><option value="">All '
        "stages</option>{stages}</select></div>"
        '<div class="field"><label for="product">Product</label>'
        '<select id="product" name="product"><option value="">All '
        "products</option>{products}</select></div>"
        '<input type="hidden" name="limit" value="{limit}">'
        '<button type="submit">Search</button></form>',
        q=q,
        max_q=MAX_QUERY_CHARS,
        stages=stage_options,
        products=product_options,
        limit=limit,
    )


@admin_only
async def list_tickets(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """Tickets newest first, searched and filtered by stage and product, in pages keyed on
    the last id."""
    q = request.query.get("q", "")
    stage = request.query.get("stage", "")
    product_slug = request.query.get("product", "")
    before = whole_number(request.query.get("before"))
    limit = min(whole_number(request.query.get("limit")) or TICKETS_PER_PAGE, MAX_TICKETS_PER_PAGE)
    errors = []
    match = None
    try:
        match = ticket_match(q)
    except ApiError as exc:
        errors.append(f"{exc.error}. {SEARCH_HINT}")
    if stage and stage not in Stage.__members__:
        errors.append(f"There is no stage {stage!r}.")
    async with request.app[DB].session() as session:
        products = await ProductRepo(session).all()
        product = next((p for p in products if p.slug == product_slug), None)
        if product_slug and product is None:
            errors.append(f"There is no product {product_slug!r}.")
        if errors:
            result = None
        else:
            result = await AdminQueries(session).tickets_page(
                stage=stage or None,
                product_id=product.id if product else None,
                before=before,
                limit=limit,
                match=match,
            )
    filters = {
        "q": q.strip() if match is not None else None,
        "stage": stage,
        "product": product_slug,
        "limit": limit if limit != TICKETS_PER_PAGE else None,
    }
    rows = []
    pager = []
    now = request.app[CLOCK]()
    if result is not None:
        for row in result.rows:
            ticket = row.ticket
            public_id = ids.public_id(ticket.id)
            rows.append(
                cells(
                    fragment(
                        '<a href="{href}">{id}</a>',
                        href=path("admin", "tickets", public_id),
                        id=public_id,
                    ),
                    ticket.subject,
                    STAGE_TITLES[Stage(ticket.stage)],
                    ticket.status + (" (deleted)" if ticket.deleted_at else ""),
                    row.product_slug or "—",
                    sla_cell(ticket, now),
                    time_element(ticket.created_at),
                )
            )
        if before is not None:
            pager.append(
                fragment(
                    '<a href="{href}">Newest tickets</a>',
                    href=path("admin", "tickets", query=filters),
                )
            )
        if result.next_before is not None:
            pager.append(
                fragment(
                    '<a href="{href}" rel="next">Older tickets</a>',
                    href=path("admin", "tickets", query={**filters, "before": result.next_before}),
                )
            )
    # The search as typed goes back into the box, shown safely even when it was refused.
    shown_q = shown(q)[: MAX_QUERY_CHARS * 2]
    content = fragment(
        '<h1>Tickets</h1><p><a href="/admin/breaches">SLA breaches</a> · <a '
        'href="/admin/breaches?dueWithin=60m">about to breach</a></p>'
        "{filters}{errors}{searched}{table}"
        '<nav class="pager" aria-label="Pages of tickets">{pager}</nav>',
        filters=ticket_filters(products, shown_q, stage, product_slug, limit),
        errors=join(fragment('<p class="field-error" role="alert">{e}</p>', e=e) for e in errors),
        searched=fragment('<p class="hint" role="status">{d}</p>', d=describe(match))
        if match is not None and not errors
        else Html(""),
        table=table(
            ["Ticket", "Subject", "Stage", "Desk status", "Product", "SLA", "Created"],
            rows,
            caption="Tickets, newest first",
            empty="No tickets match." if before is None else "No older tickets.",
        ),
        pager=join(pager, " "),
    )
    return admin_page(
        request, "tickets", content, admin_session=admin_session, status=400 if errors else 200
    )


PR_STATES = {"open": "open", "closed": "closed without merging", "merged": "merged"}


def pull_links(web_url: str, product: Product | None, pulls: Sequence[PullRequestLink]) -> Html:
    """The pull requests that close the ticket's issue, each linked with its state."""
    if product is None or not pulls:
        return Html("none linked")
    return join(
        (
            fragment(
                '<a href="{href}" rel="noopener noreferrer">#{n}</a> ({state})',
                href=pull_url(web_url, product.repo_full_name, pr.pr_number),
                n=pr.pr_number,
                state="draft"
                if pr.draft and pr.state == "open"
                else PR_STATES.get(pr.state, pr.state),
            )
            for pr in sorted(pulls, key=lambda pr: pr.pr_number)
        ),
        ", ",
    )


VERDICTS = {
    "approved": "approved",
    "changes_requested": "asked for changes",
    "dismissed": "review dismissed",
}


def review_links(
    web_url: str, product: Product | None, reviews: Mapping[int, Sequence[PullRequestReview]]
) -> Html:
    """Each reviewer's standing review of the ticket's pull requests, linked to it on GitHub."""
    if product is None or not any(reviews.values()):
        return Html("none yet")
    return join(
        (
            fragment(
                '@{who} <a href="{href}" rel="noopener noreferrer">{verdict}</a> (#{n})',
                who=review.reviewer,
                href=review_url(web_url, product.repo_full_name, number, review.review_id),
                verdict=VERDICTS.get(review.verdict, review.verdict),
                n=number,
            )
            for number in sorted(reviews)
            for review in sorted(reviews[number], key=lambda r: r.reviewer)
        ),
        ", ",
    )


def deployment_links(
    web_url: str, product: Product | None, pulls: Sequence[PullRequestLink]
) -> Html:
    """Where and when each merged fix went live, linked to the environment's deployments."""
    shipped = [pr for pr in pulls if pr.shipped_at is not None]
    if product is None or not shipped:
        return Html("not yet")
    return join(
        (
            fragment(
                '<a href="{href}" rel="noopener noreferrer">{env}</a> {at} (#{n})',
                href=deployments_url(web_url, product.repo_full_name, pr.shipped_environment or ""),
                env=pr.shipped_environment or "production",
                at=time_element(pr.shipped_at),
                n=pr.pr_number,
            )
            if pr.shipped_environment
            else fragment("live {at} (#{n})", at=time_element(pr.shipped_at), n=pr.pr_number)
            for pr in sorted(shipped, key=lambda pr: pr.pr_number)
        ),
        ", ",
    )


@admin_only
async def show_ticket(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await ticket_page(request, admin_session, request.match_info["public_id"])


@admin_only
async def log_time(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """The ticket page's "Log time" form: the signed-in admin is the technician."""
    public_id = request.match_info["public_id"]
    values = billing.form_values(await read_form(request), billing.TIME_FIELDS)
    number = ids.parse_public_id(public_id)
    try:
        async with request.app[DB].begin() as session:
            ticket = await TicketRepo(session).by_number(number) if number is not None else None
            if ticket is not None:
                await billing.log_time(session, ticket, values, request.app[CLOCK]())
    except ApiError as exc:
        return await ticket_page(
            request,
            admin_session,
            public_id,
            time_values=values,
            time_errors=billing.errors_of(exc),
            status=exc.status,
        )
    if ticket is None:
        return await ticket_page(request, admin_session, public_id)  # its 404
    return redirect(path("admin", "tickets", public_id, query={"notice": "time-logged"}))


async def ticket_page(
    request: web.Request,
    admin_session: AdminSession,
    public_id: str,
    *,
    time_values: Mapping[str, str] | None = None,
    time_errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """One ticket in full: submitter, body, every transition with its cause, every comment,
    its time."""
    number = ids.parse_public_id(public_id)
    async with request.app[DB].session() as session:
        repo = TicketRepo(session)
        ticket = await repo.by_number(number) if number is not None else None
        if ticket is None:
            content = fragment("<h1>No ticket {id}</h1>", id=public_id)
            return admin_page(
                request, "not found", content, admin_session=admin_session, status=404
            )
        history = await repo.history(ticket.id)
        sla_events = await SlaRepo(session).events(ticket.id)
        comments = await AdminQueries(session).all_comments(ticket.id)
        product = await ProductRepo(session).by_id(ticket.product_id) if ticket.product_id else None
        pulls: Sequence[PullRequestLink] = []
        if product is not None and ticket.issue_number is not None:
            pulls = await PullRequestLinkRepo(session).for_issue(product.id, ticket.issue_number)
        standing = await sla_clock.evaluate(session, ticket, request.app[CLOCK]())
        time = await billing.ticket_time(session, ticket)
    public_id = ids.public_id(ticket.id)
    web_url = github_web_url(request.app[SETTINGS].github_api_url)
    issue: object = "not created yet"
    if ticket.issue_number is not None:
        issue = f"#{ticket.issue_number}"
        if product is not None:
            issue = fragment(
                '<a href="{href}" rel="noopener noreferrer">{repo}#{n}</a>',
                href=issue_url(web_url, product.repo_full_name, ticket.issue_number),
                repo=product.repo_full_name,
                n=ticket.issue_number,
            )
    facts = [
        ("Subject", ticket.subject),
        ("Stage", STAGE_TITLES[Stage(ticket.stage)]),
        ("Desk status", ticket.status),
        ("Priority", ticket.priority),
        *sla_facts(standing),
        ("Product", f"{product.slug} ({product.repo_full_name})" if product else "—"),
        ("GitHub issue", issue),
        ("Pull requests", pull_links(web_url, product, pulls)),
        ("Submitter", ticket.submitter_name or "—"),
        ("Submitter email", ticket.submitter_email),
        ("Created", time_element(ticket.created_at)),
        ("Updated", time_element(ticket.updated_at)),
        (
            "Public tracking page",
            fragment('<a href="{href}">{href}</a>', href=path("track", public_id)),
        ),
    ]
    history_rows = [
        cells(
            time_element(step.at),
            f"{step.from_stage or '—'} → {step.to_stage}",
            step.cause,
            step.description,
            step.actor or "—",
            step.delivery_id or "—",
            f"#{step.pr_number}" if step.pr_number else "—",
        )
        for step in history
    ]
    comment_items = [
        fragment(
            '<li class="comment{internal_class}"><p class="comment-meta"><span '
            'class="comment-author">{author}</span>{shown_as}'
            ' · {time}{badge}</p><p class="comment-body">{body}</p></li>',
            internal_class=" internal" if comment.internal else "",
            author=comment.author,
            shown_as=Html("")
            if comment.internal
            else fragment(" (submitters see {name})", name=public_author(comment.public_author)),
            time=time_element(comment.created_at),
            badge=Html(' <span class="badge warn">Internal note</span>')
            if comment.internal
            else Html(""),
            body=comment.body,
        )
        for comment in comments
    ]
    screenshots = join(
        fragment('<li><a href="{url}" rel="noopener noreferrer">{url}</a></li>', url=url)
        for url in ticket.screenshots
    )
    content = fragment(
        "<h1>Ticket {id}</h1>{notice}"
        '<dl class="facts">{facts}</dl>'
        '<section class="card" aria-labelledby="body-heading"><h2 id="body-heading">Message</h2>'
        '<p class="comment-body">{body}</p>{screenshots}</section>'
        '<section class="card" aria-labelledby="history-heading"><h2 '
        'id="history-heading">History</h2>{history}</section>'
        '<section class="card" aria-labelledby="sla-events-heading"><h2 '
        'id="sla-events-heading">SLA warnings and breaches</h2>{sla_events}</section>'
        '<section class="card" aria-labelledby="comments-heading"><h2 '
        'id="comments-heading">Comments</h2>{comments}</section>{time}',
        id=public_id,
        notice=notice_from_query(request),
        time=billing.time_section(admin_session, public_id, time, time_values, time_errors),
        facts=join(fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in facts),
        body=ticket.body,
        screenshots=fragment('<h3>Screenshots</h3><ul class="links">{s}</ul>', s=screenshots)
        if ticket.screenshots
        else Html(""),
        history=table(
            ["At", "Move", "Cause", "Description", "Actor", "Delivery", "PR"],
            history_rows,
            caption="Stage transitions, oldest first",
            empty="No transitions.",
        ),
        sla_events=table(
            ["At", "Event", "Clock", "Due", "Policy"],
            [
                cells(time_element(e.at), e.kind, e.clock, time_element(e.due_at), e.policy)
                for e in sla_events
            ],
            caption="Recorded once each, and sent to the product's SLA webhook if it has one",
            empty="None.",
        ),
        comments=fragment('<ol class="comments">{c}</ol>', c=join(comment_items))
        if comment_items
        else Html('<p class="empty">No comments.</p>'),
    )
    return admin_page(
        request, f"ticket {public_id}", content, admin_session=admin_session, status=status
    )
