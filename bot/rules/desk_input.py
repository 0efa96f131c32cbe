"""What staff may send the desk API (seed 001): the choices and limits of each field, every
failing field reported at once in seed 001's error shape, and the list's page size."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from bot.errors import ApiError
from bot.rules import callbacks
from bot.rules.callbacks import Network
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.numbers import whole_number
from bot.rules.validation import MAX_BODY_BYTES, MAX_EMAIL, MAX_SUBJECT, FieldErrors, is_email

PRIORITIES = ("low", "medium", "high", "urgent")
DEFAULT_PRIORITY = "medium"
TICKET_TYPES = ("incident", "service_request", "change", "problem")
SOURCE_TYPES = ("api", "frontend", "backend", "server", "system")
# The one the workspace's New ticket page sets (seed 003's "Manual"; bot.web.desk_new).
MANUAL_SOURCE = "manual"
# What a stored ticket may say besides: ``email`` is set by mail in only (bot.mail.incoming),
# ``alert`` by the alert intake, ``manual`` by staff typing a ticket in.
STORED_SOURCE_TYPES = (*SOURCE_TYPES, "email", "alert", MANUAL_SOURCE)
MAX_TAGS = 20
MAX_TAG = 64
MAX_ASSIGNEE = 320
MAX_CATEGORY = 100
MAX_SLUG = 64
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

HINTS = {
    "subject": f"Include `subject` (at most {MAX_SUBJECT} characters) in the request body.",
    "body": "Include `body` in the request body.",
    "email": "Include the requester's email address in the request body",
    "priority": "Use low, medium, high or urgent.",
    "status": "Use open, pending, resolved or closed.",
    "tags": f"Send tags as an array of up to {MAX_TAGS} strings of at most {MAX_TAG} characters.",
    "assignee": f"Send the assignee's ID or email (at most {MAX_ASSIGNEE} characters), or null.",
    "type": "Use incident, service_request, change or problem.",
    "category": f"Send category as text of at most {MAX_CATEGORY} characters, or null.",
    "source_type": "Use api, frontend, backend, server or system.",
    "productSlug": "Send the slug of a product this key may use (tinydesk products list).",
    "slaPolicy": "Send the name of an SLA policy (GET /api/v1/desk/sla/policies lists them).",
    "internal": "Send internal as true (a note for staff only) or false (the submitter sees it).",
    callbacks.FIELD: callbacks.URL_HINT,
}


def raise_if_invalid(errors: FieldErrors) -> None:
    """Seed 001's error shape: the first message as ``error``, every field in ``fields``."""
    if errors.fields:
        field, message = next(iter(errors.fields.items()))
        raise ApiError(400, message, HINTS.get(field), fields=errors.fields)


def _choice(
    errors: FieldErrors, data: dict[str, Any], field: str, allowed: tuple[str, ...], label: str
) -> str | None:
    value = data.get(field)
    if value not in allowed or not isinstance(value, str):
        errors.add(field, f"Invalid {label}")
        return None
    return value


