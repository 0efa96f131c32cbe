"""The admin tickets pages: the filtered list and one ticket in full."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.appkeys import DB
from bot.rules import ids
from bot.rules.numbers import whole_number
from bot.rules.pipeline import STAGE_TITLES, STAGES, Stage
from bot.rules.public_names import public_author
from bot.web.admin_auth import admin_only, admin_page
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import Product
from storage.reads.admin_queries import AdminQueries
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo

TICKETS_PER_PAGE = 25
MAX_TICKETS_PER_PAGE = 100


def ticket_filters(products: Sequence[Product], stage: str, product_slug: str, limit: int) -> Html:
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
        '<form class="filters" method="get" action="/admin/tickets">'
        '<div class="field"><label for="stage">Stage</label>'
        '<select id="stage" name="stage"><option value="">All '
        "stages</option>{stages}</select></div>"
        '<div class="field"><label for="product">Product</label>'
        '<select id="product" name="product"><option value="">All '
        "products</option>{products}</select></div>"
        '<input type="hidden" name="limit" value="{limit}">'
        '<button type="submit">Filter</button></form>',
        stages=stage_options,
        products=product_options,
        limit=limit,
    )


@admin_only
async def list_tickets(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """Tickets newest first, filtered by stage and product, in pages keyed on the last id."""
    stage = request.query.get("stage", "")
    product_slug = request.query.get("product", "")
    before = whole_number(request.query.get("before"))
    limit = min(whole_number(request.query.get("limit")) or TICKETS_PER_PAGE, MAX_TICKETS_PER_PAGE)
    errors = []
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
            )
    filters = {
        "stage": stage,
        "product": product_slug,
        "limit": limit if limit != TICKETS_PER_PAGE else None,
    }
    rows = []
    pager = []
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
    content = fragment(
        "<h1>Tickets</h1>{filters}{errors}{table}"
        '<nav class="pager" aria-label="Pages of tickets">{pager}</nav>',
        filters=ticket_filters(products, stage, product_slug, limit),
        errors=join(fragment('<p class="field-error" role="alert">{e}</p>', e=e) for e in errors),
        table=table(
            ["Ticket", "Subject", "Stage", "Desk status", "Product", "Created"],
            rows,
            caption="Tickets, newest first",
            empty="No tickets match." if before is None else "No older tickets.",
        ),
        pager=join(pager, " "),
    )
    return admin_page(
        request, "tickets", content, admin_session=admin_session, status=400 if errors else 200
    )


@admin_only
async def show_ticket(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """One ticket in full: submitter, body, every transition with its cause, every comment."""
    public_id = request.match_info["public_id"]
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
        comments = await AdminQueries(session).all_comments(ticket.id)
        product = await ProductRepo(session).by_id(ticket.product_id) if ticket.product_id else None
    public_id = ids.public_id(ticket.id)
    facts = [
        ("Subject", ticket.subject),
        ("Stage", STAGE_TITLES[Stage(ticket.stage)]),
        ("Desk status", ticket.status),
        ("Priority", ticket.priority),
        ("Product", f"{product.slug} ({product.repo_full_name})" if product else "—"),
        ("GitHub issue", f"#{ticket.issue_number}" if ticket.issue_number else "not created yet"),
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
        "<h1>Ticket {id}</h1>"
        '<dl class="facts">{facts}</dl>'
        '<section class="card" aria-labelledby="body-heading"><h2 id="body-heading">Message</h2>'
        '<p class="comment-body">{body}</p>{screenshots}</section>'
        '<section class="card" aria-labelledby="history-heading"><h2 '
        'id="history-heading">History</h2>{history}</section>'
        '<section class="card" aria-labelledby="comments-heading"><h2 '
        'id="comments-heading">Comments</h2>{comments}</section>',
        id=public_id,
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
        comments=fragment('<ol class="comments">{c}</ol>', c=join(comment_items))
        if comment_items
        else Html('<p class="empty">No comments.</p>'),
    )
    return admin_page(request, f"ticket {public_id}", content, admin_session=admin_session)
