"""Signing staff in and out of the workspace (``/desk``): email and password, an invitation
(or reset) link that sets the password, sign-out here and everywhere, and the guard every
workspace page goes through (``staff_only``: a session, the role's permission, and on POSTs
the session's CSRF token). Failed sign-ins are throttled per client address.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.http.ratelimit import RATE_LIMITER, client_address, enforce
from bot.http.urls import request_origin
from bot.jobs.worker import notify_workers
from bot.rules import staff as rules
from bot.staff import accounts, github_sign_in, sessions
from bot.staff import mail as staff_mail
from bot.staff.sessions import SignedIn
from bot.tickets.apikeys import KeyScope, in_tenant
from bot.web.admin_auth import redirect
from bot.web.html import Html, fragment, page, path
from bot.web.sessions import set_cookie, sign_in_csrf_ok, sign_in_token

SIGN_IN_PATH = "/desk/sign-in"
SIGN_IN_COOKIE = "tinydesk_staff_sign_in"
CSRF_FIELD = "csrf_token"
FAILURES, FAILURE_WINDOW = 10, 300  # wrong passwords per address in five minutes
NAV = (
    ("Inbox", "/desk"),
    ("New ticket", "/desk/new"),
    ("Breaches", "/desk/breaches"),
    ("Settings", "/desk/settings"),
)
# Links shown only to a role that may use them (the pages check the role anyway).
NAV_NEEDS = {"/desk/new": rules.Action.WRITE_TICKETS, "/desk/settings": rules.Action.MANAGE}

StaffHandler = Callable[[web.Request, SignedIn], Awaitable[web.StreamResponse]]


def nav_for(signed_in: SignedIn | None) -> tuple[tuple[str, str], ...]:
    role = signed_in.account.role if signed_in is not None else ""
    return tuple(
        (label, href)
        for label, href in NAV
        if href not in NAV_NEEDS or rules.allows(role, NAV_NEEDS[href])
    )


def desk_page(
    request: web.Request,
    title: str,
    content: Html,
    signed_in: SignedIn | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    scripts: tuple[str, ...] = (),
) -> web.Response:
    """A workspace page; ``scripts``: the page's own static scripts, besides desk.js."""
    bar = Html("")
    if signed_in is not None:
        bar = fragment(
            '<div class="admin-bar"><p>Signed in as {name} ({role}).</p>'
            '<form method="post" action="/desk/sign-out">{csrf}'
            '<button type="submit">Sign out</button></form>'
            '<form method="post" action="/desk/sign-out-everywhere">{csrf}'
            '<button type="submit">Sign out everywhere</button></form></div>',
            name=signed_in.account.display_name,
            role=signed_in.account.role,
            csrf=csrf_input(signed_in.csrf_token),
        )
    help_box = Html("")
    if signed_in is not None:
        help_box = Html(
            '<aside id="shortcuts" class="card" hidden aria-label="Keyboard shortcuts">'
            '<h2>Keyboard shortcuts</h2><dl class="facts">'
            "<div><dt>j / k</dt><dd>next / previous ticket</dd></div>"
            "<div><dt>r</dt><dd>reply</dd></div><div><dt>n</dt><dd>internal note</dd></div>"
            "<div><dt>t</dt><dd>log time</dd></div><div><dt>a</dt><dd>assignee</dd></div>"
            "<div><dt>?</dt><dd>this list</dd></div><div><dt>Esc</dt><dd>leave a field</dd></div>"
            "</dl></aside>"
        )
    response = page(
        request,
        title,
        fragment("{bar}{c}{help}", bar=bar, c=content, help=help_box),
        nav=nav_for(signed_in),
        status=status,
        no_store=True,
        scripts=("desk.js", *scripts) if signed_in is not None else (),
    )
    response.headers.update(headers or {})
    return response


async def staff_scope(request: web.Request, signed_in: SignedIn) -> KeyScope:
    """The person as the desk's use cases know a caller: a desk key's scope rule (their
    products, within their tenant), their address as author, their display name for
    submitters, their role."""
    account = signed_in.account
    scope = KeyScope(
        key_id=-account.id,
        public_id=account.desk_id,
        name=account.email,
        is_test=False,
        product_ids=tuple(account.product_ids) or None,
        public_name=account.display_name,
        tenant_id=account.tenant_id,
        role=account.role,
    )
    return await in_tenant(request.app[DB].reader, scope)