def _tags(errors: FieldErrors, value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        errors.add("tags", f"tags must be an array of at most {MAX_TAGS} strings")
        return None
    tags = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip():
            errors.add("tags", f"tags[{index}] must be a non-empty string")
            return None
        if "\x00" in tag:
            errors.add("tags", f"tags[{index}] must not contain NUL characters")
            return None
        if len(tag.strip()) > MAX_TAG:
            errors.add("tags", f"tags[{index}] must be at most {MAX_TAG} characters")
            return None
        tags.append(tag.strip())
    return tuple(dict.fromkeys(tags))  # a tag once, in first-seen order


def _nullable_text(
    errors: FieldErrors, data: dict[str, Any], field: str, max_chars: int
) -> str | None:
    if data.get(field) is None or data.get(field) == "":
        return None
    return errors.optional_text(data, field, max_chars=max_chars)


@dataclasses.dataclass(frozen=True)
class NewDeskTicket:
    subject: str
    body: str
    email: str
    priority: str = DEFAULT_PRIORITY
    tags: tuple[str, ...] = ()
    product_slug: str | None = None
    ticket_type: str | None = None
    category: str | None = None
    source_type: str = "api"
    email_updates: bool = True
    callback_url: str | None = None


def validate_new_ticket(
    data: dict[str, Any], callback_allow: Sequence[Network] = ()
) -> NewDeskTicket:
    """POST /desk/tickets: subject, body and email required; the rest optional."""
    errors = FieldErrors()
    subject = errors.required_text(data, "subject", max_chars=MAX_SUBJECT)
    body = errors.required_text(data, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    email = errors.required_text(data, "email", max_chars=MAX_EMAIL)
    if email is not None and not is_email(email):
        errors.add("email", "Invalid email address")
    priority: str | None = DEFAULT_PRIORITY
    if data.get("priority") is not None:
        priority = _choice(errors, data, "priority", PRIORITIES, "priority")
    tags: tuple[str, ...] | None = ()
    if data.get("tags") is not None:
        tags = _tags(errors, data["tags"])
    slug = _nullable_text(errors, data, "productSlug", MAX_SLUG)
    ticket_type = None
    if data.get("type") is not None:
        ticket_type = _choice(errors, data, "type", TICKET_TYPES, "type")
    category = _nullable_text(errors, data, "category", MAX_CATEGORY)
    source_type: str | None = "api"
    if data.get("source_type") is not None:
        source_type = _choice(errors, data, "source_type", SOURCE_TYPES, "source_type")
    email_updates = errors.optional_bool(data, "emailUpdates", default=True)
    callback_url = callbacks.validate_field(data, errors, callback_allow)
    raise_if_invalid(errors)
    assert subject and body is not None and email and priority and tags is not None
    assert source_type is not None
    return NewDeskTicket(
        subject,
        body,
        email,
        priority,
        tags,
        slug,
        ticket_type,
        category,
        source_type,
        email_updates,
        callback_url,
    )


def validate_changes(data: dict[str, Any]) -> dict[str, Any]:
    """PATCH /desk/tickets/:id: only the fields sent change; unknown fields are ignored."""
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if "status" in data:
        changes["status"] = _choice(errors, data, "status", DESK_STATUSES, "status")
    if "priority" in data:
        changes["priority"] = _choice(errors, data, "priority", PRIORITIES, "priority")
    if "assignee" in data:
        changes["assignee"] = _nullable_text(errors, data, "assignee", MAX_ASSIGNEE)
    if "tags" in data:
        changes["tags"] = _tags(errors, data["tags"])
    if "type" in data:
        changes["type"] = (
            None if data["type"] is None else _choice(errors, data, "type", TICKET_TYPES, "type")
        )
    if "category" in data:
        changes["category"] = _nullable_text(errors, data, "category", MAX_CATEGORY)
    if "source_type" in data:
        changes["source_type"] = _choice(errors, data, "source_type", SOURCE_TYPES, "source_type")
    if "slaPolicy" in data:
        # A policy's name; whether one has it is asked of the database (bot.tickets.desk).
        policy = data["slaPolicy"]
        if not isinstance(policy, str) or not policy.strip():
            errors.add("slaPolicy", "Invalid slaPolicy")
        else:
            changes["sla_policy"] = policy.strip()
    raise_if_invalid(errors)
    return changes


def validate_comment(data: dict[str, Any]) -> tuple[str, bool]:
    errors = FieldErrors()
    body = errors.required_text(data, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    internal = data.get("internal", False)
    if internal is None:
        internal = False
    if not isinstance(internal, bool):
        errors.add("internal", "internal must be true or false")
    raise_if_invalid(errors)
    assert body is not None
    return body, internal


def parse_limit(raw: str | None, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """A list's ``?limit=``: the one parser of every list (the desk's, the ITSM list, the
    admin queues), each with its own default and maximum."""
    if raw is None:
        return default
    limit = whole_number(raw, maximum=maximum)
    if limit is None:
        raise ApiError(
            400,
            "Invalid limit",
            f"Send limit as a whole number from 1 to {maximum} (default {default}).",
            fields={"limit": f"limit must be 1 to {maximum}"},
        )
    return limit
