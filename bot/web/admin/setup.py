"""``/admin/setup``: register the GitHub App through GitHub's manifest flow, as Probot does.

1. ``GET /admin/setup`` (signed in): the App's status when one is configured, else a form:
   a personal account or an organization, an optional GitHub Enterprise Server address.
2. ``POST /admin/setup``: a page whose form POSTs the manifest (``bot.github.manifest``) to
   GitHub's new-App page with a random ``state``, kept server-side (its SHA-256) for ten
   minutes, good once. The page submits itself; its button does the same without JavaScript.
3. ``GET /admin/setup/callback?code=&state=``: GitHub sends the browser back here. The
   ``state`` is the authority, not the admin cookie: that cookie is SameSite=Strict, so a
   browser never sends it on GitHub's cross-site redirect. The code is exchanged
   (``POST /app-manifests/{code}/conversions``), the credentials stored encrypted
   (``bot.github.stored_app``), and ``APP_REGISTERED`` is set: ``tinydesk serve`` then restarts
   its application with the App, no manual restart. The page links to the installation page.

``tinydesk setup`` (``bot.cli.setup``) serves the same pages from a temporary local listener.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.config import ConfigError, Settings
from bot.github.manifest import CALLBACK_PATH as MANIFEST_CALLBACK_PATH
from bot.github.manifest import (
    LOGIN,
    MAX_APP_NAME,
    ConversionFailed,
    build_manifest,
    convert,
    load_app_yml,
    new_app_url,
    server_url_problem,
    server_urls,
    web_url_for,
)
from bot.github.stored_app import RegisteredApp, registered_app, store_conversion
from bot.http.bodies import read_form
from bot.http.middleware import CONTENT_SECURITY_POLICY
from bot.http.urls import request_origin
from bot.web.admin_auth import admin_off_page, admin_only, admin_page, csrf_input
from bot.web.html import Html, field_attributes, field_error, fragment, static_url
from bot.web.sessions import AdminSession
from storage.models import AppSetupState
from storage.repos.github_app import GitHubAppRepo

log = logging.getLogger(__name__)

SETUP_PATH = "/admin/setup"
CALLBACK_PATH = MANIFEST_CALLBACK_PATH
STATE_LIFETIME_SECONDS = 600.0
# Set once a registration stored its App: ``tinydesk serve`` restarts the application with it.
APP_REGISTERED = web.AppKey("app_registered", asyncio.Event)


@dataclass(frozen=True)
class Choice:
    """What the admin chose on the form."""

    organization: str | None
    server_url: str | None  # a GitHub Enterprise Server address; None: the configured GitHub
    name: str


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def github_urls(settings: Settings, choice: Choice) -> tuple[str, str]:
    """``(web, api)`` of the GitHub the App is registered on."""
    if choice.server_url:
        return server_urls(choice.server_url)
    return web_url_for(settings.github_api_url), settings.github_api_url


# -- the form ------------------------------------------------------------------------------


def parse_choice(form: Mapping[str, str], default_name: str) -> tuple[Choice, dict[str, str]]:
    errors: dict[str, str] = {}
    account = form.get("account", "personal")
    organization = (form.get("organization") or "").strip() or None
    if account == "organization":
        if organization is None:
            errors["organization"] = "Enter the organization's login, as in its GitHub URL."
        elif not LOGIN.fullmatch(organization):
            errors["organization"] = (
                "A GitHub login has letters, digits and single hyphens, at most 39 characters."
            )
    elif account == "personal":
        organization = None
    else:
        errors["account"] = "Choose your personal account or an organization."
    server_url = (form.get("githubUrl") or "").strip() or None
    if server_url is not None and (problem := server_url_problem(server_url)):
        errors["githubUrl"] = problem
    name = (form.get("name") or "").strip() or default_name
    if len(name) > MAX_APP_NAME:
        errors["name"] = f"GitHub allows at most {MAX_APP_NAME} characters."
    return Choice(organization, server_url, name), errors


def setup_form(
    action: str,
    csrf: Html,
    values: Mapping[str, str],
    errors: dict[str, str],
    *,
    public_url: str,
    github_web: str,
) -> Html:
    organization = values.get("account") == "organization"

    def text_field(name: str, label: str, hint: str, placeholder: str = "") -> Html:
        return fragment(
            '<div class="field"><label for="{name}">{label}</label>'
            '<p class="hint" id="{name}-hint">{hint}</p>{error}'
            '<input id="{name}" name="{name}" type="text" value="{value}" '
            'placeholder="{placeholder}"{attrs}></div>',
            name=name,
            label=label,
            hint=hint,
            error=field_error(errors, name),
            value=values.get(name, ""),
            placeholder=placeholder,
            attrs=field_attributes(errors, name),
        )

    return fragment(
        '<form class="stacked" method="post" action="{action}" novalidate>{csrf}'
        '<fieldset class="field"><legend>Owner of the App</legend>{account_error}'
        '<div class="checkbox"><input type="radio" id="account-personal" name="account" '
        'value="personal"{personal}><label for="account-personal">My personal account</label>'
        "</div>"
        '<div class="checkbox"><input type="radio" id="account-organization" name="account" '
        'value="organization"{org}><label for="account-organization">An organization</label>'
        "</div></fieldset>"
        "{organization}{name}{server}"
        '<p class="hint">GitHub will send webhooks to <code>{webhook}</code> and the browser '
        "back to this server. Registering happens on <code>{github}</code>; you choose the "
        "App's name there too.</p>"
        '<button type="submit">Register on GitHub</button></form>',
        action=action,
        csrf=csrf,
        account_error=field_error(errors, "account"),
        personal=Html("") if organization else Html(" checked"),
        org=Html(" checked") if organization else Html(""),
        organization=text_field(
            "organization",
            "Organization login (for an organization)",
            "As in https://github.com/LOGIN; you must be one of its owners.",
        ),
        name=text_field("name", "App name", "Unique on GitHub; you can change it there."),
        server=text_field(
            "githubUrl",
            "GitHub Enterprise Server (optional)",
            "Its address, e.g. https://ghe.example.com; leave empty for " + github_web + ".",
        ),
        webhook=public_url + "/webhooks/github",
        github=github_web,
    )


def public_url_warning(settings: Settings, public_url: str) -> Html:
    if settings.public_url:
        return Html("")
    return fragment(
        '<p class="notice" role="status"><code>TINYDESK_PUBLIC_URL</code> is not set, so the '
        "App's webhook URL will be <code>{url}/webhooks/github</code>, taken from this "
        "request. GitHub must be able to reach it: set <code>TINYDESK_PUBLIC_URL</code> first "
        "if it cannot.</p>",
        url=public_url,
    )


# -- step 2: the page that POSTs the manifest to GitHub ------------------------------------


async def registration_page(
    request: web.Request,
    choice: Choice,
    *,
    public_url: str,
    redirect_base: str,
    admin_session: AdminSession | None,
) -> web.Response:
    """Remember a new ``state``, then the page whose form takes the manifest to GitHub."""
    settings, db = request.app[SETTINGS], request.app[DB]
    web_url, api_url = github_urls(settings, choice)
    state = secrets.token_urlsafe(32)
    now = time.time()
    async with db.begin() as session:
        await GitHubAppRepo(session).add_state(
            AppSetupState(
                id=state_hash(state),
                api_url=api_url,
                web_url=web_url,
                expires_at=now + STATE_LIFETIME_SECONDS,
            ),
            now=now,
        )
    manifest = build_manifest(public_url, redirect_base=redirect_base, name=choice.name)
    target = new_app_url(web_url, choice.organization, state)
    content = fragment(
        "<h1>Register on GitHub</h1>"
        "<p>Taking you to GitHub to create the App <strong>{name}</strong>{owner}. If nothing "
        "happens, press the button.</p>"
        '<form id="manifest-form" method="post" action="{target}">'
        '<input type="hidden" name="manifest" value="{manifest}">'
        '<button type="submit">Continue on GitHub</button></form>'
        '<script src="{script}" defer></script>',
        name=choice.name,
        owner=fragment(" for the organization <code>{o}</code>", o=choice.organization)
        if choice.organization
        else "",
        target=target,
        manifest=orjson.dumps(manifest).decode(),
        script=static_url("setup.js"),
    )
    # The one page whose form leaves this site: to GitHub's new-App page.
    policy = CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {web_url}")
    return admin_page(
        request,
        "register on GitHub",
        content,
        admin_session=admin_session,
        headers={"Content-Security-Policy": policy},
    )


# -- step 3: GitHub's redirect back ---------------------------------------------------------


def problem_page(
    request: web.Request, heading: str, text: str, *, status: int, again: str = SETUP_PATH
) -> web.Response:
    content = fragment(
        '<h1>{heading}</h1><p class="field-error">{text}</p>'
        '<p><a href="{again}">Start the registration again</a></p>',
        heading=heading,
        text=text,
        again=again,
    )
    return admin_page(request, "registration failed", content, admin_session=None, status=status)


async def finish_registration(
    request: web.Request, *, again: str = SETUP_PATH
) -> tuple[web.Response, RegisteredApp | None]:
    """Check the state, exchange the code, store the App: the page, and the App if stored."""
    code, state = request.query.get("code", ""), request.query.get("state", "")
    if not state or len(state) > 200:
        return problem_page(
            request,
            "Registration not recognised",
            "GitHub's answer came without the state this server sent, so it was ignored.",
            status=400,
            again=again,
        ), None
    db = request.app[DB]
    async with db.begin() as session:
        taken = await GitHubAppRepo(session).take_state(state_hash(state), now=time.time())
    if taken is None:
        return problem_page(
            request,
            "Registration not recognised",
            "This answer does not match a registration started here in the last ten minutes "
            "(each works once). Nothing was stored.",
            status=400,
            again=again,
        ), None
    if not code or len(code) > 200:
        return problem_page(
            request,
            "No code from GitHub",
            "GitHub sent the browser back without a code; the App may not have been created.",
            status=400,
            again=again,
        ), None
    try:
        answer = await convert(taken.api_url, code)
        app = await store_conversion(
            db, request.app[SETTINGS], answer, api_url=taken.api_url, web_url=taken.web_url
        )
    except ConversionFailed as failed:
        log.warning("GitHub App registration failed: %s", failed.message)
        heading = (
            "GitHub could not be reached" if failed.status >= 500 else "GitHub refused the code"
        )
        page = problem_page(request, heading, failed.message, status=failed.status, again=again)
        return page, None
    except ConfigError as exc:
        return problem_page(
            request, "Not stored", "; ".join(exc.problems), status=409, again=again
        ), None
    log.info("GitHub App %s (id %s) registered on %s", app.slug, app.app_id, taken.web_url)
    return registered_page(request, app), app


def registered_page(request: web.Request, app: RegisteredApp) -> web.Response:
    content = fragment(
        "<h1>GitHub App registered</h1>"
        '<p class="notice" role="status">GitHub created <strong>{name}</strong> (App id '
        "<code>{id}</code>); its credentials are stored encrypted in TinyDesk's database, "
        "and TinyDesk uses it from now on.</p>"
        '<p><a href="{html_url}">{name} on GitHub</a></p>'
        "<h2>Next: install it</h2><p>Install the App on the repositories of your products; "
        "TinyDesk hears of it from GitHub and starts opening issues.</p>"
        '<p><a class="button" id="install-link" href="{install}">Install {name} on GitHub</a></p>',
        name=app.name,
        id=app.app_id,
        html_url=app.html_url,
        install=app.install_url,
    )
    return admin_page(request, "App registered", content, admin_session=None)


# -- the admin pages ------------------------------------------------------------------------


def default_app_name() -> str:
    return str(load_app_yml().get("name") or "TinyDesk")


async def form_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    settings = request.app[SETTINGS]
    public_url = settings.base_url(request_origin(request))
    content = fragment(
        "<h1>GitHub App</h1>"
        "<p>No GitHub App is configured yet, so tickets wait at RECEIVED. Register one on "
        "GitHub from TinyDesk's manifest (<code>app.yml</code>): its permissions, events and "
        "webhook are filled in for you, and its credentials come back here.</p>{warning}{form}",
        warning=public_url_warning(settings, public_url),
        form=setup_form(
            SETUP_PATH,
            csrf_input(admin_session),
            values or {"name": default_app_name()},
            errors or {},
            public_url=public_url,
            github_web=web_url_for(settings.github_api_url),
        ),
    )
    return admin_page(request, "GitHub App", content, admin_session=admin_session, status=status)


def status_page(
    request: web.Request, admin_session: AdminSession, stored: RegisteredApp | None
) -> web.Response:
    settings = request.app[SETTINGS]
    from_db = stored is not None and str(stored.app_id) == settings.github_app_id
    where = (
        "registered from TinyDesk; its credentials are stored encrypted in the database"
        if from_db
        else "configured by the environment (GITHUB_APP_ID and the private key)"
    )
    links = Html("")
    if from_db and stored is not None:
        links = fragment(
            '<p><a href="{html}">{name} on GitHub</a> · '
            '<a href="{install}">Install it on more repositories</a></p>',
            html=stored.html_url,
            name=stored.name,
            install=stored.install_url,
        )
    content = fragment(
        "<h1>GitHub App</h1>"
        '<p><span class="badge ok">Configured</span> App id <code>{id}</code>{slug}, on '
        "<code>{api}</code>: {where}.</p>{links}"
        '<p class="hint">Environment variables (GITHUB_APP_ID, GITHUB_PRIVATE_KEY, '
        "GITHUB_WEBHOOK_SECRET, GITHUB_API_URL) override what was stored, each on its own.</p>",
        id=settings.github_app_id,
        slug=fragment(" (<code>{s}</code>)", s=stored.slug) if from_db and stored else "",
        api=settings.github_api_url,
        where=where,
        links=links,
    )
    return admin_page(request, "GitHub App", content, admin_session=admin_session)


@admin_only
async def show_setup(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if settings.github_app_configured:
        return status_page(request, admin_session, await registered_app(request.app[DB]))
    return await form_page(request, admin_session)


@admin_only
async def start_setup(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    form = await read_form(request)
    values = {k: form.get(k, "") for k in ("account", "organization", "githubUrl", "name")}
    if settings.github_app_configured:
        return status_page(request, admin_session, await registered_app(request.app[DB]))
    choice, errors = parse_choice(values, default_app_name())
    if errors:
        return await form_page(request, admin_session, values=values, errors=errors, status=400)
    public_url = settings.base_url(request_origin(request))
    return await registration_page(
        request,
        choice,
        public_url=public_url,
        redirect_base=public_url,
        admin_session=admin_session,
    )


async def setup_callback(request: web.Request) -> web.StreamResponse:
    """GitHub's redirect: authorised by the single-use ``state``, not the session cookie."""
    if not request.app[SETTINGS].admin_token:
        return admin_off_page(request)
    response, app = await finish_registration(request)
    if app is not None and APP_REGISTERED in request.app:
        request.app[APP_REGISTERED].set()
    return response
