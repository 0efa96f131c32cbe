"""Signing in to the admin pages, and what every admin page shares: the layout with its sign-out
button, the guard that wants a session (and a CSRF token on POSTs), notices and redirects.

Two ways in: the admin token (break-glass, ``TINYDESK_ADMIN_TOKEN``), and a staff account
with role admin, from the workspace's Settings (``open_for_staff``). The second is the
person's own workspace session (``bot.staff.sessions.console_session``), checked on every
request: signing out of either, being disabled or no longer an admin ends it at once."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.http.ratelimit import (
    ADMIN_TOKEN_FAILURES,
    ADMIN_TOKEN_WINDOW,
    RATE_LIMITER,
    admin_token_failures,
)
from bot.rules import staff as staff_rules
from bot.staff import sessions as staff_sessions
from bot.web.html import Html, fragment, join, page, path
from bot.web.sessions import (
    CSRF_FIELD,
    SIGN_IN_COOKIE,
    AdminSession,
    csrf_ok,
    current_session,
    end_session,
    set_cookie,
    sign_in_csrf_ok,
    sign_in_token,
    start_session,
)

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

ADMIN_NAV = (
    ("Overview", "/admin"),
    ("Products", "/admin/products"),
    ("SLA policies", "/admin/sla"),
    ("Tickets", "/admin/tickets"),
    ("Templates", "/admin/templates"),
    ("Clients", "/admin/clients"),
    ("Contracts", "/admin/contracts"),
    ("Invoices", "/admin/invoices"),
    ("Failed deliveries", "/admin/deliveries"),
    ("Failed jobs", "/admin/jobs"),
    ("Callbacks", "/admin/callbacks"),
    ("API keys", "/admin/api-keys"),
    ("Staff accounts", "/admin/staff"),
    ("GitHub App", "/admin/setup"),
)
SIGN_IN_PATH = "/admin/sign-in"

NOTICES = {
    "signed-out": "You are signed out.",
    "product-added": "Product {slug} registered.",
    "product-removed": "Product {slug} removed; its tickets are kept.",
    "product-issue-text": "Issue text of {slug} changed; it applies to issues opened from now on.",
    "template-added": "Template {slug} added.",
    "template-changed": "Template {slug} saved; tickets made from it before keep their fields.",
    "template-removed": "Template {slug} removed; tickets made from it are kept.",
    "replayed": "Delivery {id} queued again; the worker picks it up shortly.",
    "not-replayed": "Delivery {id} was no longer failed, so nothing was queued.",
    "job-replayed": "Job {id} queued again; the outbox worker tries it shortly.",
    "job-not-replayed": "Job {id} is not a failed job (any more), so nothing was queued.",
    "callback-redelivered": "Callback {id} queued again; the worker sends it shortly.",
    "callback-not-redelivered": "Callback {id} is pending or delivered, so nothing was queued.",
    "key-revoked": "Key {id} revoked: requests with it are refused from now on.",
    "sla-added": "SLA policy {slug} added.",
    "sla-saved": "SLA policy {slug} saved; the due times of {id} open ticket(s) were computed "
    "again.",
    "sla-default": "{slug} is now the default SLA policy.",
    "sla-removed": "SLA policy {slug} deleted; its products and tickets follow the default policy.",
    "client-added": "Client {slug} added.",
    "client-saved": "Client {slug} saved.",
    "contract-added": "Contract {slug} added.",
    "invoice-drafted": "Draft made: check its lines, then issue it.",
    "invoice-issued": "Invoice issued: its number and PDF are final.",
    "invoice-paid": "Invoice marked paid.",
    "invoice-voided": "Invoice voided: its number stays used, its time may be billed again.",
    "credit-issued": "Credit note issued.",
    "draft-deleted": "Draft {id} deleted; its time and charges may be invoiced again.",
    "time-logged": "Time logged.",
    "key-public-name": "Key {id}'s public name changed; comments already written keep theirs.",
}

AdminHandler = Callable[[web.Request, AdminSession], Awaitable[web.StreamResponse]]

# -- plumbing ----------------------------------------------------------------------------------


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST, the browser GETs ``location`` (no resubmission on reload)."""
    return web.Response(status=303, headers={"Location": location})


