"""The OpenAPI 3.1 description of every TinyDesk endpoint, served at GET /api/openapi.json.

Written by hand as a Python dict; ``tests/test_openapi.py`` checks that every route is in it
and that the JSON the tests see validates against it.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from bot import __version__
from bot.rules.desk_status import DESK_STATUSES
from bot.tickets.desk import DEFAULT_LIMIT, MAX_LIMIT, MAX_TAG, MAX_TAGS, PRIORITIES, SOURCE_TYPES, TICKET_TYPES
from bot.rules.pipeline import STAGES
from storage.repos.queue import QueueState

routes = web.RouteTableDef()

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


TIMESTAMP = {"type": "string", "format": "date-time", "examples": ["2026-02-17T10:00:00.000Z"]}
MAYBE_TIMESTAMP = nullable(TIMESTAMP)
TEXT = {"type": "string"}
STAGE = {"type": "string", "enum": [s.value for s in STAGES]}
DESK_STATUS = {"type": "string", "enum": list(DESK_STATUSES)}
PRIORITY = {"type": "string", "enum": list(PRIORITIES)}
TAGS = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG},
    "maxItems": MAX_TAGS,
}

RATE_HEADERS = {
    "X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"},
    "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"},
    "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"},
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `error` is the first problem, `fields` lists every failing field",
    401: "Missing or invalid credentials",
    403: "The API is turned off on this server",
    404: "No such resource (or not visible to this key)",
    409: "Conflicts with what exists",
    413: "Request body too large",
    415: "The body is not JSON",
    429: "Too many requests: wait `retryAfter` seconds (also in `Retry-After`)",
    503: "Not configured on this server (the hint says which setting)",
}


def ok(description: str, schema: dict[str, Any], *, rate_limited: bool = False) -> dict:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if rate_limited:
        response["headers"] = dict(RATE_HEADERS)
    return response


def errors(*codes: int, rate_limited: bool = False) -> dict[str, Any]:
    out = {}
    for code in codes:
        response = ok(ERROR_DESCRIPTIONS[code], ref("Error"), rate_limited=rate_limited)
        if code == 429:
            response["headers"] = {
                **response.get("headers", {}),
                "Retry-After": {"$ref": "#/components/headers/Retry-After"},
            }
        out[str(code)] = response
    return out


def body(schema_name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref(schema_name)}}}


DESK = [{"deskKey": []}]
ADMIN = [{"adminToken": []}]
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

QUEUE_QUERY = [
    {"name": "state", "in": "query", "required": False,
     "schema": {"$ref": "#/components/schemas/QueueItemState"}},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
    {"name": "before", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "`nextBefore` of the previous page"},
]
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


def admin_op(summary: str, responses: dict, **extra: Any) -> dict[str, Any]:
    return {"tags": ["admin"], "summary": summary, "security": ADMIN,
            "responses": {**responses, **errors(401, 403)}, **extra}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong"},
            "hint": {"type": "string", "description": "How to fix it"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Every failing field and its message (validation errors)",
            },
            "retryAfter": {"type": "integer", "minimum": 1},
            "requestId": {"type": "string"},
        },
    },
    "Success": {
        "type": "object",
        "required": ["success", "message"],
        "properties": {"success": {"const": True}, "message": TEXT},
    },
    "Health": {
        "type": "object",
        "required": ["status", "version", "database", "github"],
        "properties": {
            "status": {"enum": ["ok", "degraded"]},
            "version": TEXT,
            "database": {"enum": ["ok", "unreachable"]},
            "github": {"enum": ["configured", "not configured"]},
        },
    },
    # --- public API (seed 000) ---
    "TicketSubmission": {
        "type": "object",
        "required": ["productSlug", "submitterEmail", "subject", "body"],
        "properties": {
            "productSlug": TEXT,
            "submitterEmail": {"type": "string", "format": "email"},
            "submitterName": {"type": "string", "maxLength": 200},
            "subject": {"type": "string", "maxLength": 256},
            "body": {"type": "string", "description": "At most 64 KiB"},
            "screenshots": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": "string", "format": "uri"},
            },
        },
    },
    "TicketReceipt": {
        "type": "object",
        "additionalProperties": False,
        "required": ["publicId", "status", "createdAt", "trackingToken", "trackingUrl"],
        "properties": {
            "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
            "status": STAGE,
            "createdAt": TIMESTAMP,
            "trackingToken": {
                "type": "string",
                "description": "Shown once; reveals the subject and public comments",
            },
            "trackingUrl": {"type": "string", "format": "uri"},
        },
    },
    "PipelineStage": {
        "type": "object",
        "required": ["stage", "title", "description", "reached", "reachedAt", "current"],
        "properties": {
            "stage": STAGE,
            "title": TEXT,
            "description": TEXT,
            "reached": {"type": "boolean"},
            "reachedAt": MAYBE_TIMESTAMP,
            "current": {"type": "boolean"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "required": ["from", "to", "at", "description"],
        "properties": {"from": nullable(STAGE), "to": STAGE, "at": TIMESTAMP, "description": TEXT},
    },
    "PublicComment": {
        "type": "object",
        "additionalProperties": False,
        "required": ["body", "author", "createdAt"],
        "properties": {"body": TEXT, "author": TEXT, "createdAt": TIMESTAMP},
    },
    "PublicTicket": {
        "type": "object",
        "additionalProperties": False,
        "required": ["publicId", "status", "pipeline", "history", "createdAt", "updatedAt"],
        "properties": {
            "publicId": TEXT,
            "status": STAGE,
            "pipeline": {"type": "array", "items": ref("PipelineStage")},
            "history": {"type": "array", "items": ref("HistoryEntry")},
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "subject": {"type": "string", "description": "Only with the tracking token"},
            "comments": {
                "type": "array",
                "items": ref("PublicComment"),
                "description": "Public comments, only with the tracking token",
            },
        },
    },
    # --- desk API (seed 001, with seed 002's ITSM fields) ---
    "DeskTicketCreate": {
        "type": "object",
        "required": ["subject", "body", "email"],
        "properties": {
            "subject": {"type": "string", "maxLength": 256},
            "body": TEXT,
            "email": {"type": "string", "format": "email"},
            "priority": {**PRIORITY, "default": "medium"},
            "tags": TAGS,
            "productSlug": {
                "type": "string",
                "description": "The product (and so GitHub repository) the ticket goes to; "
                "defaults to the key's only product",
            },
            "type": {"enum": list(TICKET_TYPES)},
            "category": {"type": "string", "maxLength": 100},
            "source_type": {"enum": list(SOURCE_TYPES), "default": "api"},
        },
    },
    "DeskTicketUpdate": {
        "type": "object",
        "properties": {
            "status": DESK_STATUS,
            "assignee": nullable({"type": "string", "maxLength": 320}),
            "priority": PRIORITY,
            "tags": TAGS,
            "type": nullable({"enum": list(TICKET_TYPES)}),
            "category": nullable({"type": "string", "maxLength": 100}),
            "source_type": {"enum": list(SOURCE_TYPES)},
        },
    },
    "DeskCommentCreate": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": TEXT, "internal": {"type": "boolean", "default": False}},
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
    # --- admin API ---
    "ProductCreate": {
        "type": "object",
        "required": ["slug", "repo"],
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 64},
            "repo": {"type": "string", "description": "OWNER/NAME"},
            "name": TEXT,
            "deploymentTracking": {"type": "boolean", "default": True},
            "productionEnvironments": {"type": "array", "items": TEXT, "minItems": 1},
        },
    },
    "Product": {
        "type": "object",
        "required": [
            "slug",
            "name",
            "repo",
            "installationId",
            "appInstalled",
            "deploymentTracking",
            "productionEnvironments",
            "createdAt",
        ],
        "properties": {
            "slug": TEXT,
            "name": TEXT,
            "repo": TEXT,
            "installationId": nullable({"type": "integer"}),
            "appInstalled": {"type": "boolean"},
            "deploymentTracking": {"type": "boolean"},
            "productionEnvironments": {"type": "array", "items": TEXT},
            "createdAt": TIMESTAMP,
        },
    },
    "ProductList": {
        "type": "object",
        "required": ["products"],
        "properties": {"products": {"type": "array", "items": ref("Product")}},
    },
    "ApiKeyCreate": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "products": {
                "type": "array",
                "items": TEXT,
                "description": "Product slugs the key is limited to; empty or absent: all",
            },
            "test": {"type": "boolean", "default": False},
        },
    },
    "ApiKey": {
        "type": "object",
        "required": [
            "id",
            "name",
            "prefix",
            "mode",
            "products",
            "createdAt",
            "lastUsedAt",
            "revokedAt",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^key_"},
            "name": TEXT,
            "prefix": {"type": "string", "description": "The key's first characters"},
            "mode": {"enum": ["live", "test"]},
            "products": {"type": "array", "items": TEXT},
            "createdAt": TIMESTAMP,
            "lastUsedAt": MAYBE_TIMESTAMP,
            "revokedAt": MAYBE_TIMESTAMP,
        },
    },
    "ApiKeyCreated": {
        "allOf": [
            ref("ApiKey"),
            {
                "type": "object",
                "required": ["key"],
                "properties": {
                    "key": {
                        "type": "string",
                        "pattern": "^td_(live|test)_[0-9A-Za-z]{38}$",
                        "description": "The key itself; shown only in this answer",
                    }
                },
            },
        ]
    },
    "ApiKeyList": {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": ref("ApiKey")}},
    },
    "QueueItemState": {"type": "string", "enum": [state.value for state in QueueState]},
    "Delivery": {
        "type": "object",
        "required": ["id", "deliveryId", "event", "action", "state", "attempts", "lastError",
                     "receivedAt", "processedAt", "nextAttemptAt"],
        "properties": {
            "id": {"type": "integer"},
            "deliveryId": TEXT,
            "event": TEXT,
            "action": nullable(TEXT),
            "state": {"$ref": "#/components/schemas/QueueItemState"},
            "attempts": {"type": "integer"},
            "lastError": nullable(TEXT),
            "receivedAt": TEXT,
            "processedAt": nullable(TEXT),
            "nextAttemptAt": nullable(TEXT),
        },
    },
    "DeliveryList": {
        "type": "object",
        "required": ["deliveries", "nextBefore"],
        "properties": {
            "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}},
            "nextBefore": nullable({"type": "integer"}),
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "kind", "args", "state", "attempts", "lastError", "createdAt", "doneAt",
                     "nextAttemptAt"],
        "properties": {
            "id": {"type": "integer"},
            "kind": TEXT,
            "args": {"type": "object"},
            "state": {"$ref": "#/components/schemas/QueueItemState"},
            "attempts": {"type": "integer"},
            "lastError": nullable(TEXT),
            "createdAt": TEXT,
            "doneAt": nullable(TEXT),
            "nextAttemptAt": nullable(TEXT),
        },
    },
    "JobList": {
        "type": "object",
        "required": ["jobs", "nextBefore"],
        "properties": {
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
            "nextBefore": nullable({"type": "integer"}),
        },
    },
    "Replayed": {
        "type": "object",
        "required": ["id", "state"],
        "properties": {"id": {"type": "integer"}, "state": {"const": "pending"}},
    },
    "TicketLink": {
        "type": "object",
        "required": ["issue"],
        "properties": {"issue": {"type": "integer", "minimum": 1}},
    },
    "TicketLinked": {
        "type": "object",
        "required": ["publicId", "issue", "status"],
        "properties": {"publicId": TEXT, "issue": {"type": "integer"}, "status": TEXT},
    },
}

PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "tags": ["operations"],
            "summary": "Health: the database and whether the GitHub App is configured",
            "responses": {
                "200": ok("Healthy", ref("Health")),
                "503": ok("The database is unreachable", ref("Health")),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "tags": ["operations"],
            "summary": "This OpenAPI 3.1 document",
            "responses": {"200": ok("The document", {"type": "object"})},
        }
    },
    "/webhooks/github": {
        "post": {
            "tags": ["github"],
            "summary": "GitHub webhook deliveries",
            "description": "Only deliveries whose `X-Hub-Signature-256` verifies against the "
            "webhook secret are accepted; they are stored and answered 202 at once, then "
            "processed in the background. A delivery seen twice (same `X-GitHub-Delivery`) "
            "has its effects once.",
            "parameters": [
                {"name": "X-GitHub-Event", "in": "header", "required": True, "schema": TEXT},
                {"name": "X-GitHub-Delivery", "in": "header", "required": True, "schema": TEXT},
                {"name": "X-Hub-Signature-256", "in": "header", "required": True, "schema": TEXT},
            ],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}}}},
            "responses": {
                "202": {
                    "description": "Verified and stored for processing",
                    # The receiver's acknowledgement; clients (GitHub) ignore its body.
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                **errors(400, 401, 413, 415, 503),
            },
        }
    },
    "/api/tickets": {
        "post": {
            "tags": ["public"],
            "summary": "Submit a ticket (no login); returns its publicId and a tracking token",
            "requestBody": body("TicketSubmission"),
            "responses": {
                "201": {
                    **ok("Stored at RECEIVED", ref("TicketReceipt"), rate_limited=True),
                },
                **errors(400, 404, 413, 415, 429, rate_limited=True),
            },
        }
    },
    "/api/tickets/{publicId}": {
        "get": {
            "tags": ["public"],
            "summary": "Track a ticket: stage, pipeline and history; subject and public "
            "comments with the tracking token",
            "parameters": [
                {
                    "name": "publicId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "examples": ["TK-00042"]},
                },
                {"name": "token", "in": "query", "required": False, "schema": TEXT},
                {"name": "X-Tracking-Token", "in": "header", "required": False, "schema": TEXT},
            ],
            "responses": {
                "200": ok("The tracking view", ref("PublicTicket"), rate_limited=True),
                **errors(404, 429, rate_limited=True),
            },
        }
    },
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
                {"name": "assignee", "in": "query", "schema": TEXT},
                {"name": "priority", "in": "query", "schema": PRIORITY},
                {"name": "tag", "in": "query", "schema": TEXT},
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
                    "description": "nextCursor of the previous page",
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
    "/api/admin/products": {
        "get": {
            "tags": ["admin"],
            "summary": "List products",
            "security": ADMIN,
            "responses": {"200": ok("Products", ref("ProductList")), **errors(401, 403)},
        },
        "post": {
            "tags": ["admin"],
            "summary": "Register a product and its GitHub repository",
            "security": ADMIN,
            "requestBody": body("ProductCreate"),
            "responses": {
                "201": ok("Registered", ref("Product")),
                **errors(400, 401, 403, 409, 413, 415),
            },
        },
    },
    "/api/admin/products/{slug}": {
        "delete": {
            "tags": ["admin"],
            "summary": "Remove a product (its tickets are kept)",
            "security": ADMIN,
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": TEXT}],
            "responses": {"200": ok("Removed", ref("Success")), **errors(401, 403, 404)},
        }
    },
    "/api/admin/keys": {
        "get": {
            "tags": ["admin"],
            "summary": "List desk API keys (never the keys themselves)",
            "security": ADMIN,
            "responses": {"200": ok("Keys", ref("ApiKeyList")), **errors(401, 403)},
        },
        "post": {
            "tags": ["admin"],
            "summary": "Create a desk API key; the key is in this answer only",
            "security": ADMIN,
            "requestBody": body("ApiKeyCreate"),
            "responses": {
                "201": ok("Created", ref("ApiKeyCreated")),
                **errors(400, 401, 403, 404, 413, 415),
            },
        },
    },
    "/api/admin/keys/{id}": {
        "delete": {
            "tags": ["admin"],
            "summary": "Revoke a desk API key",
            "security": ADMIN,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": TEXT}],
            "responses": {"200": ok("Revoked", ref("Success")), **errors(401, 403, 404)},
        }
    },
    "/api/admin/deliveries": {
        "get": admin_op(
            "Webhook deliveries, newest first (`?state=failed` for those needing a look)",
            {"200": ok("Deliveries", ref("DeliveryList")), **errors(400)},
            parameters=QUEUE_QUERY,
        )
    },
    "/api/admin/deliveries/{id}/replay": {
        "post": admin_op(
            "Process a failed delivery again",
            {"202": ok("Queued again", ref("Replayed")), **errors(404, 409)},
            parameters=ID_PARAM,
        )
    },
    "/api/admin/jobs": {
        "get": admin_op(
            "GitHub work (issues, status comments), newest first",
            {"200": ok("Jobs", ref("JobList")), **errors(400)},
            parameters=QUEUE_QUERY,
        )
    },
    "/api/admin/jobs/{id}/replay": {
        "post": admin_op(
            "Run a failed GitHub job again",
            {"202": ok("Queued again", ref("Replayed")), **errors(404, 409)},
            parameters=ID_PARAM,
        )
    },
    "/api/admin/tickets/{public_id}/link": {
        "post": admin_op(
            "Attach a ticket to an existing issue of its product (e.g. a duplicate)",
            {"200": ok("Linked", ref("TicketLinked")), **errors(400, 404, 409, 413, 415)},
            parameters=[{"name": "public_id", "in": "path", "required": True, "schema": TEXT}],
            requestBody=body("TicketLink"),
        )
    },
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "TinyDesk",
        "version": __version__,
        "description": "Support tickets that follow their fix through GitHub: a public "
        "intake and tracking API, a staff help-desk API (keys: `td_live_…`, `td_test_…`) "
        "and an admin API.",
    },
    "tags": [
        {"name": "public", "description": "Submitters and their agents; no login"},
        {"name": "desk", "description": "Support staff, with a desk API key"},
        {"name": "admin", "description": "Admins, with TINYDESK_ADMIN_TOKEN"},
        {"name": "github", "description": "The GitHub App's webhooks"},
        {"name": "operations", "description": "Health and this document"},
    ],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "deskKey": {"type": "http", "scheme": "bearer", "description": "A desk API key"},
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "TINYDESK_ADMIN_TOKEN",
            },
        },
        "headers": {
            "X-RateLimit-Limit": {
                "description": "Requests allowed in the window",
                "schema": {"type": "integer"},
            },
            "X-RateLimit-Remaining": {
                "description": "Requests left in the window",
                "schema": {"type": "integer"},
            },
            "X-RateLimit-Reset": {
                "description": "When the window ends (epoch seconds)",
                "schema": {"type": "integer"},
            },
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
        },
    },
}


def spec() -> dict[str, Any]:
    """A copy of the document, safe for callers to change."""
    return copy.deepcopy(SPEC)


@routes.get("/api/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(SPEC)
