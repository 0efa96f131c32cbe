"""Ticket templates (seed 003): what a template may hold, and how one fills a new desk ticket.

A template's fields are a new desk ticket's, checked by the same rules (``bot.rules.desk_input``:
priority in the desk's words, so ``urgent`` and never ``critical``; the ticket types; tags;
the category's length), all optional but its ``name``. A template is named in a request by its
id (``tpl_…``) or by its exact name, so a name may not look like an id.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from bot.errors import ApiError
from bot.rules.desk_input import HINTS as DESK_HINTS
from bot.rules.desk_input import (
    MAX_CATEGORY,
    MAX_SLUG,
    PRIORITIES,
    TICKET_TYPES,
    _choice,
    _nullable_text,
    _tags,
)
from bot.rules.validation import MAX_BODY_BYTES, MAX_SUBJECT, FieldErrors

MAX_NAME = 200
ID_PREFIX = "tpl"
ID_CHARS = "[A-Za-z0-9_-]{1,36}"
TEMPLATE_ID = re.compile(rf"^tpl_{ID_CHARS}$")
# The request fields a template fills when a new ticket leaves them out (absent or null).
FILLED = ("subject", "body", "priority", "type", "category", "tags", "productSlug")
# What PATCH may change: everything a template holds.
UPDATABLE = ("name", *FILLED)

HINTS = {
    **DESK_HINTS,
    "name": f"Send the template's name (at most {MAX_NAME} characters, not an id like tpl_…).",
    "subject": f"Send subject as text of at most {MAX_SUBJECT} characters, or null.",
    "body": "Send body as text (at most 64 KiB), or null.",
    "priority": "Use low, medium, high or urgent, or null (a ticket's default, medium).",
    "type": "Use incident, service_request, change or problem, or null.",
    "template": "Send a template's id (tpl_…) or its exact name; GET /api/v1/desk/templates "
    "lists them.",
}


@dataclasses.dataclass(frozen=True)
class TemplateFields:
    """A template as checked; ``product_slug`` is resolved to a product by the caller."""

    name: str
    subject: str | None = None
    body: str | None = None
    priority: str | None = None
    type: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    product_slug: str | None = None


def _raise_if_invalid(errors: FieldErrors) -> None:
    # Seed 001's shape, as the desk's own validators answer: the first message is the error.
    if errors.fields:
        field, message = next(iter(errors.fields.items()))
        hint = HINTS.get(field, f"Send only fields a template has: {', '.join(UPDATABLE)}.")
        raise ApiError(400, message, hint, fields=errors.fields)


def _name(errors: FieldErrors, data: Mapping[str, Any]) -> str | None:
    name = errors.required_text(dict(data), "name", max_chars=MAX_NAME)
    if name is not None and TEMPLATE_ID.match(name):
        errors.add("name", "name must not look like a template id (tpl_…)")
        return None
    return name


def _checked(errors: FieldErrors, data: Mapping[str, Any], field: str) -> Any:
    """One of FILLED, checked by the desk's rule for it; null (or blank text) is no value."""
    body = dict(data)
    if field == "subject":
        return _nullable_text(errors, body, "subject", MAX_SUBJECT)
    if field == "body":
        value = body.get("body")
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return errors.required_text(body, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    if field in ("priority", "type"):
        allowed = PRIORITIES if field == "priority" else TICKET_TYPES
        return None if body.get(field) is None else _choice(errors, body, field, allowed, field)
    if field == "category":
        return _nullable_text(errors, body, "category", MAX_CATEGORY)
    if field == "tags":
        return () if body.get("tags") is None else _tags(errors, body["tags"])
    assert field == "productSlug"
    return _nullable_text(errors, body, "productSlug", MAX_SLUG)


def validate_template(data: Mapping[str, Any]) -> TemplateFields:
    """A new template (POST): ``name`` required, the rest optional; every bad field at once."""
    errors = FieldErrors()
    name = _name(errors, data)
    values = {field: _checked(errors, data, field) for field in FILLED}
    _raise_if_invalid(errors)
    assert name is not None and values["tags"] is not None
    return TemplateFields(
        name=name,
        subject=values["subject"],
        body=values["body"],
        priority=values["priority"],
        type=values["type"],
        category=values["category"],
        tags=values["tags"],
        product_slug=values["productSlug"],
    )


def validate_template_changes(data: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH: the fields sent change (null clears one); an unknown field or an empty body
    is refused, so a typo never reads as "nothing to change"."""
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    for field in data:
        if field not in UPDATABLE:
            errors.add(field, f"{field} cannot be changed; changeable: {', '.join(UPDATABLE)}")
    if not data:
        # Not "body": that is one of a template's own fields.
        errors.add("request", f"send at least one of {', '.join(UPDATABLE)}")
    if "name" in data:
        changes["name"] = _name(errors, data)
    for field in FILLED:
        if field in data:
            changes[field] = _checked(errors, data, field)
    _raise_if_invalid(errors)
    return changes


def template_ref(data: Mapping[str, Any]) -> str | None:
    """The ``template`` a new ticket names (its id or exact name), or None for none."""
    value = data.get("template")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    errors = FieldErrors()
    ref = errors.optional_text(dict(data), "template", max_chars=MAX_NAME)
    _raise_if_invalid(errors)
    return ref


def unknown_template(ref: str) -> ApiError:
    return ApiError(
        400,
        "Unknown template",
        HINTS["template"],
        fields={"template": f"no template {ref!r} is open to this key"},
    )


def fill_new_ticket(data: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, Any]:
    """The request with what it leaves out (absent or null) taken from the template
    (``template``: its FILLED fields in request form); what the request sends wins, an
    empty ``tags`` list included. The ``template`` field itself is dropped."""
    filled = {k: v for k, v in data.items() if k != "template"}
    for field in FILLED:
        if filled.get(field) is None and template.get(field) is not None:
            filled[field] = template[field]
    return filled