def notice_from_query(request: web.Request) -> Html:
    template = NOTICES.get(request.query.get("notice", ""))
    if template is None:
        return Html("")
    text = template.format(slug=request.query.get("slug", ""), id=request.query.get("id", ""))
    return fragment('<p class="notice" role="status">{text}</p>', text=text)


def form_errors(exc: ApiError) -> dict[str, str]:
    """A refused form's problems by field; one without fields is the form's own (``_form``)."""
    errors = dict(exc.extra.get("fields", {}))
    if not errors:
        errors["_form"] = f"{exc.error}: {exc.hint}" if exc.hint else exc.error
    return errors


def csrf_input(admin_session: AdminSession) -> Html:
    return fragment(
        '<input type="hidden" name="{name}" value="{value}">',
        name=CSRF_FIELD,
        value=admin_session.csrf_token,
    )


def admin_page(
    request: web.Request,
    title: str,
    content: Html,
    *,
    admin_session: AdminSession | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An admin page: the admin nav, a sign-out button when signed in, never cached."""
    bar = Html("")
    if admin_session is not None:
        bar = fragment(
            '<div class="admin-bar"><p>Signed in as admin.</p>'
            '<form method="post" action="/admin/sign-out">{csrf}<button type="submit" '
            'class="secondary">Sign out</button></form></div>',
            csrf=csrf_input(admin_session),
        )
    response = page(
        request,
        f"Admin: {title}",
        join([bar, content]),
        status=status,
        nav=ADMIN_NAV if admin_session is not None else (("Home", "/"), ("Admin", "/admin")),
        no_store=True,
    )
    response.headers.update(headers or {})
    return response


def change_refused_page(
    request: web.Request,
    admin_session: AdminSession,
    exc: ApiError,
    *,
    field: str,
    heading: str,
    back: tuple[str, str],
) -> web.Response:
    """The page for a one-field change the validators refused: the field's problem (or the
    hint), and a link back (``back``: label, href)."""
    problem = exc.extra.get("fields", {}).get(field) or exc.hint
    content = fragment(
        '<h1>{heading}</h1><p class="field-error">{p}</p><p><a href="{href}">{label}</a></p>',
        heading=heading,
        p=problem,
        href=back[1],
        label=back[0],
    )
    return admin_page(
        request, "not changed", content, admin_session=admin_session, status=exc.status
    )


def admin_off_page(request: web.Request) -> web.Response:
    content = Html(
        "<h1>The admin area is off</h1>"
        "<p>This server has no admin token, so the admin pages and the admin API are switched off. "
        "To turn them on, set <code>TINYDESK_ADMIN_TOKEN</code> to a long random secret and "
        "restart "
        "TinyDesk, or, as a staff admin, open them from the workspace's "
        '<a href="/desk/settings">Settings</a>.</p>'
    )
    return admin_page(request, "off", content, admin_session=None, status=403)


def forbidden_page(request: web.Request, admin_session: AdminSession | None) -> web.Response:
    content = Html(
        "<h1>That form has expired</h1>"
        "<p>The form was missing its security token or it did not match your session, so nothing "
        'was changed. Go back, reload the page and try again, or <a href="/admin/sign-in">sign '
        "in</a> again.</p>"
    )
    return admin_page(request, "form expired", content, admin_session=admin_session, status=403)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a path inside /admin, never another site."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


async def signed_in_admin(request: web.Request) -> AdminSession | None:
    """The token's session, else the workspace session of a staff admin who opened the
    console (while it lasts, the account is enabled and its role is still admin)."""
    admin_session = await current_session(request)
    if admin_session is not None:
        return admin_session
    signed_in = await staff_sessions.console_session(request.app[DB], request)
    if signed_in is None or not staff_rules.allows(
        signed_in.account.role, staff_rules.Action.MANAGE
    ):
        return None
    return AdminSession(
        id=signed_in.session_hash,
        csrf_token=signed_in.csrf_token,
        staff_desk_id=signed_in.account.desk_id,
    )


def admin_only(handler: AdminHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Pages for signed-in admins; POSTs must also carry the session's CSRF token."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        admin_session = await signed_in_admin(request)
        # A staff admin's session (open_for_staff) works without the token, the break-glass.
        if not request.app[SETTINGS].admin_token and admin_session is None:
            return admin_off_page(request)
        if admin_session is None:
            if request.method == "POST":
                return forbidden_page(request, None)
            return redirect(path("admin", "sign-in", query={"next": str(request.rel_url)}))
        if request.method == "POST":
            form = await read_form(request)
            if not csrf_ok(admin_session, form.get(CSRF_FIELD)):
                return forbidden_page(request, admin_session)
        return await handler(request, admin_session)

    return guarded


# -- sign in and out -----------------------------------------------------------------------------


def sign_in_form(request: web.Request, token: str, *, error: str | None = None) -> Html:
    error_html = (
        fragment('<p class="field-error" id="token-error">{error}</p>', error=error)
        if error
        else Html("")
    )
    return fragment(
        "<h1>Admin sign in</h1>{notice}"
        '<form class="stacked" method="post" action="{action}">'
        '<input type="hidden" name="{csrf_name}" value="{csrf}">'
        '<label for="admin-token">Admin token</label>'
        '<p class="hint" id="admin-token-hint">The value of <code>TINYDESK_ADMIN_TOKEN</code> on '
        "this server.</p>"
        "{error}"
        '<input id="admin-token" name="token" type="password" required '
        'autocomplete="current-password" '
        'aria-describedby="admin-token-hint{described}"{invalid}>'
        '<button type="submit">Sign in</button></form>',
        notice=notice_from_query(request),
        action=path("admin", "sign-in", query={"next": request.query.get("next")}),
        csrf_name=CSRF_FIELD,
        csrf=token,
        error=error_html,
        described=" token-error" if error else "",
        invalid=Html(' aria-invalid="true"') if error else Html(""),
    )


def sign_in_page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    token = sign_in_token(request)
    response = admin_page(
        request,
        "sign in",
        sign_in_form(request, token, error=error),
        admin_session=None,
        status=status,
        headers=headers,
    )
    set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600)
    return response


@routes.get(SIGN_IN_PATH)
async def show_sign_in(request: web.Request) -> web.StreamResponse:
    if not request.app[SETTINGS].admin_token:
        return admin_off_page(request)
    if await signed_in_admin(request) is not None:
        return redirect(safe_next(request.query.get("next")))
    return sign_in_page(request)


@routes.post(SIGN_IN_PATH)
async def sign_in(request: web.Request) -> web.StreamResponse:
    """Check the admin token (constant time, throttled per client), then start a session."""
    expected = request.app[SETTINGS].admin_token
    if not expected:
        return admin_off_page(request)
    limiter = request.app[RATE_LIMITER]
    bucket = admin_token_failures(request)
    wait = await limiter.retry_after(bucket, ADMIN_TOKEN_FAILURES, ADMIN_TOKEN_WINDOW)
    if wait:
        return sign_in_page(
            request,
            error=f"Too many wrong tokens. Try again in {wait} seconds.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    form = await read_form(request)
    if not sign_in_csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden_page(request, None)
    token = form.get("token")
    if not isinstance(token, str) or not secrets.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        await limiter.record_failure(bucket, ADMIN_TOKEN_WINDOW)
        return sign_in_page(request, error="That is not the admin token.", status=401)
    await limiter.forget(bucket, ADMIN_TOKEN_WINDOW)
    response = redirect(safe_next(request.query.get("next")))
    await start_session(request, response)
    return response


def open_for_staff(request: web.Request, response: web.StreamResponse, staff_desk_id: str) -> None:
    """Open the console for a signed-in staff admin (the workspace's Settings), on
    ``response``: their own session, carried to /admin; logged with who opened it."""
    staff_sessions.open_console(request, response)
    log.info("admin console opened by a staff admin", extra={"staff_id": staff_desk_id})


@routes.post("/admin/sign-out")
@admin_only
async def sign_out(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    if admin_session.staff_desk_id is not None:
        # The person's own session: signing out here signs them out of the workspace too.
        await staff_sessions.end(
            request.app[DB], request.cookies.get(staff_sessions.CONSOLE_COOKIE, "")
        )
        response = redirect(staff_sessions.COOKIE_PATH + "/sign-in")
        staff_sessions.close_console(response)
        response.del_cookie(staff_sessions.COOKIE, path=staff_sessions.COOKIE_PATH)
        return response
    response = redirect(path("admin", "sign-in", query={"notice": "signed-out"}))
    await end_session(request, response)
    return response
