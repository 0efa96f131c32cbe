"""The workspace's New ticket page (``/desk/new``, seed 003's "Manual — Click 'New Ticket'"):
staff type in a ticket for a requester, from scratch or from a template, and land on its page.

It is the desk API's create, as the signed-in person: the template fills what the form leaves
empty (``bot.tickets.templates.fill_from_template``, the API's path), the fields are checked
by ``bot.rules.desk_input`` (so the messages are the API's, shown next to their fields), and
``bot.tickets.desk.create_ticket`` stores it, with its GitHub issue queued when it has a
product. The ticket's source is ``manual``. ``?template=`` pre-fills the form the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.http.ratelimit import enforce
from bot.jobs.worker import notify_workers
from bot.rules import desk_input, ids
from bot.rules import staff as rules
from bot.rules.callbacks import Network
from bot.rules.desk_input import DEFAULT_PRIORITY, MANUAL_SOURCE, PRIORITIES, TICKET_TYPES
from bot.rules.validation import MAX_NAME, MAX_SUBJECT, FieldErrors
from bot.staff.sessions import SignedIn
from bot.tickets import desk, templates
from bot.tickets.apikeys import KeyScope
from bot.tickets.templates import TemplateScope
from bot.web.admin_auth import form_errors, redirect
from bot.web.desk_auth import csrf_input, desk_page, staff_only, staff_scope
from bot.web.html import Html, fragment, join, path
from storage.repos.products import ProductRepo
from storage.repos.templates import TemplateRepo

# The form's fields are the API's request fields (so its messages land next to them), and
# the requester's name, which only this page sends.
TEXT_FIELDS = ("email", "subject", "body", "productSlug", "priority", "type", "category")
NAME_FIELD = "name"


def request_data(form: Mapping[str, str]) -> dict[str, Any]:
    """The form as the desk API's create request: a blank field is left out (so a template
    fills it, as it fills what a request leaves out), tags split at commas."""
    data: dict[str, Any] = {
        field: form[field] for field in TEXT_FIELDS if form.get(field, "").strip()
    }
    tags = [tag.strip() for tag in form.get("tags", "").split(",") if tag.strip()]
    if tags:
        data["tags"] = tags
    if form.get("template", "").strip():
        data["template"] = form["template"].strip()
    return data


def form_values(data: Mapping[str, Any], name: str = "") -> dict[str, str]:
    """A request (typed or filled from a template) as the form shows it again."""
    values = {field: str(data.get(field) or "") for field in TEXT_FIELDS}
    values["tags"] = ", ".join(data.get("tags") or ())
    values["template"] = str(data.get("template") or "")
    values[NAME_FIELD] = name
    return values


def _requester_name(form: Mapping[str, str], errors: FieldErrors) -> str | None:
    """The requester's name (what mail to them greets), as the submission form checks it."""
    return errors.optional_text(
        {NAME_FIELD: form.get(NAME_FIELD) or None}, NAME_FIELD, max_chars=MAX_NAME
    )


def validated(
    data: dict[str, Any], form: Mapping[str, str], callback_allow: Sequence[Network]
) -> tuple[desk_input.NewDeskTicket, str | None]:
    """The new ticket as the API would take it, marked manual, and the requester's name;
    every bad field at once, in seed 001's error shape."""
    errors = FieldErrors()
    name = _requester_name(form, errors)
    try:
        new = desk_input.validate_new_ticket(data, callback_allow)
    except ApiError as exc:
        fields = {**exc.extra.get("fields", {}), **errors.fields}
        raise ApiError(exc.status, exc.error, exc.hint, fields=fields) from None
    desk_input.raise_if_invalid(errors)
    return dataclasses.replace(new, source_type=MANUAL_SOURCE), name


def _refusal(exc: ApiError) -> dict[str, str]:
    """A refused create's problems by field; a product outside the person's scope is the
    product field's."""
    if exc.error == desk.PRODUCT_NOT_FOUND:
        return {"productSlug": f"{exc.error}: {exc.hint}"}
    return form_errors(exc)


# -- the form --------------------------------------------------------------------------------


