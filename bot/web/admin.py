"""The admin pages under ``/admin``: products, tickets, failed webhook deliveries, API keys.

Every page needs a signed-in session and every POST form the session's CSRF token
(``admin_only`` in ``bot.web.admin_auth``). Admins see what the public never does: emails,
bodies, internal notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.rules import ids
from bot.tickets.apikeys import create_key, revoke_key, validate_key_request
from bot.errors import ApiError
from bot.appkeys import DB
from bot.rules.pipeline import STAGE_TITLES, STAGES, Stage
from bot.tickets.products import register_product, validate_product
from bot.web.admin_auth import (
    admin_only,
    admin_page,
    cells,
    csrf_input,
    notice_from_query,
    redirect,
    table,
)
from bot.web.html import Html, fragment, join, path, time_element
from bot.web.sessions import AdminSession
from bot.jobs.worker import notify_workers
from storage.repos import queue
from storage.reads.admin_queries import AdminQueries
from storage.models import ApiKey, Delivery, Product
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo

routes = web.RouteTableDef()

TICKETS_PER_PAGE = 25
MAX_TICKETS_PER_PAGE = 100

# -- overview ------------------------------------------------------------------------------------


@routes.get("/admin")
@admin_only
async def overview(request: web.Request, session: AdminSession) -> web.StreamResponse:
    async with request.app[DB].session() as db_session:
        queries = AdminQueries(db_session)
        by_stage = await queries.tickets_by_stage()
        failed = await queries.count_failed_deliveries()
        products = await ProductRepo(db_session).all()
    rows = [
        cells(
            fragment(
                '<a href="{href}">{title}</a>',
                href=path("admin", "tickets", query={"stage": s.value}),
                title=STAGE_TITLES[s],
            ),
            by_stage.get(s.value, 0),
        )
        for s in STAGES
    ]
    content = fragment(
        "<h1>Overview</h1>"
        '<ul class="stats">'
        '<li><a href="/admin/products"><strong>{products}</strong> products</a></li>'
        '<li><a href="/admin/tickets"><strong>{tickets}</strong> tickets</a></li>'
        '<li><a href="/admin/deliveries"><strong>{failed}</strong> failed deliveries</a></li>'
        "</ul>{table}",
        products=len(products),
        tickets=sum(by_stage.values()),
        failed=failed,
        table=table(
            ["Stage", "Tickets"], rows, caption="Tickets by stage", empty="No tickets yet."
        ),
    )
    return admin_page(request, "overview", content, session=session)


# -- products ------------------------------------------------------------------------------------


def product_row(product: Product) -> Html:
    installed = (
        Html('<span class="badge ok">Installed</span>')
        if product.installation_id is not None
        else Html('<span class="badge warn">Not installed</span>')
    )
    remove = fragment(
        '<a href="{href}">Remove<span class="visually-hidden"> {slug}</span>…</a>',
        href=path("admin", "products", product.slug, "remove"),
        slug=product.slug,
    )
    return cells(
        fragment("<code>{slug}</code>", slug=product.slug),
        product.name,
        product.repo_full_name,
        installed,
        "On" if product.deployment_tracking else "Off",
        ", ".join(product.production_environments),
        time_element(product.created_at),
        remove,
    )


def field_error(errors: dict[str, str], name: str) -> Html:
    if name not in errors:
        return Html("")
    return fragment(
        '<p class="field-error" id="{name}-error">{message}</p>', name=name, message=errors[name]
    )


def field_attributes(errors: dict[str, str], name: str) -> Html:
    described = f"{name}-hint {name}-error" if name in errors else f"{name}-hint"
    invalid = ' aria-invalid="true"' if name in errors else ""
    return fragment(' aria-describedby="{d}"{invalid}', d=described, invalid=Html(invalid))


def register_form(session: AdminSession, values: dict[str, Any], errors: dict[str, str]) -> Html:
    def text_field(name: str, label: str, hint: str, *, required: bool = False) -> Html:
        return fragment(
            '<div class="field"><label for="{name}">{label}</label>'
            '<p class="hint" id="{name}-hint">{hint}</p>{error}'
            '<input id="{name}" name="{name}" type="text" value="{value}"{required}{attrs}></div>',
            name=name,
            label=label,
            hint=hint,
            error=field_error(errors, name),
            value=values.get(name, ""),
            required=Html(" required") if required else Html(""),
            attrs=field_attributes(errors, name),
        )

    tracking_checked = Html(" checked") if values.get("deploymentTracking", True) else Html("")
    general = (
        fragment('<p class="field-error">{e}</p>', e=errors["_form"])
        if "_form" in errors
        else Html("")
    )
    return fragment(
        '<section class="card" aria-labelledby="register-heading"><h2 '
        'id="register-heading">Register a product</h2>'
        '<form class="stacked" method="post" action="/admin/products" novalidate>{csrf}{general}'
        "{slug}{repo}{name}"
        '<div class="field checkbox"><input id="deploymentTracking" name="deploymentTracking" '
        'type="checkbox" value="on"'
        '{tracking} aria-describedby="deploymentTracking-hint">'
        '<label for="deploymentTracking">Deployment tracking</label>'
        '<p class="hint" id="deploymentTracking-hint">Wait for a production deployment before '
        "CLOSED. "
        "Untick for products that are not deployed: they go MERGED → CLOSED.</p></div>"
        "{environments}"
        '<button type="submit">Register product</button></form></section>',
        csrf=csrf_input(session),
        general=general,
        slug=text_field(
            "slug",
            "Product slug",
            "Lowercase letters, digits and dashes, e.g. my-saas-app.",
            required=True,
        ),
        repo=text_field(
            "repo", "GitHub repository", "OWNER/NAME, e.g. octo-org/my-saas-app.", required=True
        ),
        name=text_field("name", "Display name (optional)", "Defaults to the slug."),
        tracking=tracking_checked,
        environments=text_field(
            "productionEnvironments",
            "Production environments",
            "Comma-separated deployment environment names, e.g. production.",
        ),
    )


async def products_page(
    request: web.Request,
    session: AdminSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as db_session:
        products = await ProductRepo(db_session).all()
    headers = [
        "Slug",
        "Name",
        "Repository",
        "GitHub App",
        "Deploy tracking",
        "Environments",
        "Registered",
        "Actions",
    ]
    content = fragment(
        "<h1>Products</h1>{notice}{table}{form}",
        notice=notice_from_query(request),
        table=table(
            headers,
            [product_row(p) for p in products],
            caption="Registered products",
            empty="No products yet.",
        ),
        form=register_form(
            session, values or {"productionEnvironments": "production"}, errors or {}
        ),
    )
    return admin_page(request, "products", content, session=session, status=status)


@routes.get("/admin/products")
@admin_only
async def list_products(request: web.Request, session: AdminSession) -> web.StreamResponse:
    return await products_page(request, session)


@routes.post("/admin/products")
@admin_only
async def add_product(request: web.Request, session: AdminSession) -> web.StreamResponse:
    form = await request.post()
    values = {
        key: str(form.get(key, "")) for key in ("slug", "repo", "name", "productionEnvironments")
    }
    values["deploymentTracking"] = form.get("deploymentTracking") == "on"
    data = {
        "slug": values["slug"],
        "repo": values["repo"],
        "name": values["name"],
        "deploymentTracking": values["deploymentTracking"],
        "productionEnvironments": [
            e.strip() for e in values["productionEnvironments"].split(",") if e.strip()
        ],
    }
    try:
        fields = validate_product(data)
        async with request.app[DB].begin() as db_session:
            await register_product(db_session, fields)
    except ApiError as exc:
        errors = dict(exc.extra.get("fields", {}))
        if not errors:
            errors["_form"] = f"{exc.error}: {exc.hint}" if exc.hint else exc.error
        return await products_page(
            request, session, values=values, errors=errors, status=exc.status
        )
    return redirect(
        path("admin", "products", query={"notice": "product-added", "slug": fields["slug"]})
    )


@routes.get("/admin/products/{slug}/remove")
@admin_only
async def confirm_remove_product(request: web.Request, session: AdminSession) -> web.StreamResponse:
    slug = request.match_info["slug"]
    async with request.app[DB].session() as db_session:
        product = await ProductRepo(db_session).by_slug(slug)
    if product is None:
        return admin_page(
            request,
            "not found",
            fragment("<h1>No product {slug}</h1>", slug=slug),
            session=session,
            status=404,
        )
    content = fragment(
        "<h1>Remove product <code>{slug}</code>?</h1>"
        "<p>{name} ({repo}) will no longer accept tickets. Its tickets are kept, but are no longer "
        "linked to a product, and GitHub events from {repo} are ignored.</p>"
        '<form class="actions" method="post" action="{action}">{csrf}'
        '<button type="submit" class="danger">Remove {slug}</button> '
        '<a href="/admin/products">Cancel</a></form>',
        slug=product.slug,
        name=product.name,
        repo=product.repo_full_name,
        action=path("admin", "products", product.slug, "remove"),
        csrf=csrf_input(session),
    )
    return admin_page(request, f"remove {product.slug}", content, session=session)


@routes.post("/admin/products/{slug}/remove")
@admin_only
async def remove_product(request: web.Request, session: AdminSession) -> web.StreamResponse:
    slug = request.match_info["slug"]
    async with request.app[DB].begin() as db_session:
        removed = await ProductRepo(db_session).remove(slug)
    if not removed:
        return admin_page(
            request,
            "not found",
            fragment("<h1>No product {slug}</h1>", slug=slug),
            session=session,
            status=404,
        )
    return redirect(path("admin", "products", query={"notice": "product-removed", "slug": slug}))


# -- tickets -------------------------------------------------------------------------------------


def positive_int(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text) or None


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


@routes.get("/admin/tickets")
@admin_only
async def list_tickets(request: web.Request, session: AdminSession) -> web.StreamResponse:
    """Tickets newest first, filtered by stage and product, in pages keyed on the last id."""
    stage = request.query.get("stage", "")
    product_slug = request.query.get("product", "")
    before = positive_int(request.query.get("before"))
    limit = min(positive_int(request.query.get("limit")) or TICKETS_PER_PAGE, MAX_TICKETS_PER_PAGE)
    errors = []
    if stage and stage not in Stage.__members__:
        errors.append(f"There is no stage {stage!r}.")
    async with request.app[DB].session() as db_session:
        products = await ProductRepo(db_session).all()
        product = next((p for p in products if p.slug == product_slug), None)
        if product_slug and product is None:
            errors.append(f"There is no product {product_slug!r}.")
        if errors:
            result = None
        else:
            result = await AdminQueries(db_session).tickets_page(
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
    return admin_page(request, "tickets", content, session=session, status=400 if errors else 200)


@routes.get("/admin/tickets/{public_id}")
@admin_only
async def show_ticket(request: web.Request, session: AdminSession) -> web.StreamResponse:
    """One ticket in full: submitter, body, every transition with its cause, every comment."""
    public_id = request.match_info["public_id"]
    number = ids.parse_public_id(public_id)
    async with request.app[DB].session() as db_session:
        repo = TicketRepo(db_session)
        ticket = await repo.by_number(number) if number is not None else None
        if ticket is None:
            content = fragment("<h1>No ticket {id}</h1>", id=public_id)
            return admin_page(request, "not found", content, session=session, status=404)
        history = await repo.history(ticket.id)
        comments = await AdminQueries(db_session).all_comments(ticket.id)
        product = (
            await ProductRepo(db_session).by_id(ticket.product_id) if ticket.product_id else None
        )
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
            'class="comment-author">{author}</span>'
            ' · {time}{badge}</p><p class="comment-body">{body}</p></li>',
            internal_class=" internal" if comment.internal else "",
            author=comment.author,
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
    return admin_page(request, f"ticket {public_id}", content, session=session)


# -- failed deliveries ---------------------------------------------------------------------------


def delivery_row(delivery: Delivery, session: AdminSession) -> Html:
    replay = fragment(
        '<form method="post" action="{action}">{csrf}'
        '<button type="submit">Replay<span class="visually-hidden"> delivery '
        "{id}</span></button></form>",
        action=path("admin", "deliveries", str(delivery.id), "replay"),
        csrf=csrf_input(session),
        id=delivery.id,
    )
    error = delivery.last_error or "—"
    return cells(
        fragment(
            '{event}<br><code class="small">{delivery_id}</code>',
            event=delivery.event,
            delivery_id=delivery.delivery_id,
        ),
        delivery.action or "—",
        time_element(delivery.received_at),
        delivery.attempts,
        fragment('<pre class="error-text">{e}</pre>', e=error[:2000]),
        replay,
    )


@routes.get("/admin/deliveries")
@admin_only
async def list_failed_deliveries(request: web.Request, session: AdminSession) -> web.StreamResponse:
    async with request.app[DB].session() as db_session:
        deliveries = await AdminQueries(db_session).failed_deliveries()
    content = fragment(
        "<h1>Failed webhook deliveries</h1>{notice}"
        "<p>GitHub deliveries the worker gave up on. Replay one after fixing its cause: it is "
        "processed again from the start.</p>{table}",
        notice=notice_from_query(request),
        table=table(
            ["Event", "Action", "Received", "Attempts", "Last error", "Replay"],
            [delivery_row(d, session) for d in deliveries],
            caption="Failed deliveries, newest first",
            empty="No failed deliveries.",
        ),
    )
    return admin_page(request, "failed deliveries", content, session=session)


@routes.post("/admin/deliveries/{id}/replay")
@admin_only
async def replay_delivery(request: web.Request, session: AdminSession) -> web.StreamResponse:
    row_id = positive_int(request.match_info["id"])
    replayed = False
    if row_id is not None:
        async with request.app[DB].begin() as db_session:
            replayed = await queue.requeue(db_session, Delivery, row_id)
    if replayed:
        notify_workers(request.app)
    notice = "replayed" if replayed else "not-replayed"
    return redirect(
        path("admin", "deliveries", query={"notice": notice, "id": request.match_info["id"]})
    )


# -- API keys ------------------------------------------------------------------------------------


def key_row(key: ApiKey, products: dict[int, str], session: AdminSession) -> Html:
    if key.revoked_at is not None:
        state: object = fragment("Revoked {t}", t=time_element(key.revoked_at))
        action: object = "—"
    else:
        state = Html('<span class="badge ok">Active</span>')
        action = fragment(
            '<form method="post" action="{action}">{csrf}'
            '<button type="submit" class="danger">Revoke<span class="visually-hidden"> key '
            "{name} ({id})</span></button></form>",
            action=path("admin", "api-keys", key.public_id, "revoke"),
            csrf=csrf_input(session),
            name=key.name,
            id=key.public_id,
        )
    return cells(
        key.name,
        fragment(
            '<code>{p}…</code><br><code class="small">{id}</code>',
            p=key.display_prefix,
            id=key.public_id,
        ),
        "test" if key.is_test else "live",
        ", ".join(products.get(i, f"(removed product {i})") for i in key.product_ids)
        or "all products",
        time_element(key.created_at),
        time_element(key.last_used_at, empty="never"),
        state,
        action,
    )


def key_form(
    session: AdminSession,
    products: dict[int, str],
    values: dict[str, Any],
    errors: dict[str, str],
) -> Html:
    chosen = set(values.get("products", ()))
    boxes = join(
        fragment(
            '<div class="checkbox"><input id="product-{slug}" name="products" type="checkbox" '
            'value="{slug}"{checked}><label for="product-{slug}">{slug}</label></div>',
            slug=slug,
            checked=Html(" checked") if slug in chosen else Html(""),
        )
        for slug in sorted(products.values())
    )
    general = (
        fragment('<p class="field-error" role="alert">{e}</p>', e=errors["_form"])
        if "_form" in errors
        else Html("")
    )
    return fragment(
        '<section class="card" aria-labelledby="create-key-heading">'
        '<h2 id="create-key-heading">Create a key</h2>'
        '<form class="stacked" method="post" action="/admin/api-keys" novalidate>{csrf}{general}'
        '<div class="field"><label for="name">Name</label>'
        '<p class="hint" id="name-hint">Who uses it, e.g. Zendesk bridge; comments made with the '
        "key are signed with this name.</p>{name_error}"
        '<input id="name" name="name" type="text" value="{name}" required{name_attrs}></div>'
        '<fieldset class="field"><legend>Products</legend>'
        '<p class="hint">Tick none for a key that sees every product.</p>{boxes}</fieldset>'
        '<div class="field checkbox"><input id="test" name="test" type="checkbox" value="on"'
        '{test} aria-describedby="test-hint"><label for="test">Test mode</label>'
        '<p class="hint" id="test-hint">A td_test_ key: its tickets never reach GitHub.</p></div>'
        '<button type="submit">Create key</button></form></section>',
        csrf=csrf_input(session),
        general=general,
        name_error=field_error(errors, "name"),
        name=values.get("name", ""),
        name_attrs=field_attributes(errors, "name"),
        boxes=boxes if products else Html('<p class="empty">No products yet.</p>'),
        test=Html(" checked") if values.get("test") else Html(""),
    )


def created_key_notice(secret: str, key: ApiKey) -> Html:
    return fragment(
        '<section class="card new-key" role="status" aria-labelledby="new-key-heading">'
        '<h2 id="new-key-heading">Key {id} created for {name}</h2>'
        "<p><strong>Copy it now: it is shown only this once.</strong> TinyDesk stores only "
        "its hash.</p>"
        '<p><label for="new-key">The new key</label>'
        '<input id="new-key" class="secret" type="text" value="{secret}" readonly '
        'autocomplete="off" spellcheck="false"></p></section>',
        id=key.public_id,
        name=key.name,
        secret=secret,
    )


async def api_keys_page(
    request: web.Request,
    session: AdminSession,
    *,
    created: Html | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as db_session:
        keys = await AdminQueries(db_session).api_keys()
        products = {p.id: p.slug for p in await ProductRepo(db_session).all()}
    content = fragment(
        "<h1>API keys</h1>{notice}{created}"
        "<p>Desk API keys let a help desk create and manage tickets "
        "(<code>Authorization: Bearer td_live_…</code>). Only the first characters of a key "
        "are kept for this list.</p>{table}{form}",
        notice=notice_from_query(request),
        created=created or Html(""),
        table=table(
            ["Name", "Key and id", "Mode", "Products", "Created", "Last used", "State", "Actions"],
            [key_row(key, products, session) for key in keys],
            caption="Desk API keys, newest first",
            empty="No API keys yet.",
        ),
        form=key_form(session, products, values or {}, errors or {}),
    )
    return admin_page(request, "API keys", content, session=session, status=status)


@routes.get("/admin/api-keys")
@admin_only
async def list_api_keys(request: web.Request, session: AdminSession) -> web.StreamResponse:
    return await api_keys_page(request, session)


@routes.post("/admin/api-keys")
@admin_only
async def add_api_key(request: web.Request, session: AdminSession) -> web.StreamResponse:
    """Create a key and show it once, in this response (never in a URL or a redirect)."""
    form = await request.post()
    values = {
        "name": str(form.get("name", "")),
        "products": [str(v) for v in form.getall("products", [])],
        "test": form.get("test") == "on",
    }
    try:
        key_request = validate_key_request(values)
        async with request.app[DB].begin() as db_session:
            created = await create_key(db_session, key_request)
    except ApiError as exc:
        errors = dict(exc.extra.get("fields", {}))
        if not errors:
            errors["_form"] = f"{exc.error}: {exc.hint}" if exc.hint else exc.error
        return await api_keys_page(
            request, session, values=values, errors=errors, status=exc.status
        )
    return await api_keys_page(
        request, session, created=created_key_notice(created.secret, created.api_key), status=201
    )


@routes.post("/admin/api-keys/{id}/revoke")
@admin_only
async def revoke_api_key(request: web.Request, session: AdminSession) -> web.StreamResponse:
    key_id = request.match_info["id"]
    try:
        async with request.app[DB].begin() as db_session:
            await revoke_key(db_session, key_id)
    except ApiError as exc:
        content = fragment("<h1>No API key {id}</h1><p>{hint}</p>", id=key_id, hint=exc.hint)
        return admin_page(request, "not found", content, session=session, status=exc.status)
    return redirect(path("admin", "api-keys", query={"notice": "key-revoked", "id": key_id}))
