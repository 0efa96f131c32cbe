"""The OpenAPI description of seed 002's ITSM resource, ``/api/v1/helpdesk/…``."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import DESK_STATUS, PRIORITY, TAGS, desk_op
from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    TEXT,
    TIMESTAMP,
    body,
    errors,
    nullable,
    ok,
    ref,
    required_text,
    text_input,
)
from bot.api.openapi.public import EMAIL
from bot.rules import helpdesk as rules
from bot.rules.desk_input import (
    MAX_ASSIGNEE,
    MAX_CATEGORY,
    SOURCE_TYPES,
    STORED_SOURCE_TYPES,
    TICKET_TYPES,
)
from bot.rules.validation import MAX_SUBJECT
from bot.tickets.helpdesk import MAX_PAGE, MAX_TEAM_NAME

ID = {"type": "string", "pattern": "^[a-z]+_[0-9A-Z]{26}$", "description": "A prefixed ULID"}
TEAM_ID = {"type": "string", "pattern": rules.TEAM_ID.pattern}
RELATED = required_text(rules.MAX_RELATED)
# The server's fields, refused in a write (false: no value is valid).
SERVER_FIELDS: dict[str, Any] = {
    field: {"not": {}, "description": "Set by the server"} for field in sorted(rules.READ_ONLY)
}
TYPE = {"enum": list(TICKET_TYPES)}

DOC_PROPERTIES: dict[str, Any] = {
    "id": {**ID, "pattern": "^tkt_"},
    "tenant_id": TEXT,
    "app_id": {**TEXT, "description": "Present only when an application's key made it"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "created_by": nullable(TEXT),
    "updated_by": nullable(TEXT),
    "source": TEXT,
    "source_type": {"enum": list(STORED_SOURCE_TYPES)},
    "is_deleted": {"type": "boolean"},
    "deleted_at": MAYBE_TIMESTAMP,
    "deleted_by": nullable(TEXT),
    "schema_version": {"type": "integer", "minimum": 1},
    "number": {"type": "string", "pattern": "^TKT-\\d{4,}$"},
    "title": TEXT,
    "description": {**TEXT, "description": "Markdown"},
    "type": nullable(TYPE),
    "status": DESK_STATUS,
    "priority": PRIORITY,
    "category": nullable(TEXT),
    "submitted_by_id": nullable({"type": "string", "pattern": "^per_"}),
    "assigned_to_id": nullable({"type": "string", "pattern": "^per_"}),
    "team_id": nullable(TEAM_ID),
    "sla_policy": nullable(
        {"type": "string", "pattern": "^slp_\\d+$", "description": "The SLA policy's id"}
    ),
    "first_response_at": MAYBE_TIMESTAMP,
    "resolved_at": MAYBE_TIMESTAMP,
    "due_at": MAYBE_TIMESTAMP,
    "related_asset_id": nullable(TEXT),
    "related_vulnerability_id": nullable(TEXT),
    "tags": {"type": "array", "items": TEXT},
}
assert tuple(DOC_PROPERTIES) == rules.FIELDS, "the document's fields in seed 002's order"

# What a create and an update may set beside title and description: the desk's rules
# (bot.rules.desk_input), so the same nulls are taken (a create's null is "the default").
ITSM_OWN: dict[str, Any] = {
    "team_id": nullable(TEAM_ID),
    "related_asset_id": nullable(RELATED),
    "related_vulnerability_id": nullable(RELATED),
    "source": required_text(rules.MAX_SOURCE),
}
CREATE_FIELDS: dict[str, Any] = {
    "type": nullable(TYPE),
    "priority": nullable(PRIORITY),
    "category": nullable(text_input(MAX_CATEGORY)),
    "tags": nullable(TAGS),
    "source_type": nullable({"enum": list(SOURCE_TYPES)}),
    **ITSM_OWN,
}
UPDATE_FIELDS: dict[str, Any] = {
    "type": nullable(TYPE),
    "priority": PRIORITY,
    "category": nullable(text_input(MAX_CATEGORY)),
    "tags": TAGS,
    "source_type": {"enum": list(SOURCE_TYPES)},
    "sla_policy": {
        **required_text(100),
        "description": "The SLA policy's id (slp_3) or name: the due times are computed again",
    },
    **ITSM_OWN,
}

SCHEMAS: dict[str, Any] = {
    "HelpdeskTicket": {
        "type": "object",
        "additionalProperties": False,
        "required": [f for f in rules.FIELDS if f != "app_id"],
        "properties": DOC_PROPERTIES,
    },
    "HelpdeskTicketCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["title", "description"],
        "properties": {
            **SERVER_FIELDS,
            "title": required_text(MAX_SUBJECT),
            "description": required_text(description="Markdown"),
            "submitter_email": {
                **nullable(EMAIL),
                "description": "Who the ticket is for (default: the key's name, if an address)",
            },
            "product": nullable(text_input(64)),
            **CREATE_FIELDS,
        },
    },
    "HelpdeskTicketUpdate": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "properties": {
            **SERVER_FIELDS,
            "title": required_text(MAX_SUBJECT),
            "description": required_text(),
            "status": DESK_STATUS,
            "assigned_to": {
                **nullable(text_input(MAX_ASSIGNEE)),
                "description": "The assignee's address (assigned_to_id is derived from it)",
            },
            **UPDATE_FIELDS,
        },
    },
    "HelpdeskTicketPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "has_more", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref("HelpdeskTicket")},
            "has_more": {"type": "boolean"},
            "next_cursor": nullable(TEXT),
        },
    },
    "Team": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "tenant_id", "name", "created_at"],
        "properties": {
            "id": TEAM_ID,
            "tenant_id": TEXT,
            "name": TEXT,
            "created_at": TIMESTAMP,
        },
    },
    "TeamCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["name"],
        "properties": {"name": required_text(MAX_TEAM_NAME)},
    },
    "TeamList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("Team")}},
    },
}

REF_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ticket's id (tkt_…), number (TKT-0042) or publicId (TK-00042)",
}
DOC = ok("The ticket", ref("HelpdeskTicket"), rate_limited=True)
INCLUDE_DELETED = {
    "name": "include_deleted",
    "in": "query",
    "schema": {"enum": ["true", "false", "1", "0"]},
    "description": "Soft-deleted tickets too",
}


def _one(summary: str, *codes: int, **extra: Any) -> dict[str, Any]:
    return desk_op(summary, {"200": DOC, **errors(404, *codes, rate_limited=True)}, **extra)


PATHS: dict[str, Any] = {
    "/api/v1/helpdesk/tickets": {
        "get": desk_op(
            "List tickets (seed 002), newest first, within the key's tenant and application",
            {
                "200": ok("A page", ref("HelpdeskTicketPage"), rate_limited=True),
                **errors(400, rate_limited=True),
            },
            parameters=[
                *(
                    {"name": name, "in": "query", "schema": schema}
                    for name, schema in (
                        ("status", DESK_STATUS),
                        ("priority", PRIORITY),
                        ("type", TYPE),
                        ("category", text_input()),
                        ("team_id", text_input()),
                    )
                ),
                INCLUDE_DELETED,
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 25},
                },
                {"name": "cursor", "in": "query", "schema": TEXT},
            ],
        ),
        "post": desk_op(
            "Create a ticket (seed 002)",
            {
                "201": ok("Created", ref("HelpdeskTicket"), rate_limited=True),
                **errors(400, 404, 413, 415, rate_limited=True),
            },
            requestBody=body("HelpdeskTicketCreate"),
        ),
    },
    "/api/v1/helpdesk/tickets/{id}": {
        "parameters": [REF_PARAM],
        "get": _one("Get a ticket (seed 002); a deleted one is a 404 (lists show it)"),
        "patch": _one(
            "Update a ticket (seed 002); a change of type or team_id bumps schema_version",
            400,
            413,
            415,
            requestBody=body("HelpdeskTicketUpdate"),
        ),
        "delete": _one("Soft-delete a ticket: is_deleted, out of default lists, restorable"),
    },
    "/api/v1/helpdesk/tickets/{id}/close": {
        "parameters": [REF_PARAM],
        "post": _one("Close a ticket"),
    },
    "/api/v1/helpdesk/tickets/{id}/restore": {
        "parameters": [REF_PARAM],
        "post": _one("Restore a soft-deleted ticket (bumps schema_version)", 409),
    },
    "/api/v1/helpdesk/teams": {
        "get": desk_op(
            "The tenant's teams (the queues tickets are routed to by team_id)",
            {"200": ok("The teams", ref("TeamList"), rate_limited=True)},
        ),
        "post": desk_op(
            "Add a team",
            {
                "201": ok("Added", ref("Team"), rate_limited=True),
                **errors(400, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("TeamCreate"),
        ),
    },
}