def _error(errors: Mapping[str, str], name: str) -> Html:
    if name not in errors:
        return Html("")
    return fragment(
        '<p class="field-error" id="{name}-error">{message}</p>', name=name, message=errors[name]
    )


def _described(errors: Mapping[str, str], name: str, hint: bool = False) -> Html:
    ids_ = ([f"{name}-hint"] if hint else []) + ([f"{name}-error"] if name in errors else [])
    if not ids_:
        return Html("")
    return fragment(
        ' aria-describedby="{d}"{invalid}',
        d=" ".join(ids_),
        invalid=Html(' aria-invalid="true"') if name in errors else Html(""),
    )


def _options(choices: Sequence[tuple[str, str]], chosen: str) -> Html:
    return join(
        fragment(
            '<option value="{v}"{sel}>{label}</option>',
            v=value,
            label=label,
            sel=Html(" selected") if value == chosen else Html(""),
        )
        for value, label in choices
    )


def _field(
    name: str,
    label: str,
    control: Html,
    errors: Mapping[str, str],
    hint: str | None = None,
) -> Html:
    return fragment(
        '<div class="field"><label for="{name}">{label}</label>{hint}{error}{control}</div>',
        name=name,
        label=label,
        hint=fragment('<p class="hint" id="{n}-hint">{h}</p>', n=name, h=hint) if hint else "",
        error=_error(errors, name),
        control=control,
    )


def _input(
    name: str,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    kind: str = "text",
    extra: str = "",
    hint: bool = False,
) -> Html:
    return fragment(
        '<input id="{name}" name="{name}" type="{kind}" value="{value}"{extra}{described}>',
        name=name,
        kind=kind,
        value=values.get(name, ""),
        extra=Html(extra),
        described=_described(errors, name, hint),
    )


def _select(
    name: str,
    choices: Sequence[tuple[str, str]],
    values: Mapping[str, str],
    errors: Mapping[str, str],
) -> Html:
    return fragment(
        '<select id="{name}" name="{name}"{described}>{options}</select>',
        name=name,
        described=_described(errors, name),
        options=_options(choices, values.get(name, "")),
    )


def template_picker(
    choices: Sequence[tuple[str, str]], chosen: str, errors: Mapping[str, str]
) -> Html:
    """A GET form: choosing a template reloads the page with its fields filled in."""
    if not choices and "template" not in errors:
        return Html("")
    return fragment(
        '<form class="filters" method="get" action="/desk/new">'
        '<div class="field"><label for="template">Template</label>{error}'
        '<select id="template" name="template"{described}>{options}</select></div>'
        '<button type="submit">Use template</button></form>',
        error=_error(errors, "template"),
        described=_described(errors, "template"),
        options=_options([("", "No template"), *choices], chosen),
    )


def ticket_form(
    signed_in: SignedIn,
    products: Sequence[str],
    single_product: bool,
    values: Mapping[str, str],
    errors: Mapping[str, str],
) -> Html:
    product_choices = [(slug, slug) for slug in products]
    if not single_product:
        product_choices.insert(0, ("", "No product (no GitHub issue)"))
    template = Html("")
    if values.get("template"):
        template = fragment(
            '<input type="hidden" name="template" value="{t}">'
            '<p class="hint">From template {t}: a field left empty takes the template\'s '
            "value.</p>",
            t=values["template"],
        )
    general = (
        fragment('<p class="field-error" role="alert">{e}</p>', e=errors["_form"])
        if "_form" in errors
        else Html("")
    )
    fields = [
        _field(
            "email",
            "Requester email",
            _input("email", values, errors, kind="email", extra=' required autocomplete="off"'),
            errors,
        ),
        _field(
            NAME_FIELD,
            "Requester name (optional)",
            _input(NAME_FIELD, values, errors, extra=f' maxlength="{MAX_NAME}" autocomplete="off"'),
            errors,
        ),
        _field(
            "subject",
            "Subject",
            _input("subject", values, errors, extra=f' required maxlength="{MAX_SUBJECT}"'),
            errors,
        ),
        _field(
            "body",
            "Description",
            fragment(
                '<textarea id="body" name="body" rows="6" required{d}>{v}</textarea>',
                d=_described(errors, "body"),
                v=values.get("body", ""),
            ),
            errors,
        ),
        _field(
            "productSlug",
            "Product",
            _select("productSlug", product_choices, values, errors),
            errors,
        ),
        _field(
            "priority",
            "Priority",
            _select("priority", [(p, p) for p in PRIORITIES], values, errors),
            errors,
        ),
        _field(
            "type",
            "Type",
            _select("type", [("", "No type"), *((t, t) for t in TICKET_TYPES)], values, errors),
            errors,
        ),
        _field("category", "Category (optional)", _input("category", values, errors), errors),
        _field(
            "tags",
            "Tags (optional)",
            _input("tags", values, errors, hint=True),
            errors,
            hint="Separated by commas, e.g. login, billing.",
        ),
    ]
    return fragment(
        '<form class="stacked" method="post" action="/desk/new" novalidate>{csrf}{template}'
        "{general}{fields}"
        '<button type="submit">Create ticket</button></form>',
        csrf=csrf_input(signed_in.csrf_token),
        template=template,
        general=general,
        fields=join(fields),
    )


