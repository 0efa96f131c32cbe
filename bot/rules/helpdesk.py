"""Seed 002's ITSM resource (``/api/v1/helpdesk/tickets``): its field names, what a create
and an update may send, how they map onto the desk's rules (bot.rules.desk_input, so the
checks and messages are the desk's), and when ``schema_version`` is bumped.

One record, three views: the public tracking view, the desk's (seed 001) and this one are
the same tickets. The mapping: ``title`` is the subject, ``description`` the body (Markdown),
``number`` ``TKT-0042`` the same number as ``TK-00042``, ``submitted_by_id`` and
``assigned_to_id`` the people behind the submitter's and assignee's addresses
(``ids.person_id``), ``sla_policy`` the policy's name.

``schema_version`` starts at 1 and is bumped by an *incompatible write*: one that changes
what kind of record the ticket is for those who read it before, i.e. its ITSM ``type``
(an incident turned into a change follows another process) or its ``team_id`` (it moves to
another queue), and restoring a deleted ticket. Other writes (status, priority, text, tags)
leave it.
"""

from __future__ import annotations

import re
from typing import Any

from bot.errors import ApiError
from bot.rules import desk_input
from bot.rules.validation import FieldErrors

# Every field of the document, in seed 002's order.
FIELDS = (
    "id",
    "tenant_id",
    "app_id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "source",
    "source_type",
    "is_deleted",
    "deleted_at",
    "deleted_by",
    "schema_version",
    "number",
    "title",
    "description",
    "type",
    "status",
    "priority",
    "category",
    "submitted_by_id",
    "assigned_to_id",
    "team_id",
    "sla_policy",
    "first_response_at",
    "resolved_at",
    "due_at",
    "related_asset_id",
    "related_vulnerability_id",
    "tags",
)
# Written by the server only.
READ_ONLY = frozenset(FIELDS) - {
    "title",
    "description",
    "type",
    "status",
    "priority",
    "category",
    "team_id",
    "related_asset_id",
    "related_vulnerability_id",
    "tags",
    "source",
    "source_type",
    "sla_policy",
}
# Bumps schema_version when it changes (see above).
INCOMPATIBLE = ("type", "team_id")
MAX_RELATED = 64
MAX_SOURCE = 32
NUMBER = re.compile(r"^TKT-(\d{1,18})$")
TEAM_ID = re.compile(r"^team_[0-9A-Za-z]{1,34}$")


POLICY_REF = re.compile(r"^slp_(\d{1,18})$")


def policy_ref(policy_id: int | None) -> str | None:
    """An SLA policy as the document names it (``slp_3``); the desk and admin APIs take its
    name or this id."""
    return f"slp_{policy_id}" if policy_id is not None else None


def parse_policy_ref(value: object) -> int | None:
    match = POLICY_REF.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def number(ticket_id: int) -> str:
    return f"TKT-{ticket_id:04d}"


def parse_number(ref: str) -> int | None:
    match = NUMBER.match(ref)
    return int(match.group(1)) if match else None


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """The body in the desk's names (``title`` → ``subject``, ``description`` → ``body``,
    ``assigned_to`` → ``assignee``, ``sla_policy`` → ``slaPolicy``)."""
    names = {
        "title": "subject",
        "description": "body",
        "assigned_to": "assignee",
        "sla_policy": "slaPolicy",
        "submitter_email": "email",
        "product": "productSlug",
    }
    return {names.get(k, k): v for k, v in data.items()}


def _itsm_fields(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in ("related_asset_id", "related_vulnerability_id"):
        if field in data:
            value = data[field]
            if value is not None and (
                not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_RELATED
            ):
                errors.add(field, f"{field} must be an id of at most {MAX_RELATED} characters")
            else:
                out[field] = value.strip() if isinstance(value, str) else None
    if "team_id" in data:
        value = data["team_id"]
        if value is not None and (not isinstance(value, str) or not TEAM_ID.match(value)):
            errors.add("team_id", "team_id must be a team's id (team_…) or null")
        else:
            out["team_id"] = value
    if "source" in data:
        value = data["source"]
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_SOURCE:
            errors.add("source", f"source must be a tag of at most {MAX_SOURCE} characters")
        else:
            out["source"] = value.strip()
    return out


def _refuse_read_only(errors: FieldErrors, data: dict[str, Any]) -> None:
    for field in data:
        if field in READ_ONLY:
            errors.add(field, f"{field} is set by the server")


def validate_create(
    data: dict[str, Any], default_email: str | None
) -> tuple[desk_input.NewDeskTicket, dict[str, Any]]:
    """A create: the desk ticket it makes, and the ITSM-only fields. ``submitter_email``
    defaults to ``default_email`` (the key's name, when it is an address)."""
    errors = FieldErrors()
    _refuse_read_only(errors, data)
    extra = _itsm_fields(errors, data)
    desk_body = _renamed(data)
    if desk_body.get("email") is None and default_email is not None:
        desk_body["email"] = default_email
    new = None
    try:
        new = desk_input.validate_new_ticket(desk_body)
    except ApiError as exc:
        for field, message in exc.extra.get("fields", {}).items():
            errors.add(_itsm_name(field), message.replace(field, _itsm_name(field)))
    _raise(errors, "title, description and submitter_email")
    assert new is not None
    return new, extra


def validate_update(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An update: the desk's changes (status, priority, type, category, tags, assignee,
    slaPolicy, source_type) and this view's own (title, description, team_id, related ids,
    source)."""
    errors = FieldErrors()
    _refuse_read_only(errors, data)
    if not data:
        errors.add("body", "send at least one field to change")
    extra = _itsm_fields(errors, data)
    for field, key, limit in (("title", "subject", 256), ("description", "body", None)):
        if field in data:
            text = errors.required_text(data, field, max_chars=limit, strip=field == "title")
            if text is not None:
                extra[key] = text
    desk_changes: dict[str, Any] = {}
    try:
        desk_changes = desk_input.validate_changes(_renamed(data))
    except ApiError as exc:
        for field, message in exc.extra.get("fields", {}).items():
            errors.add(_itsm_name(field), message.replace(field, _itsm_name(field)))
    _raise(errors, "the fields you change")
    return desk_changes, extra


def _itsm_name(desk_field: str) -> str:
    return {
        "subject": "title",
        "body": "description",
        "assignee": "assigned_to",
        "slaPolicy": "sla_policy",
        "email": "submitter_email",
        "productSlug": "product",
    }.get(desk_field, desk_field)


def _raise(errors: FieldErrors, what: str) -> None:
    if errors.fields:
        message = next(iter(errors.fields.values()))
        raise ApiError(
            400, message, f"Fix the fields listed in `fields`; send {what}.", fields=errors.fields
        )


def is_incompatible(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return any(before.get(field) != after.get(field) for field in INCOMPATIBLE)
