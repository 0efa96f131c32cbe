"""The OpenAPI description of the staff desk API (seed 001, with seed 002's ITSM fields)."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.parts import (
    CALLBACK_SECRET,
    CALLBACK_URL,
    EXTRA_FIELDS,
    IDEMPOTENCY_KEY,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    SPACE_CHARS,
    STAGE,
    TEXT,
    TIMESTAMP,
    body,
    errors,
    nullable,
    ok,
    ref,
    replayable,
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
    STORED_SOURCE_TYPES,
    TICKET_TYPES,
)
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.templates import ID_CHARS
from bot.rules.templates import MAX_NAME as MAX_TEMPLATE_NAME
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

TEMPLATE_NAME = {
    **required_text(MAX_TEMPLATE_NAME),
    # Trimmed first, as the server trims it.
    "not": {"pattern": f"^[{SPACE_CHARS}]*tpl_{ID_CHARS}[{SPACE_CHARS}]*$"},
    "description": "Unique; not an id (`tpl_` and up to 36 letters, digits, `-` or `_`)",
}

# The desk lists' paging (seed 001): page size and the opaque cursor.
PAGE_PARAMS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": TEXT,
        "description": "nextCursor of the previous page, unchanged (any other text: 400 "
        "Invalid cursor)",
    },
]

DESK: list[dict[str, list[str]]] = [{"deskKey": []}]
TICKET_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The ticket's desk id (`tkt_…`) or its publicId (`TK-00042`)",
    "schema": TEXT,
}


TEMPLATE_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The template's id (`tpl_…`) or its exact name (URL-encoded; a name with "
    "a `/` is reached by its id)",
    "schema": TEXT,
}


SHARED_REFUSED = ok(
    "A key limited to products may not change a template of no product",
    ref("Error"),
    rate_limited=True,
)


def template_fields(*, nulls: bool) -> dict[str, Any]:
    """What a template pre-fills, in a request: each field nullable (null: no value)."""
    return {
        "subject": nullable(text_input(MAX_SUBJECT)),
        "body": nullable(text_input()),
        "priority": nullable(PRIORITY),
        "type": nullable({"enum": list(TICKET_TYPES)}),
        "category": nullable(text_input(MAX_CATEGORY)),
        "tags": nullable(TAGS),
        "productSlug": {
            **nullable(text_input(MAX_SLUG)),
            "description": "The product the template is for (a registered one, in the key's "
            "scope); null: every product's"
            + ("" if nulls else "; a key limited to one product defaults to it"),
        },
    }


def desk_op(summary: str, responses: dict, **extra: Any) -> dict[str, Any]:
    """A desk operation: key auth, rate-limit headers, 401 and 429 on every one."""
    return {
        "tags": ["desk"],
        "summary": summary,
        "security": DESK,
        "responses": {**responses, **errors(401, 403, 429, rate_limited=True)},
        **extra,
    }


SCHEMAS: dict[str, Any] = {
    "DeskTicketCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["email"],
        "anyOf": [{"required": ["subject", "body"]}, {"required": ["template"]}],
        "properties": {
            "subject": required_text(MAX_SUBJECT),
            "body": required_text(),
            "email": EMAIL,
            "template": {
                **nullable(text_input(MAX_TEMPLATE_NAME)),
                "description": "A template's id (`tpl_…`) or exact name: the fields this "
                "request leaves out (or sends as null) are taken from it; subject and body are "
                "then required only if the template has none; blank: no template",
            },
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
            "emailUpdates": {
                **nullable({"type": "boolean"}),
                "default": True,
                "description": "Mail the submitter at intake and at each step they care "
                'about, when TinyDesk sends mail (README, "Email out"); false: no mail until '
                "they ask for it on the tracking page",
            },
            "callbackUrl": CALLBACK_URL,
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
            "sla_policy",
            "first_response_due_at",
            "sla",
        ],
        "properties": {
            "callbackSecret": CALLBACK_SECRET,
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
            "source_type": {"enum": list(STORED_SOURCE_TYPES)},
            "first_response_at": MAYBE_TIMESTAMP,
            "resolved_at": MAYBE_TIMESTAMP,
            "due_at": {
                **MAYBE_TIMESTAMP,
                "description": "When the resolution target falls due (seed 002; the SLA policy's)",
            },
            "first_response_due_at": {
                **MAYBE_TIMESTAMP,
                "description": "When the response target falls due",
            },
            "sla_policy": {
                **nullable(TEXT),
                "description": "The SLA policy governing it (seed 002)",
            },
            "sla": {
                "oneOf": [ref("TicketSla"), {"type": "null"}],
                "description": "Both SLA clocks as they stand (null: no working time ahead)",
            },
            "created_by": nullable(TEXT),
            "updated_by": nullable(TEXT),
            "is_test": {"type": "boolean"},
            "comments": {
                "type": "array",
                "items": ref("DeskComment"),
                "description": "All comments, internal notes included (not in the create answer)",
            },
            "attachments": {
                "type": "array",
                "items": ref("DeskAttachment"),
                "description": "The files kept from the mail the ticket came in and its "
                "replies (only in GET /desk/tickets/{id}; the bytes: "
                "GET /desk/tickets/{id}/attachments/{attachmentId})",
            },
            "slaEvents": {
                "type": "array",
                "items": ref("DeskSlaEvent"),
                "description": "The SLA warnings and breaches told of this ticket, earliest "
                "first, each once (only in GET /desk/tickets/{id})",
            },
            "time": {
                "type": "object",
                "additionalProperties": False,
                "required": ["entries", "minutes", "billableMinutes", "nonBillableMinutes"],
                "description": "The time logged on the ticket (only in GET /desk/tickets/{id}; "
                "the entries: GET /desk/tickets/{id}/time)",
                "properties": {
                    "entries": {"type": "integer", "minimum": 0},
                    "minutes": {"type": "integer", "minimum": 0},
                    "billableMinutes": {"type": "integer", "minimum": 0},
                    "nonBillableMinutes": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
    "DeskSlaEvent": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "clock", "dueAt", "at"],
        "properties": {
            "kind": {"enum": ["warning", "breach"]},
            "clock": {"enum": ["response", "resolution"]},
            "dueAt": {**TIMESTAMP, "description": "The due time the event is about"},
            "at": {**TIMESTAMP, "description": "When TinyDesk recorded it"},
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
    "DeskTemplateCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["name"],
        "properties": {"name": TEMPLATE_NAME, **template_fields(nulls=False)},
    },
    "DeskTemplateUpdate": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {"name": TEMPLATE_NAME, **template_fields(nulls=True)},
        "description": "The fields sent change; null clears one",
    },
    "DeskTemplate": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "name",
            "subject",
            "body",
            "priority",
            "type",
            "category",
            "tags",
            "productSlug",
            "createdAt",
            "updatedAt",
            "createdBy",
            "updatedBy",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^tpl_"},
            "name": TEXT,
            "subject": nullable(TEXT),
            "body": nullable(TEXT),
            "priority": nullable(PRIORITY),
            "type": nullable({"enum": list(TICKET_TYPES)}),
            "category": nullable(TEXT),
            "tags": {"type": "array", "items": TEXT},
            "productSlug": nullable(TEXT),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "createdBy": nullable(TEXT),
            "updatedBy": nullable(TEXT),
        },
    },
    "DeskTemplatePage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["templates", "hasMore"],
        "properties": {
            "templates": {"type": "array", "items": ref("DeskTemplate")},
            "nextCursor": {"type": "string", "description": "Present when hasMore is true"},
            "hasMore": {"type": "boolean"},
        },
    },
    "DeskStats": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "byStatus",
            "avgResolutionTimeHours",
            "totalTickets",
            "avgResolutionBusinessHours",
            "sla",
        ],
        "properties": {
            "byStatus": {
                "type": "object",
                "additionalProperties": False,
                "required": list(DESK_STATUSES),
                "properties": {s: {"type": "integer", "minimum": 0} for s in DESK_STATUSES},
            },
            "avgResolutionTimeHours": {
                "type": "number",
                "minimum": 0,
                "description": "Wall-clock hours from creation to resolution (seed 001)",
            },
            "totalTickets": {"type": "integer", "minimum": 0},
            "avgResolutionBusinessHours": {
                "type": "number",
                "minimum": 0,
                "description": "Business hours (each ticket's SLA calendar, pauses left out) "
                "its current resolution cycle took, over the resolved tickets; 0 when none",
            },
            "sla": ref("DeskSlaStats"),
        },
    },
    "DeskSlaTarget": {
        "type": "object",
        "additionalProperties": False,
        "required": ["met", "breached", "percentMet"],
        "properties": {
            "met": {"type": "integer", "minimum": 0, "description": "Clocks that ended in time"},
            "breached": {
                "type": "integer",
                "minimum": 0,
                "description": "Clocks that stopped after their due time, and running clocks "
                "overdue now",
            },
            "percentMet": nullable({"type": "number", "minimum": 0, "maximum": 100})
            | {"description": "met / (met + breached) * 100, one decimal; null when both are 0"},
        },
    },
    "DeskSlaStats": {
        "type": "object",
        "additionalProperties": False,
        "required": ["response", "resolution", "byPriority", "breached", "atRisk"],
        "properties": {
            "response": ref("DeskSlaTarget"),
            "resolution": ref("DeskSlaTarget"),
            "byPriority": {
                "type": "object",
                "additionalProperties": False,
                "required": list(PRIORITIES),
                "properties": {
                    p: {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["response", "resolution"],
                        "properties": {
                            "response": ref("DeskSlaTarget"),
                            "resolution": ref("DeskSlaTarget"),
                        },
                    }
                    for p in PRIORITIES
                },
            },
            "breached": {
                "type": "integer",
                "minimum": 0,
                "description": "Tickets with a running clock overdue now",
            },
            "atRisk": {
                "type": "integer",
                "minimum": 0,
                "description": "Tickets with no clock overdue and a running one due within "
                "the next 60 minutes (the breach list's dueWithin=60m)",
            },
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/desk/tickets": {
        "post": desk_op(
            "Create a ticket",
            {
                "201": replayable(ok("Created", ref("DeskTicket"), rate_limited=True)),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskTicketCreate"),
            parameters=[IDEMPOTENCY_KEY],
            description="A test-mode key's tickets are marked is_test and never reach GitHub. "
            "404 `Product not found` for an unknown or out-of-scope productSlug (also when "
            "it comes from the template). 400 `Unknown template` (`fields.template`) for a "
            "template this key does not see; nothing is created.",
        ),
        "get": desk_op(
            "List tickets, newest first, with filters and cursor pagination",
            {
                "200": ok("A page", ref("DeskTicketPage"), rate_limited=True),
                **errors(400, 404, rate_limited=True),
            },
            parameters=[
                {"name": "status", "in": "query", "schema": DESK_STATUS},
                {"name": "assignee", "in": "query", "schema": text_input()},
                {"name": "priority", "in": "query", "schema": PRIORITY},
                {"name": "tag", "in": "query", "schema": text_input()},
                {
                    "name": "stage",
                    "in": "query",
                    "schema": STAGE,
                    "description": "Only tickets at this pipeline stage",
                },
                {
                    "name": "productSlug",
                    "in": "query",
                    "schema": text_input(),
                    "description": "Only this product's tickets; 404 `Product not found` for "
                    "a product that is unknown or outside the key's scope",
                },
                {
                    "name": "q",
                    "in": "query",
                    "schema": text_input(MAX_QUERY_CHARS),
                    "description": "Search: `TK-00012` or `12` (that ticket), a desk id "
                    "`tkt_…`, a requester's email (exactly), or words that must all be in the "
                    "subject (any case; `%` and `_` are plain characters); blank: no search",
                },
                *PAGE_PARAMS,
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
    "/api/v1/desk/templates": {
        "get": desk_op(
            "List ticket templates, newest first, with cursor pagination",
            {
                "200": ok("A page", ref("DeskTemplatePage"), rate_limited=True),
                **errors(400, rate_limited=True),
            },
            parameters=PAGE_PARAMS,
            description="A key limited to products sees their templates and those of no product.",
        ),
        "post": desk_op(
            "Create a ticket template (seed 003)",
            {
                "201": ok("Created", ref("DeskTemplate"), rate_limited=True),
                **errors(400, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskTemplateCreate"),
            description="400 for an unknown or out-of-scope productSlug (`fields.productSlug`); "
            "409 `Template already exists` for a name in use. A key limited to several "
            "products must name one of them.",
        ),
    },
    "/api/v1/desk/templates/{id}": {
        "parameters": [TEMPLATE_ID_PARAM],
        "get": desk_op(
            "A ticket template",
            {
                "200": ok("The template", ref("DeskTemplate"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
        "patch": desk_op(
            "Change a ticket template",
            {
                "200": ok("The changed template", ref("DeskTemplate"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
                "403": SHARED_REFUSED,
            },
            requestBody=body("DeskTemplateUpdate"),
            description="403 `Template is shared` when a key limited to products changes a "
            "template of no product.",
        ),
        "delete": desk_op(
            "Delete a ticket template (tickets made from it are kept)",
            {
                "200": ok("Deleted", ref("Success"), rate_limited=True),
                **errors(404, rate_limited=True),
                "403": SHARED_REFUSED,
            },
        ),
    },
}
