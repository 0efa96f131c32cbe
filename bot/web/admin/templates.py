"""The admin ticket templates pages (seed 003): the list with a form for a new one, editing
one, removing one. The same rules as the admin API (``bot.tickets.templates``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.appkeys import DB
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules.desk_input import PRIORITIES, TICKET_TYPES
from bot.rules.templates import FILLED, validate_template, validate_template_changes
from bot.tickets import templates
from bot.web.admin_auth import (
    admin_only,
    admin_page,
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
from storage.models import Product, TicketTemplate
from storage.repos.products import ProductRepo
from storage.repos.templates import TemplateRepo

# The form's fields, in order: the template's name, then what it fills (bot.rules.templates).
FORM_FIELDS = ("name", *FILLED)
assert set(FORM_FIELDS) - {"name"} == set(FILLED)


def template_row(template: TicketTemplate) -> Html:
    actions = fragment(
        '<a href="{edit}">Edit<span class="visually-hidden"> {name}</span></a> · '
        '<a href="{remove}">Remove<span class="visually-hidden"> {name}</span>…</a>',
        edit=path("admin", "templates", template.desk_id, "edit"),
        remove=path("admin", "templates", template.desk_id, "remove"),
        name=template.name,
    )
    return cells(
        template.name,
        fragment("<code>{s}</code>", s=template.product.slug) if template.product else "Any",
        template.subject or "",
        template.priority or "",
        template.type or "",
        template.category or "",
        ", ".join(template.tags),
        time_element(template.updated_at),
        actions,
    )


def values_of(template: TicketTemplate) -> dict[str, str]:
    """A template as the form shows it."""
    return {
        "name": template.name,
        "subject": template.subject or "",
        "body": template.body or "",
        "priority": template.priority or "",
        "type": template.type or "",
        "category": template.category or "",
        "tags": ", ".join(template.tags),
        "productSlug": template.product.slug if template.product else "",
    }


def _options(choices: Sequence[tuple[str, str]], selected: str) -> Html:
    return join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=value,
            t=title,
            sel=Html(" selected") if selected == value else Html(""),
        )
        for value, title in choices
    )


def template_form(
    admin_session: AdminSession,
    products: Sequence[Product],
    values: dict[str, str],
    errors: dict[str, str],
    *,
    action: str,
    heading: str,
    button: str,
) -> Html:
    def field(name: str, label: str, hint: str, control: Html) -> Html:
        return fragment(
            '<div class="field"><label for="{name}">{label}</label>'
            '<p class="hint" id="{name}-hint">{hint}</p>{error}{control}</div>',
            name=name,
            label=label,
            hint=hint,
            error=field_error(errors, name),
            control=control,
        )

    def text(name: str) -> Html:
        return fragment(
            '<input id="{name}" name="{name}" type="text" value="{value}"{attrs}>',
            name=name,
            value=values.get(name, ""),
            attrs=field_attributes(errors, name),
        )

    def select(name: str, choices: Sequence[tuple[str, str]]) -> Html:
        return fragment(
            '<select id="{name}" name="{name}"{attrs}>{options}</select>',
            name=name,
            attrs=field_attributes(errors, name),
            options=_options(choices, values.get(name, "")),
        )

    general = (
        fragment('<p class="field-error">{e}</p>', e=errors["_form"])
        if "_form" in errors
        else Html("")
    )
    body = fragment(
        '<textarea id="body" name="body" rows="6"{attrs}>{value}</textarea>',
        attrs=field_attributes(errors, "body"),
        value=values.get("body", ""),
    )
    return fragment(
        '<section class="card" aria-labelledby="template-heading">'
        '<h2 id="template-heading">{heading}</h2>'
        '<form class="stacked" method="post" action="{action}" novalidate>{csrf}{general}'
        "{fields}"
        '<button type="submit">{button}</button></form></section>',
        heading=heading,
        action=action,
        csrf=csrf_input(admin_session),
        general=general,
        button=button,
        fields=join(
            [
                field("name", "Name", 'Unique, e.g. "New Employee Setup".', text("name")),
                field(
                    "subject", "Subject", "Left empty: the ticket must send one.", text("subject")
                ),
                field("body", "Body", "Left empty: the ticket must send one.", body),
                field(
                    "priority",
                    "Priority",
                    "None: the ticket's own, else medium.",
                    select("priority", [("", "None"), *((p, p) for p in PRIORITIES)]),
                ),
                field(
                    "type",
                    "Type",
                    "Seed 002's ticket type.",
                    select("type", [("", "None"), *((t, t) for t in TICKET_TYPES)]),
                ),
                field(
                    "category", "Category", "Any text, at most 100 characters.", text("category")
                ),
                field("tags", "Tags", "Comma-separated, e.g. onboarding, hr.", text("tags")),
                field(
                    "productSlug",
                    "Product",
                    "Any: a shared template, for tickets of every product.",
                    select(
                        "productSlug",
                        [("", "Any"), *((p.slug, f"{p.name} ({p.slug})") for p in products)],
                    ),
                ),
            ]
        ),
    )


def _form_data(form: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """What the form sent, to show again, and as the API body (empty: null)."""
    values = {name: str(form.get(name, "")) for name in FORM_FIELDS}
    data: dict[str, Any] = {name: values[name] or None for name in FORM_FIELDS if name != "tags"}
    data["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    return values, data


async def _products(request: web.Request) -> Sequence[Product]:
    async with request.app[DB].session() as session:
        return await ProductRepo(session).all()


async def templates_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        rows = await TemplateRepo(session).all()
        table_html = table(
            [
                "Name",
                "Product",
                "Subject",
                "Priority",
                "Type",
                "Category",
                "Tags",
                "Updated",
                "Actions",
            ],
            [template_row(t) for t in rows],
            caption="Ticket templates",
            empty="No templates yet.",
        )
    content = fragment(
        '<h1>Templates</h1>{notice}<p>A desk ticket created with <code>"template"</code> '
        "(a template's id or name) takes from it every field it leaves out.</p>{table}{form}",
        notice=notice_from_query(request),
        table=table_html,
        form=template_form(
            admin_session,
            await _products(request),
            values or {},
            errors or {},
            action="/admin/templates",
            heading="Add a template",
            button="Add template",
        ),
    )
    return admin_page(request, "templates", content, admin_session=admin_session, status=status)


def _not_found(request: web.Request, admin_session: AdminSession, ref: str) -> web.Response:
    return admin_page(
        request,
        "not found",
        fragment(
            '<h1>No template {ref}</h1><p><a href="/admin/templates">Templates</a></p>', ref=ref
        ),
        admin_session=admin_session,
        status=404,
    )


@admin_only
async def list_templates(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await templates_page(request, admin_session)


@admin_only
async def add_template(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    values, data = _form_data(await read_form(request))
    try:
        fields = validate_template(data)
        async with request.app[DB].begin() as session:
            await templates.create_template(session, templates.ADMIN, fields)
    except ApiError as exc:
        return await templates_page(
            request, admin_session, values=values, errors=form_errors(exc), status=exc.status
        )
    return redirect(
        path("admin", "templates", query={"notice": "template-added", "slug": fields.name})
    )


async def _edit_page(
    request: web.Request,
    admin_session: AdminSession,
    template_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    content = fragment(
        '<h1>Edit template</h1><p><a href="/admin/templates">Back to the templates</a></p>{form}',
        form=template_form(
            admin_session,
            await _products(request),
            values,
            errors,
            action=path("admin", "templates", template_id, "edit"),
            heading=values.get("name") or "Template",
            button="Save template",
        ),
    )
    return admin_page(request, "edit template", content, admin_session=admin_session, status=status)


@admin_only
async def edit_template(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    ref = request.match_info["id"]
    async with request.app[DB].session() as session:
        template = await templates.lookup(session, templates.ADMIN, ref)
        if template is None:
            return _not_found(request, admin_session, ref)
        values = values_of(template)
    return await _edit_page(request, admin_session, ref, values, {})


@admin_only
async def save_template(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    ref = request.match_info["id"]
    values, data = _form_data(await read_form(request))
    try:
        changes = validate_template_changes(data)
        async with request.app[DB].begin() as session:
            template = await templates.update_template(session, templates.ADMIN, ref, changes)
            name = template.name
    except ApiError as exc:
        if exc.status == 404:
            return _not_found(request, admin_session, ref)
        return await _edit_page(request, admin_session, ref, values, form_errors(exc), exc.status)
    return redirect(path("admin", "templates", query={"notice": "template-changed", "slug": name}))


@admin_only
async def confirm_remove_template(
    request: web.Request, admin_session: AdminSession
) -> web.StreamResponse:
    ref = request.match_info["id"]
    async with request.app[DB].session() as session:
        template = await templates.lookup(session, templates.ADMIN, ref)
        if template is None:
            return _not_found(request, admin_session, ref)
        name = template.name
    content = fragment(
        "<h1>Remove template {name}?</h1>"
        "<p>Tickets already made from it are kept; new tickets can no longer name it.</p>"
        '<form class="actions" method="post" action="{action}">{csrf}'
        '<button type="submit" class="danger">Remove {name}</button> '
        '<a href="/admin/templates">Cancel</a></form>',
        name=name,
        action=path("admin", "templates", ref, "remove"),
        csrf=csrf_input(admin_session),
    )
    return admin_page(request, f"remove {name}", content, admin_session=admin_session)


@admin_only
async def remove_template(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    ref = request.match_info["id"]
    try:
        async with request.app[DB].begin() as session:
            template = await templates.find_template(session, templates.ADMIN, ref)
            name = template.name
            await templates.remove_template(session, templates.ADMIN, ref)
    except ApiError:
        return _not_found(request, admin_session, ref)
    return redirect(path("admin", "templates", query={"notice": "template-removed", "slug": name}))
