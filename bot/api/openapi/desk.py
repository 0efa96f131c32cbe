"""The OpenAPI description of the staff desk API (seed 001, with seed 002's ITSM fields)."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    STAGE,
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
from bot.rules.desk_input import (
    DEFAULT_LIMIT,
    DEFAULT_PRIORITY,
    MAX_ASSIGNEE,
    MAX_CATEGORY,
    MAX_LIMIT,
    MAX_SLUG,
    MAX_TAG,
    MAX_TAGS,
    PRIORITIES,
    SOURCE_TYPES,
    TICKET_TYPES,
)
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.validation import MAX_SUBJECT
from bot.tickets.search import MAX_QUERY_CHARS

DESK_STATUS = {"type": "string", "enum": list(DESK_STATUSES)}
PRIORITY = {"type": "string", "enum": list(PRIORITIES)}
TAGS = {
    "type": "array",
    "items": required_text(
        MAX_TAG,
        description=f"Any text but NUL, not blank; trimmed, then at most {MAX_TAG} characters",
    ),
    "maxItems": MAX_TAGS,
}

DESK: list[dict[str, list[str]]] = [{"deskKey": []}]
TICKET_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The ticket's desk id (`tkt_…`) or its publicId (`TK-00042`)",
    "schema": TEXT,
}


def desk_op(summary: str, responses: dict, **extra: Any) -> dict[str, Any]:
    """A desk operation: key auth, rate-limit headers, 401 and 429 on every one."""
    return {
        "tags": ["desk"],
        "summary": summary,
        "security": DESK,
        "responses": {**responses, **errors(401, 429, rate_limited=True)},
        **extra,
    }


SCHEMAS: dict[str, Any] = {
    "DeskTicketCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["subject", "body", "email"],
        "properties": {
            "subject": required_text(MAX_SUBJECT),
            "body": required_text(),
            "email": EMAIL,
            "priority": {**nullable(PRIORITY), "default": DEFAULT_PRIORITY},
            "tags": nullable(TAGS),
            "productSlug": {
                **nullable(text_input(MAX_SLUG)),
                "description": "The product (and so GitHub repository) the ticket goes to; "
                "defaults to the key's only product",
            },
            "type": nullable({"enum": list(TICKET_TYPES)}),
            "category": nullable(text_input(MAX_CATEGORY)),
            "source_type": {**nullable({"enum": list(SOURCE_TYPES)}), "default": "api"},
        },
        "description": "null in an optional field is the same as leaving it out",
    },
    "DeskTicketUpdate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "properties": {
            "status": DESK_STATUS,
            "assignee": nullable(text_input(MAX_ASSIGNEE)),
            "priority": PRIORITY,
            "tags": TAGS,
            "type": nullable({"enum": list(TICKET_TYPES)}),
            "category": nullable(text_input(MAX_CATEGORY)),
            "source_type": {"enum": list(SOURCE_TYPES)},
            "slaPolicy": required_text(
                100,
                description="The name of an SLA policy (GET /api/v1/desk/sla/policies): the "
                "ticket's due times are computed again on it, from its creation",
            ),
        },
    },
    "DeskCommentCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["body"],
        "properties": {
            "body": required_text(),
            "internal": {**nullable({"type": "boolean"}), "default": False},
        },
    },
    "DeskComment": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "body", "internal", "author", "createdAt"],
        "properties": {
            "id": {"type": "string", "pattern": "^cmt_"},
            "body": TEXT,
            "internal": {"type": "boolean"},
            "author": TEXT,
            "createdAt": TIMESTAMP,
        },
    },
    "DeskTicketSummary": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "publicId",
            "subject",
            "priority",
            "status",
            "email",
            "tags",
            "assignee",
            "createdAt",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^tkt_"},
            "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
            "subject": TEXT,
            "priority": PRIORITY,
            "status": DESK_STATUS,
            "email": TEXT,
            "tags": {"type": "array", "items": TEXT},
            "assignee": nullable(TEXT),
            "createdAt": TIMESTAMP,
        },
    },
    "DeskTicket": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "publicId",
            "subject",
            "body",
            "priority",
            "status",
            "email",
            "tags",
            "assignee",
            "createdAt",
            "updatedAt",
            "productSlug",
            "stage",
            "type",
            "category",
            "source_type",
            "first_response_at",
            "resolved_at",
            "due_at",
            "created_by",
            "updated_by",
            "is_test",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^tkt_"},
            "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
            "subject": TEXT,
            "body": TEXT,
            "priority": PRIORITY,
            "status": DESK_STATUS,
            "email": TEXT,
            "tags": {"type": "array", "items": TEXT},
            "assignee": nullable(TEXT),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "productSlug": nullable(TEXT),
            "stage": STAGE,
            "type": nullable({"enum": list(TICKET_TYPES)}),
            "category": nullable(TEXT),
            "source_type": {"enum": list(SOURCE_TYPES)},
            "first_response_at": MAYBE_TIMESTAMP,
            "resolved_at": MAYBE_TIMESTAMP,
            "due_at": {**MAYBE_TIMESTAMP, "description": "Null until SLA policies exist"},
            "created_by": nullable(TEXT),
            "updated_by": nullable(TEXT),
            "is_test": {"type": "boolean"},
            "comments": {
                "type": "array",
                "items": ref("DeskComment"),
                "description": "All comments, internal notes included (not in the create answer)",
            },
        },
    },
    "DeskTicketPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["tickets", "hasMore"],
        "properties": {
            "tickets": {"type": "array", "items": ref("DeskTicketSummary")},
            "nextCursor": {"type": "string", "description": "Present when hasMore is true"},
            "hasMore": {"type": "boolean"},
        },
    },
    "DeskStats": {
        "type": "object",
        "additionalProperties": False,
        "required": ["byStatus", "avgResolutionTimeHours", "totalTickets"],
        "properties": {
            "byStatus": {
                "type": "object",
                "additionalProperties": False,
                "required": list(DESK_STATUSES),
                "properties": {s: {"type": "integer", "minimum": 0} for s in DESK_STATUSES},
            },
            "avgResolutionTimeHours": {"type": "number", "minimum": 0},
            "totalTickets": {"type": "integer", "minimum": 0},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/desk/tickets": {
        "post": desk_op(
            "Create a ticket",
            {
                "201": ok("Created", ref("DeskTicket"), rate_limited=True),
                **errors(400, 404, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskTicketCreate"),
            description="A test-mode key's tickets are marked is_test and never reach GitHub. "
            "404 `Product not found` for an unknown or out-of-scope productSlug.",
        ),
        "get": desk_op(
            "List tickets, newest first, with filters and cursor pagination",
            {
                "200": ok("A page", ref("DeskTicketPage"), rate_limited=True),
                **errors(400, rate_limited=True),
            },
            parameters=[
                {"name": "status", "in": "query", "schema": DESK_STATUS},
                {"name": "assignee", "in": "query", "schema": text_input()},
                {"name": "priority", "in": "query", "schema": PRIORITY},
                {"name": "tag", "in": "query", "schema": text_input()},
                {
                    "name": "q",
                    "in": "query",
                    "schema": text_input(MAX_QUERY_CHARS),
                    "description": "Search: `TK-00012` or `12` (that ticket), a desk id "
                    "`tkt_…`, a requester's email (exactly), or words that must all be in the "
                    "subject (any case; `%` and `_` are plain characters); blank: no search",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": TEXT,
                    "description": "nextCursor of the previous page, unchanged (any other "
                    "text: 400 Invalid cursor)",
                },
            ],
        ),
    },
    "/api/v1/desk/tickets/{id}": {
        "parameters": [TICKET_ID_PARAM],
        "get": desk_op(
            "A ticket with all its comments (internal notes too)",
            {
                "200": ok("The ticket", ref("DeskTicket"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
        "patch": desk_op(
            "Update status, assignee, priority, tags and the ITSM fields",
            {
                "200": ok("The updated ticket", ref("DeskTicket"), rate_limited=True),
                **errors(400, 404, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskTicketUpdate"),
        ),
        "delete": desk_op(
            "Close and soft-delete a ticket",
            {
                "200": ok("Closed", ref("Success"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
    },
    "/api/v1/desk/tickets/{id}/comments": {
        "parameters": [TICKET_ID_PARAM],
        "post": desk_op(
            "Add a public comment or an internal note",
            {
                "201": ok("Added", ref("DeskComment"), rate_limited=True),
                **errors(400, 404, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskCommentCreate"),
        ),
    },
    "/api/v1/desk/stats": {
        "get": desk_op(
            "Counts by status and mean resolution time, over the key's products",
            {"200": ok("Statistics", ref("DeskStats"), rate_limited=True)},
        )
    },
}
