"""The admin console's staff accounts page (``/admin/staff``): the people, inviting one (the
link shown once, or mailed when TinyDesk sends mail), and per person changing name, role,
products and GitHub login, a new link (lost invitation, forgotten password), disabling and
enabling again. The same use cases as ``/api/admin/staff`` (bot.staff.accounts, checked by
bot.rules.staff)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.http.urls import request_origin
from bot.jobs.worker import notify_workers
from bot.rules import staff as rules
from bot.staff import accounts
from bot.staff import mail as staff_mail
from bot.web.admin_auth import admin_only, admin_page, csrf_input, form_errors, redirect
from bot.web.html import (
    Html,
    cells,
    field_error,
    fragment,
    join,
    path,
    table,
    time_element,
)
from bot.web.sessions import AdminSession
from storage.models import StaffAccount
from storage.repos.products import ProductRepo

NOTICES = {
    "saved": "Account {id} saved.",
    "disabled": "Account {id} disabled: its sessions ended and its keys stopped.",
    "enabled": "Account {id} enabled again: its password and keys work again.",
}
ROLE_WORDS = {
    "admin": "admin (everything, settings included)",
    "agent": "agent (tickets, comments, time, templates)",
    "viewer": "viewer (reads only)",
}


def _notice(request: web.Request) -> Html:
    template = NOTICES.get(request.query.get("notice", ""))
    if template is None:
        return Html("")
    text = template.format(id=request.query.get("id", ""))
    return fragment('<p class="notice" role="status">{t}</p>', t=text)


def _account_path(account: StaffAccount, *rest: str, **query: str) -> str:
    return path("admin", "staff", account.desk_id, *rest, query=query or None)


def _product_names(account: StaffAccount, slugs: Mapping[int, str]) -> str:
    names = [slugs.get(p, f"(removed product {p})") for p in account.product_ids]
    return ", ".join(names) or "all products"


def _state(account: StaffAccount) -> Html:
    if account.disabled_at is not None:
        return fragment(
            '<span class="badge warn">Disabled</span> {t}', t=time_element(account.disabled_at)
        )
    if account.password_hash is None:
        return Html('<span class="badge">Invited</span>')
    return Html('<span class="badge ok">Active</span>')


def _general(errors: dict[str, str]) -> Html:
    if "_form" not in errors:
        return Html("")
    return fragment('<p class="field-error" role="alert">{e}</p>', e=errors["_form"])


def _described(errors: dict[str, str], name: str) -> Html:
    if name not in errors:
        return Html("")
    return fragment(' aria-describedby="{n}-error" aria-invalid="true"', n=name)


def _role_select(chosen: str, errors: dict[str, str]) -> Html:
    return fragment(
        '<div class="field"><label for="role">Role</label>{error}'
        '<select id="role" name="role"{d}>{options}</select></div>',
        error=field_error(errors, "role"),
        d=_described(errors, "role"),
        options=join(
            fragment(
                '<option value="{v}"{sel}>{w}</option>',
                v=role.value,
                w=ROLE_WORDS[role.value],
                sel=Html(" selected") if role.value == chosen else Html(""),
            )
            for role in rules.Role
        ),
    )


def _product_boxes(slugs: Sequence[str], chosen: Sequence[str], errors: dict[str, str]) -> Html:
    boxes = join(
        fragment(
            '<div class="checkbox"><input id="product-{slug}" name="products" type="checkbox" '
            'value="{slug}"{checked}><label for="product-{slug}">{slug}</label></div>',
            slug=slug,
            checked=Html(" checked") if slug in chosen else Html(""),
        )
        for slug in slugs
    )
    return fragment(
        '<fieldset class="field"><legend>Products</legend>'
        '<p class="hint">Tick none for a person who works on every product.</p>{error}{boxes}'
        "</fieldset>",
        error=field_error(errors, "products"),
        boxes=boxes if slugs else Html('<p class="empty">No products yet.</p>'),
    )


def _text(name: str, label: str, value: str, errors: dict[str, str], extra: str = "") -> Html:
    return fragment(
        '<div class="field"><label for="{n}">{label}</label>{error}'
        '<input id="{n}" name="{n}" type="text" value="{v}"{extra}{d}></div>',
        n=name,
        label=label,
        error=field_error(errors, name),
        v=value,
        extra=Html(extra),
        d=_described(errors, name),
    )


def account_fields(values: Mapping[str, Any], slugs: Sequence[str], errors: dict[str, str]) -> Html:
    """Name, role, products and GitHub login: the invitation's fields and a change's."""
    return join(
        [
            _text(
                "name",
                "Name (what submitters see on the person's public comments)",
                values.get("name", ""),
                errors,
                f' required maxlength="{rules.MAX_DISPLAY_NAME}"',
            ),
            _role_select(values.get("role") or rules.Role.AGENT.value, errors),
            _product_boxes(slugs, values.get("products", ()), errors),
            _text(
                "github",
                "GitHub login (optional, for sign-in with GitHub)",
                values.get("github", ""),
                errors,
                ' autocomplete="off"',
            ),
        ]
    )


def link_notice(request: web.Request, invitation: accounts.Invitation, mailed: bool) -> Html:
    """The link, shown once here (it is stored only as a hash)."""
    return fragment(
        '<section class="card new-key" role="status" aria-labelledby="link-heading">'
        '<h2 id="link-heading">Link for {email}</h2><p>{how} It works once, for {days} days.</p>'
        '<p><label for="staff-link">The link</label>'
        '<input id="staff-link" class="secret" type="text" value="{link}" readonly '
        'autocomplete="off" spellcheck="false"></p></section>',
        email=invitation.account.email,
        how="It is on its way to their mailbox; you may also give it to them."
        if mailed
        else "Give it to them: TinyDesk sends no mail, and shows it only this once.",
        days=rules.INVITE_DAYS,
        link=link_of(request, invitation),
    )


def link_of(request: web.Request, invitation: accounts.Invitation) -> str:
    return request.app[SETTINGS].base_url(request_origin(request)) + invitation.path


async def _slugs(session: AsyncSession) -> dict[int, str]:
    return {p.id: p.slug for p in await ProductRepo(session).all()}


async def staff_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    created: Html | None = None,
    values: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    errors = errors or {}
    values = values or {}
    async with request.app[DB].session() as session:
        people = await accounts.all_accounts(session)
        slugs = await _slugs(session)
    rows = [
        cells(
            fragment('<a href="{href}">{name}</a>', href=_account_path(a), name=a.display_name),
            a.email,
            a.role,
            _product_names(a, slugs),
            a.github_login or "—",
            _state(a),
        )
        for a in people
    ]
    content = fragment(
        "<h1>Staff accounts</h1>{notice}{created}"
        "<p>The people who work in the workspace (<code>/desk</code>). An admin may do "
        "everything, settings included; an agent works on tickets, comments, time and "
        "templates; a viewer only reads.</p>{table}"
        '<section class="card" aria-labelledby="invite-heading">'
        '<h2 id="invite-heading">Invite a person</h2>'
        '<form class="stacked" method="post" action="/admin/staff" novalidate>{csrf}{general}'
        '<div class="field"><label for="email">Email</label>{email_error}'
        '<input id="email" name="email" type="email" value="{email}" required '
        'autocomplete="off"{email_d}></div>{fields}'
        '<button type="submit">Invite</button></form></section>',
        notice=_notice(request),
        created=created or Html(""),
        table=table(
            ["Name", "Email", "Role", "Products", "GitHub", "State"],
            rows,
            caption="Staff accounts, by email",
            empty="No staff accounts yet.",
        ),
        csrf=csrf_input(admin_session),
        general=_general(errors),
        email_error=field_error(errors, "email"),
        email=values.get("email", ""),
        email_d=_described(errors, "email"),
        fields=account_fields(values, sorted(slugs.values()), errors),
    )
    return admin_page(
        request, "staff accounts", content, admin_session=admin_session, status=status
    )


def _form_fields(form: Mapping[str, str], products: list[str]) -> dict[str, Any]:
    return {
        "email": form.get("email", ""),
        "name": form.get("name", ""),
        "role": form.get("role", ""),
        "products": products,
        "github": form.get("github", "").strip(),
    }


@admin_only
async def list_staff(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await staff_page(request, admin_session)


@admin_only
async def invite(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """Invite a person and show their link once, in this response (never in a URL)."""
    form = await read_form(request)
    values = _form_fields(form, [str(p) for p in form.getall("products", [])])
    data = {**values, "github": values["github"] or None}
    try:
        fields = rules.validate_invite(data)
        async with request.app[DB].begin() as session:
            invitation = await accounts.invite(session, fields, request.app[CLOCK]())
            mailed = await staff_mail.queue_link_mail(
                session,
                request.app[SETTINGS],
                invitation.account,
                link_of(request, invitation),
                staff_mail.INVITE,
            )
    except ApiError as exc:
        return await staff_page(
            request, admin_session, values=values, errors=form_errors(exc), status=exc.status
        )
    notify_workers(request.app)
    return await staff_page(
        request, admin_session, created=link_notice(request, invitation, mailed), status=201
    )


async def account_page(
    request: web.Request,
    admin_session: AdminSession,
    desk_id: str,
    *,
    created: Html | None = None,
    values: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    errors = errors or {}
    async with request.app[DB].session() as session:
        try:
            account = await accounts.find(session, desk_id, disabled_too=True)
        except ApiError as exc:
            content = fragment("<h1>No staff account {id}</h1><p>{h}</p>", id=desk_id, h=exc.hint)
            return admin_page(
                request, "not found", content, admin_session=admin_session, status=404
            )
        slugs = await _slugs(session)
    csrf = csrf_input(admin_session)
    facts = [
        ("Email", account.email),
        ("Role", account.role),
        ("Products", _product_names(account, slugs)),
        ("Password set", "yes" if account.password_hash else "no"),
        ("Created", time_element(account.created_at)),
        ("State", _state(account)),
    ]
    if account.disabled_at is not None:
        actions = fragment(
            '<section class="card" aria-labelledby="enable-heading">'
            '<h2 id="enable-heading">Enable again</h2><p>The person may sign in again with '
            "their password, and their keys work again.</p>"
            '<form method="post" action="{action}">{csrf}'
            '<button type="submit">Enable account</button></form></section>',
            action=_account_path(account, "enable"),
            csrf=csrf,
        )
    else:
        current = values or {
            "name": account.display_name,
            "role": account.role,
            "products": [slugs[p] for p in account.product_ids if p in slugs],
            "github": account.github_login or "",
        }
        actions = fragment(
            '<section class="card" aria-labelledby="change-heading">'
            '<h2 id="change-heading">Change</h2>'
            '<form class="stacked" method="post" action="{change}" novalidate>{csrf}'
            '{fields}<button type="submit">Save</button></form></section>'
            '<section class="card" aria-labelledby="link-action-heading">'
            '<h2 id="link-action-heading">New link</h2><p>For a lost invitation or a forgotten '
            "password; the old link stops working.</p>"
            '<form method="post" action="{link}">{csrf}'
            '<button type="submit">Make a new link</button></form></section>'
            '<section class="card" aria-labelledby="disable-heading">'
            '<h2 id="disable-heading">Disable</h2><p>Ends the person\'s sessions and stops '
            "their keys; the account stays listed and may be enabled again.</p>"
            '<form method="post" action="{disable}">{csrf}'
            '<button type="submit" class="danger">Disable account</button></form></section>',
            change=_account_path(account),
            csrf=csrf,
            fields=account_fields(current, sorted(slugs.values()), errors),
            link=_account_path(account, "link"),
            disable=_account_path(account, "disable"),
        )
    content = fragment(
        '<h1>{name}</h1>{notice}{general}{created}<dl class="facts">{facts}</dl>{actions}'
        '<p><a href="/admin/staff">All staff accounts</a></p>',
        name=account.display_name,
        notice=_notice(request),
        general=_general(errors),
        created=created or Html(""),
        facts=join(fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in facts),
        actions=actions,
    )
    return admin_page(
        request, account.display_name, content, admin_session=admin_session, status=status
    )


async def _refused(
    request: web.Request, admin_session: AdminSession, desk_id: str, exc: ApiError
) -> web.Response:
    """The account's page again with why nothing changed (a disabled account is changed
    only by enabling it)."""
    errors = {"_form": f"{exc.error}: {exc.hint}" if exc.hint else exc.error}
    return await account_page(request, admin_session, desk_id, errors=errors, status=exc.status)


@admin_only
async def show_account(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await account_page(request, admin_session, request.match_info["id"])


@admin_only
async def change_account(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """Save name, role, products and GitHub login; the GitHub login only when it changed (a
    new login unlinks the GitHub user, so an unchanged one is not sent)."""
    desk_id = request.match_info["id"]
    form = await read_form(request)
    values = _form_fields(form, [str(p) for p in form.getall("products", [])])
    data: dict[str, Any] = {k: values[k] for k in ("name", "role", "products")}
    try:
        async with request.app[DB].begin() as session:
            account = await accounts.find(session, desk_id)
            if values["github"] != (account.github_login or ""):
                data["github"] = values["github"] or None
            changes = rules.validate_change(data)
            await accounts.change(session, desk_id, changes, request.app[CLOCK]())
    except ApiError as exc:
        if exc.status == 404:
            return await _refused(request, admin_session, desk_id, exc)
        return await account_page(
            request,
            admin_session,
            desk_id,
            values=values,
            errors=form_errors(exc),
            status=exc.status,
        )
    return redirect(path("admin", "staff", desk_id, query={"notice": "saved", "id": desk_id}))


@admin_only
async def new_link(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    desk_id = request.match_info["id"]
    try:
        async with request.app[DB].begin() as session:
            invitation = await accounts.new_link(session, desk_id, request.app[CLOCK]())
            kind = staff_mail.RESET if invitation.account.password_hash else staff_mail.INVITE
            mailed = await staff_mail.queue_link_mail(
                session,
                request.app[SETTINGS],
                invitation.account,
                link_of(request, invitation),
                kind,
            )
    except ApiError as exc:
        return await _refused(request, admin_session, desk_id, exc)
    notify_workers(request.app)
    return await account_page(
        request, admin_session, desk_id, created=link_notice(request, invitation, mailed)
    )


@admin_only
async def disable(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    desk_id = request.match_info["id"]
    try:
        async with request.app[DB].begin() as session:
            await accounts.disable(session, desk_id, request.app[CLOCK]())
    except ApiError as exc:
        return await _refused(request, admin_session, desk_id, exc)
    return redirect(path("admin", "staff", desk_id, query={"notice": "disabled", "id": desk_id}))


@admin_only
async def enable(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    desk_id = request.match_info["id"]
    try:
        async with request.app[DB].begin() as session:
            await accounts.enable(session, desk_id)
    except ApiError as exc:
        return await _refused(request, admin_session, desk_id, exc)
    return redirect(path("admin", "staff", desk_id, query={"notice": "enabled", "id": desk_id}))


routes = [
    web.get("/admin/staff", list_staff),
    web.post("/admin/staff", invite),
    web.get("/admin/staff/{id}", show_account),
    web.post("/admin/staff/{id}", change_account),
    web.post("/admin/staff/{id}/link", new_link),
    web.post("/admin/staff/{id}/disable", disable),
    web.post("/admin/staff/{id}/enable", enable),
]