def csrf_input(token: str) -> Html:
    return fragment('<input type="hidden" name="{n}" value="{v}">', n=CSRF_FIELD, v=token)


def safe_next(value: str | None) -> str:
    if value and value.startswith("/desk") and not value.startswith("//") and "\\" not in value:
        return value
    return "/desk"


def forbidden(request: web.Request, signed_in: SignedIn | None, why: str) -> web.Response:
    content = fragment("<h1>Not allowed</h1><p>{why}</p>", why=why)
    return desk_page(request, "not allowed", content, signed_in, status=403)


def staff_only(
    action: rules.Action = rules.Action.READ,
) -> Callable[[StaffHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A workspace page: a signed-in, enabled account whose role allows ``action`` (a POST
    also needs the session's CSRF token); else sign in, or 403 whatever the page showed."""

    def wrap(handler: StaffHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            signed_in = await sessions.current(request.app[DB], request)
            if signed_in is None:
                if request.method == "POST":
                    return forbidden(request, None, "Your session has ended; sign in again.")
                return redirect(path("desk", "sign-in", query={"next": request.path_qs}))
            if request.method == "POST":
                form = await read_form(request)
                if not sessions.csrf_ok(signed_in, form.get(CSRF_FIELD)):
                    return forbidden(
                        request, signed_in, "The form was missing its security token; reload it."
                    )
            if not rules.allows(signed_in.account.role, action):
                return forbidden(request, signed_in, f"A {signed_in.account.role} may not do this.")
            return await handler(request, signed_in)

        return guarded

    return wrap


def sign_in_form(request: web.Request, token: str, error: str | None, email: str) -> Html:
    error_html = (
        fragment('<p class="field-error" id="sign-in-error" role="alert">{e}</p>', e=error)
        if error
        else Html("")
    )
    return fragment(
        "<h1>Sign in</h1>{error}"
        '<form class="stacked" method="post" action="{action}">{csrf}'
        '<label for="email">Email</label>'
        '<input id="email" name="email" type="email" required autocomplete="username" '
        'value="{email}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" required '
        'autocomplete="current-password">'
        '<button type="submit">Sign in</button></form>'
        '<p><a href="/desk/forgot">Forgot your password?</a></p>'
        '<p><a class="button" href="/desk/sign-in/github">Sign in with GitHub</a></p>',
        error=error_html,
        action=path("desk", "sign-in", query={"next": request.query.get("next")}),
        csrf=csrf_input(token),
        email=email,
    )


def sign_in_page(
    request: web.Request,
    *,
    error: str | None = None,
    email: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    token = sign_in_token(request, SIGN_IN_COOKIE)
    response = desk_page(
        request,
        "sign in",
        sign_in_form(request, token, error, email),
        None,
        status=status,
        headers=headers,
    )
    set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600, path="/desk")
    return response


async def show_sign_in(request: web.Request) -> web.StreamResponse:
    if await sessions.current(request.app[DB], request) is not None:
        return redirect(safe_next(request.query.get("next")))
    return sign_in_page(request)


async def sign_in(request: web.Request) -> web.StreamResponse:
    limiter = request.app[RATE_LIMITER]
    bucket = f"staff-sign-in:{client_address(request)}"
    wait = await limiter.retry_after(bucket, FAILURES, FAILURE_WINDOW)
    if wait:
        return sign_in_page(
            request,
            error=f"Too many failed sign-ins. Try again in {wait} seconds.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    form = await read_form(request)
    if not sign_in_csrf_ok(request, form.get(CSRF_FIELD), SIGN_IN_COOKIE):
        return forbidden(request, None, "The form was missing its security token; reload it.")
    email, password = form.get("email", "").strip(), form.get("password", "")
    async with request.app[DB].begin() as session:
        account = await accounts.sign_in(session, email, password)
    if account is None:
        await limiter.record_failure(bucket, FAILURE_WINDOW)
        # One message for a wrong address and a wrong password: no account is revealed.
        return sign_in_page(
            request,
            error="That email and password do not match an account.",
            email=email,
            status=401,
        )
    await limiter.forget(bucket, FAILURE_WINDOW)
    response = redirect(safe_next(request.query.get("next")))
    await sessions.start(request.app[DB], account, response)
    response.del_cookie(SIGN_IN_COOKIE, path="/desk")
    return response


def invite_form(token: str, csrf: str, name: str, error: str | None) -> Html:
    return fragment(
        "<h1>Welcome, {name}</h1><p>Choose a password (at least {min} characters) to finish "
        "setting up your account.</p>{error}"
        '<form class="stacked" method="post" action="{action}">{csrf}'
        '<label for="password">New password</label>'
        '<input id="password" name="password" type="password" required minlength="{min}" '
        'autocomplete="new-password">'
        '<button type="submit">Set password</button></form>',
        name=name,
        min=rules.MIN_PASSWORD,
        error=fragment('<p class="field-error" role="alert">{e}</p>', e=error) if error else "",
        action=path("desk", "invite", token),
        csrf=csrf_input(csrf),
    )


async def show_invite(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    async with request.app[DB].session() as session:
        account = await accounts.by_link(session, token, request.app[CLOCK]())
    if account is None:
        return _link_gone(request)
    csrf = sign_in_token(request, SIGN_IN_COOKIE)
    response = desk_page(
        request, "set your password", invite_form(token, csrf, account.display_name, None), None
    )
    set_cookie(request, response, SIGN_IN_COOKIE, csrf, max_age=3600, path="/desk")
    return response


def _link_gone(request: web.Request) -> web.Response:
    content = Html(
        "<h1>This link has expired or was used</h1>"
        "<p>Each link works once, for 7 days. Ask an admin for a new one.</p>"
    )
    return desk_page(request, "link expired", content, None, status=410)


async def accept_invite(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    form = await read_form(request)
    if not sign_in_csrf_ok(request, form.get(CSRF_FIELD), SIGN_IN_COOKIE):
        return forbidden(request, None, "The form was missing its security token; reload it.")
    try:
        async with request.app[DB].begin() as session:
            account = await accounts.accept(
                session, token, form.get("password", ""), request.app[CLOCK]()
            )
    except ApiError as exc:
        if exc.status == 410:
            return _link_gone(request)
        async with request.app[DB].session() as session:
            found = await accounts.by_link(session, token, request.app[CLOCK]())
        name = found.display_name if found else ""
        csrf = sign_in_token(request, SIGN_IN_COOKIE)
        return desk_page(
            request, "set your password", invite_form(token, csrf, name, exc.hint), None, status=400
        )
    response = redirect("/desk")
    await sessions.start(request.app[DB], account, response)
    return response


FORGOT_SENT = (
    "If an account has this address, a link to choose a new password is on its way to it "
    "(it works once, for 7 days). No mail? Ask an admin for a new link."
)
FORGOT_LIMIT = 5  # requests a minute per client address


def forgot_form(token: str, notice: str | None) -> Html:
    return fragment(
        "<h1>Forgot your password?</h1>{notice}"
        '<form class="stacked" method="post" action="/desk/forgot">{csrf}'
        '<label for="email">Email</label>'
        '<input id="email" name="email" type="email" required autocomplete="username">'
        '<button type="submit">Mail me a link</button></form>',
        notice=fragment('<p class="notice" role="status">{n}</p>', n=notice) if notice else "",
        csrf=csrf_input(token),
    )


def forgot_page(request: web.Request, notice: str | None = None, status: int = 200) -> web.Response:
    token = sign_in_token(request, SIGN_IN_COOKIE)
    response = desk_page(
        request, "forgot password", forgot_form(token, notice), None, status=status
    )
    set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600, path="/desk")
    return response


async def show_forgot(request: web.Request) -> web.StreamResponse:
    return forgot_page(request)


async def forgot(request: web.Request) -> web.StreamResponse:
    """Mail a reset link to an enabled account with this address, when TinyDesk sends mail.
    The answer is the same whether or not there is one (no address is revealed)."""
    await enforce(request, f"staff-forgot:{client_address(request)}", FORGOT_LIMIT)
    form = await read_form(request)
    if not sign_in_csrf_ok(request, form.get(CSRF_FIELD), SIGN_IN_COOKIE):
        return forbidden(request, None, "The form was missing its security token; reload it.")
    email = form.get("email", "").strip()
    now = request.app[CLOCK]()
    async with request.app[DB].begin() as session:
        account = await accounts.by_email(session, email) if email else None
        if account is not None and account.disabled_at is None:
            invitation = await accounts.new_link(session, account.desk_id, now)
            base = request.app[SETTINGS].base_url(request_origin(request))
            kind = staff_mail.RESET if account.password_hash else staff_mail.INVITE
            await staff_mail.queue_link_mail(
                session, request.app[SETTINGS], account, base + invitation.path, kind
            )
    notify_workers(request.app)
    return forgot_page(request, FORGOT_SENT)


OAUTH_COOKIE = "tinydesk_staff_oauth"


def _callback_url(request: web.Request) -> str:
    return request.app[SETTINGS].base_url(request_origin(request)) + "/desk/sign-in/github/callback"


async def github_start(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if not github_sign_in.configured(settings):
        return sign_in_page(
            request,
            error="Sign-in with GitHub is not set up on this server (the GitHub App's client "
            "id and secret); sign in with your email.",
            status=503,
        )
    state = secrets.token_urlsafe(32)
    response = redirect(github_sign_in.authorize_url(settings, _callback_url(request), state))
    # Lax, not Strict: GitHub's redirect back is a navigation from another site.
    response.set_cookie(
        OAUTH_COOKIE, state, path="/desk/sign-in/github", httponly=True, samesite="Lax", max_age=600
    )
    return response


async def github_callback(request: web.Request) -> web.StreamResponse:
    expected = request.cookies.get(OAUTH_COOKIE, "")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not expected or not code or not secrets.compare_digest(state.encode(), expected.encode()):
        return forbidden(request, None, "That sign-in did not start here; try again.")
    try:
        user = await github_sign_in.user_of_code(
            request.app[SETTINGS], code, _callback_url(request)
        )
    except github_sign_in.SignInFailed as exc:
        return sign_in_page(request, error=str(exc), status=502)
    async with request.app[DB].begin() as session:
        account = await github_sign_in.account_for(session, user)
    if account is None:
        return forbidden(
            request,
            None,
            f"No staff account is linked to the GitHub user @{user.login}. Ask an admin to add "
            "your GitHub login to your account, or sign in with your email.",
        )
    # A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain that
    # started on GitHub would not carry it to /desk; a navigation from this page does.
    content = Html('<h1>Signed in</h1><p><a href="/desk">Continue to the inbox</a>.</p>')
    response = desk_page(request, "signed in", content, None)
    response.headers["Refresh"] = "0; url=/desk"
    await sessions.start(request.app[DB], account, response)
    response.del_cookie(OAUTH_COOKIE, path="/desk/sign-in/github")
    return response


@staff_only()
async def sign_out(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    await sessions.end(request.app[DB], request.cookies.get(sessions.COOKIE, ""))
    response = redirect(SIGN_IN_PATH)
    response.del_cookie(sessions.COOKIE, path=sessions.COOKIE_PATH)
    sessions.close_console(response)
    return response


@staff_only()
async def sign_out_everywhere(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    async with request.app[DB].begin() as session:
        await accounts.end_sessions(session, signed_in.account.id)
    response = redirect(SIGN_IN_PATH)
    response.del_cookie(sessions.COOKIE, path=sessions.COOKIE_PATH)
    sessions.close_console(response)
    return response


routes = [
    web.get(SIGN_IN_PATH, show_sign_in),
    web.post(SIGN_IN_PATH, sign_in),
    web.get("/desk/invite/{token}", show_invite),
    web.post("/desk/invite/{token}", accept_invite),
    web.get("/desk/sign-in/github", github_start),
    web.get("/desk/sign-in/github/callback", github_callback),
    web.get("/desk/forgot", show_forgot),
    web.post("/desk/forgot", forgot),
    web.post("/desk/sign-out", sign_out),
    web.post("/desk/sign-out-everywhere", sign_out_everywhere),
]