async def new_ticket_page(
    request: web.Request,
    signed_in: SignedIn,
    scope: KeyScope,
    values: dict[str, str],
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    errors = errors or {}
    async with request.app[DB].session() as session:
        visible = [p for p in await ProductRepo(session).all() if scope.sees_product(p.id)]
        found = await TemplateRepo(session).all(TemplateScope.of_key(scope).product_ids)
    products = sorted(p.slug for p in visible)
    single = scope.product_ids is not None and len(scope.product_ids) == 1
    if not values.get("productSlug") and len(products) == 1:
        values["productSlug"] = products[0]
    values["priority"] = values.get("priority") or DEFAULT_PRIORITY
    content = fragment(
        "<h1>New ticket</h1>"
        "<p>A ticket typed in for a requester (by phone, chat or in person); when TinyDesk "
        "sends mail, they get its tracking link as if they had sent it.</p>{picker}{form}",
        picker=template_picker(
            [(t.desk_id, t.name) for t in found], values.get("template", ""), errors
        ),
        form=ticket_form(signed_in, products, single, values, errors),
    )
    return desk_page(request, "new ticket", content, signed_in, status=status)


@staff_only(rules.Action.WRITE_TICKETS)
async def show_form(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    """The empty form, or with ``?template=`` the form filled from that template."""
    scope = await staff_scope(request, signed_in)
    ref = request.query.get("template", "").strip()
    if not ref:
        return await new_ticket_page(request, signed_in, scope, form_values({}))
    try:
        async with request.app[DB].session() as session:
            filled = await templates.fill_from_template(session, scope, {"template": ref})
    except ApiError as exc:
        return await new_ticket_page(
            request, signed_in, scope, form_values({}), form_errors(exc), status=exc.status
        )
    return await new_ticket_page(
        request, signed_in, scope, form_values({**filled, "template": ref})
    )


@staff_only(rules.Action.WRITE_TICKETS)
async def create(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    """Create the ticket as the person (the API's create, limits included); a refusal shows
    the form again with everything typed and each problem next to its field."""
    form: MultiDictProxy[str] = await read_form(request)
    scope = await staff_scope(request, signed_in)
    settings = request.app[SETTINGS]
    typed = request_data(form)
    now = request.app[CLOCK]()
    try:
        await enforce(
            request, f"desk-create:{scope.key_id}", settings.rate_limits.desk_creates_per_minute
        )
        async with request.app[DB].begin() as session:
            data = await templates.fill_from_template(session, scope, typed)
            new, name = validated(data, form, settings.callback_allow)
            ticket, _ = await desk.create_ticket(session, scope, new, now, settings=settings)
            ticket.submitter_name = name
    except ApiError as exc:
        values = form_values(typed, form.get(NAME_FIELD, ""))
        return await new_ticket_page(
            request, signed_in, scope, values, _refusal(exc), status=exc.status
        )
    notify_workers(request.app)
    return redirect(path("desk", "tickets", ids.public_id(ticket.id)))


routes = [web.get("/desk/new", show_form), web.post("/desk/new", create)]
