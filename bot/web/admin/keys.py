"""The admin API keys page: the list, creating a key (shown once), revoking one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.appkeys import DB
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules.public_names import DEFAULT_PUBLIC_AUTHOR
from bot.tickets.apikeys import (
    create_key,
    revoke_key,
    update_key,
    validate_key_request,
    validate_key_update,
)
from bot.web.admin_auth import (
    admin_only,
    admin_page,
    change_refused_page,
    csrf_input,
    form_errors,
    notice_from_query,
    redirect,
)
from bot.web.html import (
    Html,
    cells,
    field_attributes,
    field_error,
    fragment,
    join,
    path,
    table,
    time_element,
)
from bot.web.sessions import AdminSession
from storage.models import ApiKey
from storage.reads.admin_queries import AdminQueries
from storage.repos.products import ProductRepo


def key_row(key: ApiKey, products: dict[int, str], admin_session: AdminSession) -> Html:
    public_name: object = key.public_name or fragment(
        '<span class="muted">{d}</span>', d=DEFAULT_PUBLIC_AUTHOR
    )
    if key.revoked_at is not None:
        state: object = fragment("Revoked {t}", t=time_element(key.revoked_at))
        action: object = "—"
    else:
        public_name = fragment(
            '<form class="inline" method="post" action="{action}">{csrf}'
            '<label class="visually-hidden" for="public-{id}">Public name of {name}</label>'
            '<input id="public-{id}" name="publicName" type="text" value="{value}" '
            'placeholder="{default}" maxlength="100"> <button type="submit">Set</button></form>',
            action=path("admin", "api-keys", key.public_id, "public-name"),
            csrf=csrf_input(admin_session),
            id=key.public_id,
            name=key.name,
            value=key.public_name or "",
            default=DEFAULT_PUBLIC_AUTHOR,
        )
        state = Html('<span class="badge ok">Active</span>')
        action = fragment(
            '<form method="post" action="{action}">{csrf}'
            '<button type="submit" class="danger">Revoke<span class="visually-hidden"> key '
            "{name} ({id})</span></button></form>",
            action=path("admin", "api-keys", key.public_id, "revoke"),
            csrf=csrf_input(admin_session),
            name=key.name,
            id=key.public_id,
        )
    return cells(
        key.name,
        public_name,
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
    admin_session: AdminSession,
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
        '<div class="field"><label for="publicName">Public name (optional)</label>'
        '<p class="hint" id="publicName-hint">What submitters see on this key\'s public '
        "comments, e.g. Dana from Support; without it they see “{default}”. Never an email "
        "address.</p>{public_error}"
        '<input id="publicName" name="publicName" type="text" value="{public_name}" '
        'maxlength="100"{public_attrs}></div>'
        '<fieldset class="field"><legend>Products</legend>'
        '<p class="hint">Tick none for a key that sees every product.</p>{boxes}</fieldset>'
        '<div class="field checkbox"><input id="test" name="test" type="checkbox" value="on"'
        '{test} aria-describedby="test-hint"><label for="test">Test mode</label>'
        '<p class="hint" id="test-hint">A td_test_ key: its tickets never reach GitHub.</p></div>'
        '<button type="submit">Create key</button></form></section>',
        csrf=csrf_input(admin_session),
        general=general,
        name_error=field_error(errors, "name"),
        name=values.get("name", ""),
        name_attrs=field_attributes(errors, "name"),
        default=DEFAULT_PUBLIC_AUTHOR,
        public_error=field_error(errors, "publicName"),
        public_name=values.get("publicName", ""),
        public_attrs=field_attributes(errors, "publicName"),
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
    admin_session: AdminSession,
    *,
    created: Html | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        keys = await AdminQueries(session).api_keys()
        products = {p.id: p.slug for p in await ProductRepo(session).all()}
    content = fragment(
        "<h1>API keys</h1>{notice}{created}"
        "<p>Desk API keys let a help desk create and manage tickets "
        "(<code>Authorization: Bearer td_live_…</code>). Only the first characters of a key "
        "are kept for this list.</p>{table}{form}",
        notice=notice_from_query(request),
        created=created or Html(""),
        table=table(
            [
                "Name",
                "Public name",
                "Key and id",
                "Mode",
                "Products",
                "Created",
                "Last used",
                "State",
                "Actions",
            ],
            [key_row(key, products, admin_session) for key in keys],
            caption="Desk API keys, newest first",
            empty="No API keys yet.",
        ),
        form=key_form(admin_session, products, values or {}, errors or {}),
    )
    return admin_page(request, "API keys", content, admin_session=admin_session, status=status)


@admin_only
async def list_api_keys(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await api_keys_page(request, admin_session)


@admin_only
async def add_api_key(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """Create a key and show it once, in this response (never in a URL or a redirect)."""
    form = await read_form(request)
    values = {
        "name": str(form.get("name", "")),
        "publicName": str(form.get("publicName", "")),
        "products": [str(v) for v in form.getall("products", [])],
        "test": form.get("test") == "on",
    }
    try:
        key_request = validate_key_request(values)
        async with request.app[DB].begin() as session:
            created = await create_key(session, key_request)
    except ApiError as exc:
        errors = form_errors(exc)
        return await api_keys_page(
            request, admin_session, values=values, errors=errors, status=exc.status
        )
    return await api_keys_page(
        request,
        admin_session,
        created=created_key_notice(created.secret, created.api_key),
        status=201,
    )


@admin_only
async def revoke_api_key(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    key_id = request.match_info["id"]
    try:
        async with request.app[DB].begin() as session:
            await revoke_key(session, key_id)
    except ApiError as exc:
        content = fragment("<h1>No API key {id}</h1><p>{hint}</p>", id=key_id, hint=exc.hint)
        return admin_page(
            request, "not found", content, admin_session=admin_session, status=exc.status
        )
    return redirect(path("admin", "api-keys", query={"notice": "key-revoked", "id": key_id}))


@admin_only
async def set_public_name(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """The name submitters see on the key's future public comments (blank: the default)."""
    key_id = request.match_info["id"]
    form = await read_form(request)
    try:
        changes = validate_key_update({"publicName": str(form.get("publicName", ""))})
        async with request.app[DB].begin() as session:
            await update_key(session, key_id, changes)
    except ApiError as exc:
        return change_refused_page(
            request,
            admin_session,
            exc,
            field="publicName",
            heading="Public name not changed",
            back=("Back to the API keys", "/admin/api-keys"),
        )
    return redirect(path("admin", "api-keys", query={"notice": "key-public-name", "id": key_id}))
