"""The OpenAPI description of the admin API: products, desk API keys, ticket templates, the
queues, ticket links."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.api.openapi.desk import TEMPLATE_ID_PARAM
from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    ROW_ID,
    TENANT_ID,
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
from bot.rules.numbers import MAX_ISSUE_NUMBER
from bot.rules.public_names import MAX_PUBLIC_NAME
from bot.rules.safetext import ISSUE_TEXT_VALUES
from bot.tickets import sla_webhook
from bot.tickets.apikeys import MAX_NAME as MAX_KEY_NAME
from bot.tickets.apikeys import MAX_PRODUCTS
from bot.tickets.products import MAX_SLUG, SLUG
from storage.models import QueueState

ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
QUEUE_QUERY = [
    {
        "name": "state",
        "in": "query",
        "required": False,
        "schema": {"$ref": "#/components/schemas/QueueItemState"},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "before",
        "in": "query",
        "required": False,
        "schema": ROW_ID,
        "description": "`nextBefore` of the previous page",
    },
]
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": ROW_ID}]
# GitHub's own rules: owners are 1-39 letters, digits and dashes; names 1-100 letters, digits,
# dots, dashes and underscores, but not "." or ".." (bot/tickets/products.REPO).
REPO_PATTERN = (
    "^[A-Za-z0-9][A-Za-z0-9-]{0,38}/"
    "(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}"
    "|\\.\\.[A-Za-z0-9._-]{1,98})$"
)
ENVIRONMENTS = {"type": "array", "items": required_text(255), "minItems": 1}
KEY_NAME = required_text(MAX_KEY_NAME)


ISSUE_TEXT = nullable({"enum": list(ISSUE_TEXT_VALUES)}) | {
    "description": "How much submitter text the product's GitHub issues carry (mentions and "
    "references are always neutralised): `full`; `scrubbed` (emails, phone numbers, IP "
    "addresses, credentials and secrets redacted); `subject-only` (the scrubbed subject and a "
    "pointer to TinyDesk). null: `scrubbed` on a public repository, `full` on a private one "
    "(read from GitHub; `scrubbed` when GitHub cannot say)."
}


SLA_POLICY = nullable(required_text(100)) | {
    "description": "The name of the SLA policy for the product's new tickets; null: the default "
    "policy. Changing it moves no existing ticket: each keeps the policy it was opened under."
}


def _refused_in_public_names() -> str:
    """The characters of what bot/rules/public_names refuses: @, FULLWIDTH COMMERCIAL
    AT, line breaks and every control, format and private-use character (as \\u escapes in
    the BMP, literal characters beyond it, which every regex engine reads alike)."""
    refused = [ord("@"), 0xFF20]
    for plane in (range(0x0000, 0xD800), range(0xE000, 0x20000), range(0xE0000, 0xE1000)):
        refused += [c for c in plane if unicodedata.category(chr(c)) in ("Cc", "Cf", "Co")]
    ranges: list[list[int]] = []
    for c in sorted(refused):
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    ranges.append([0xF0000, 0x10FFFF])  # the private-use planes 15 and 16

    def char(c: int) -> str:
        return f"\\u{c:04x}" if c <= 0xFFFF else chr(c)

    return "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}" for lo, hi in ranges)


PUBLIC_NAME = nullable(
    {
        "type": "string",
        "maxLength": MAX_PUBLIC_NAME,
        # "not" rather than an anchored pattern: Python's $ also matches before a last "\\n".
        "not": {"pattern": f"[{_refused_in_public_names()}]"},
    }
) | {
    "description": "What submitters see as the author of this key's public comments (one line, "
    'no @); null: "Support team". The key\'s `name` is never shown to submitters.'
}


SLA_WEBHOOK_URL = nullable(
    {"type": "string", "pattern": sla_webhook.URL_PATTERN, "maxLength": sla_webhook.MAX_URL}
) | {
    "description": "Where SLA warnings and breaches are POSTed, signed (README, 'SLA "
    "webhooks'): https, or http to 127.0.0.1 or localhost; null removes the webhook. The "
    "first URL makes a signing secret, returned once as `slaWebhookSecret`."
}


def admin_op(summary: str, responses: dict, **extra: Any) -> dict[str, Any]:
    return {
        "tags": ["admin"],
        "summary": summary,
        "security": ADMIN,
        "responses": {**responses, **errors(401, 403)},
        **extra,
    }


MAIL_ADDRESS = {
    # The server's rule is is_email: the format and the pattern keep generated ones to it.
    **nullable({**EMAIL, "maxLength": 320}),
    "description": "An address whose mail opens tickets of this product (besides "
    "support+<slug>@…); null: none",
}

SCHEMAS: dict[str, Any] = {
    "TemplateList": {
        "type": "object",
        "required": ["templates"],
        "properties": {"templates": {"type": "array", "items": ref("DeskTemplate")}},
    },
    "ProductCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["slug", "repo"],
        "properties": {
            "slug": {
                "type": "string",
                "pattern": SLUG.pattern,
                "minLength": 1,
                "maxLength": MAX_SLUG,
            },
            "repo": {
                "type": "string",
                "pattern": REPO_PATTERN,
                "minLength": 3,
                "maxLength": 140,
                "description": "OWNER/NAME of the GitHub repository",
            },
            "name": nullable(text_input(200)),
            "deploymentTracking": {"type": "boolean", "default": True},
            "productionEnvironments": ENVIRONMENTS,
            "issueText": ISSUE_TEXT,
            "mailAddress": MAIL_ADDRESS,
            "tenant": {
                **nullable(TENANT_ID),
                "description": "The organisation the product belongs to (default: `default`); "
                "its tickets are that tenant's",
            },
        },
    },
    "ProductUpdate": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "name": required_text(200),
            "deploymentTracking": {"type": "boolean"},
            "productionEnvironments": ENVIRONMENTS,
            "issueText": ISSUE_TEXT,
            "slaWebhookUrl": SLA_WEBHOOK_URL,
            "rotateSlaWebhookSecret": {
                "const": True,
                "description": "Make a new signing secret (shown once in the response)",
            },
            "slaPolicy": SLA_POLICY,
            "mailAddress": MAIL_ADDRESS,
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
            "issueText",
            "slaPolicy",
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
            "issueText": ISSUE_TEXT,
            "slaPolicy": SLA_POLICY,
            "createdAt": TIMESTAMP,
            "slaWebhookUrl": nullable(TEXT),
            "mailAddress": {
                **nullable(TEXT),
                "description": "Mail to it opens tickets of this product (besides "
                "plus-addressing: support+<slug>@…); stored lowercase",
            },
            "slaWebhookSecret": {
                "type": "string",
                "description": "The SLA webhook's signing secret: only in the PATCH response "
                "that set the first URL or rotated the secret, never again",
            },
            "tenant": TENANT_ID,
        },
    },
    "ProductList": {
        "type": "object",
        "required": ["products"],
        "properties": {"products": {"type": "array", "items": ref("Product")}},
    },
    "ApiKeyCreate": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["name"],
        "properties": {
            "name": KEY_NAME,
            "products": {
                **nullable({"type": "array", "items": required_text(), "maxItems": MAX_PRODUCTS}),
                "description": "Product slugs the key is limited to; empty or absent: all",
            },
            "test": {"type": "boolean", "default": False},
            "publicName": PUBLIC_NAME,
            "tenant": {
                **nullable(TENANT_ID),
                "description": "The organisation the key acts for (default: `default`); its "
                "products must be that tenant's, and it sees no other tenant's tickets",
            },
            "app": {
                **nullable(TENANT_ID),
                "description": "The application the key is made for: stamped on its tickets "
                "as app_id, and its ITSM reads are limited to them",
            },
            "staff": {
                **nullable({"type": "string", "pattern": "^stf_[0-9A-Za-z]{1,36}$"}),
                "description": "The staff account the key belongs to: its comments and time "
                "are that person's, and it does what their role may",
            },
        },
    },
    "ApiKeyUpdate": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "name": KEY_NAME,
            "publicName": PUBLIC_NAME,
        },
    },
    "ApiKey": {
        "type": "object",
        "required": [
            "id",
            "name",
            "publicName",
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
            "publicName": PUBLIC_NAME,
            "prefix": {"type": "string", "description": "The key's first characters"},
            "mode": {"enum": ["live", "test"]},
            "products": {"type": "array", "items": TEXT},
            "createdAt": TIMESTAMP,
            "lastUsedAt": MAYBE_TIMESTAMP,
            "revokedAt": MAYBE_TIMESTAMP,
            "tenant": TENANT_ID,
            "app": nullable(TENANT_ID),
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
        "required": [
            "id",
            "deliveryId",
            "event",
            "action",
            "state",
            "attempts",
            "lastError",
            "receivedAt",
            "processedAt",
            "nextAttemptAt",
        ],
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
        "required": [
            "id",
            "kind",
            "args",
            "state",
            "attempts",
            "lastError",
            "createdAt",
            "doneAt",
            "nextAttemptAt",
        ],
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
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["issue"],
        "properties": {
            "issue": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ISSUE_NUMBER,
                "description": "The issue number; 12 and 12.0 are the same number",
            }
        },
    },
    "TicketLinked": {
        "type": "object",
        "required": ["publicId", "issue", "status"],
        "properties": {"publicId": TEXT, "issue": {"type": "integer"}, "status": TEXT},
    },
}

PATHS: dict[str, Any] = {
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
        "patch": admin_op(
            "Change a product's settings (name, deployments, issue text, SLA policy and webhook)",
            {"200": ok("Changed", ref("Product")), **errors(400, 404, 409, 413, 415)},
            parameters=[{"name": "slug", "in": "path", "required": True, "schema": TEXT}],
            requestBody=body("ProductUpdate"),
        ),
        "delete": {
            "tags": ["admin"],
            "summary": "Remove a product (its tickets are kept)",
            "security": ADMIN,
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": TEXT}],
            "responses": {"200": ok("Removed", ref("Success")), **errors(401, 403, 404)},
        },
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
        "patch": admin_op(
            "Rename a desk API key or change its public name (not once revoked: 409)",
            {"200": ok("Changed", ref("ApiKey")), **errors(400, 404, 409, 413, 415)},
            parameters=[{"name": "id", "in": "path", "required": True, "schema": TEXT}],
            requestBody=body("ApiKeyUpdate"),
        ),
        "delete": {
            "tags": ["admin"],
            "summary": "Revoke a desk API key",
            "security": ADMIN,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": TEXT}],
            "responses": {"200": ok("Revoked", ref("Success")), **errors(401, 403, 404)},
        },
    },
    "/api/admin/templates": {
        "get": admin_op(
            "List ticket templates, by name",
            {"200": ok("Templates", ref("TemplateList"))},
        ),
        "post": admin_op(
            "Create a ticket template (the same body as the desk API's)",
            {"201": ok("Created", ref("DeskTemplate")), **errors(400, 409, 413, 415)},
            requestBody=body("DeskTemplateCreate"),
            description="400 for an unknown productSlug (`fields.productSlug`); 409 for a "
            "name in use.",
        ),
    },
    "/api/admin/templates/{id}": {
        "parameters": [TEMPLATE_ID_PARAM],
        "get": admin_op(
            "A ticket template", {"200": ok("The template", ref("DeskTemplate")), **errors(404)}
        ),
        "patch": admin_op(
            "Change a ticket template",
            {"200": ok("Changed", ref("DeskTemplate")), **errors(400, 404, 409, 413, 415)},
            requestBody=body("DeskTemplateUpdate"),
        ),
        "delete": admin_op(
            "Delete a ticket template",
            {"200": ok("Deleted", ref("Success")), **errors(404)},
        ),
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
            {
                "200": ok("Linked", ref("TicketLinked")),
                **errors(400, 413, 415),
                "404": ok("No such ticket, or GitHub has no such issue", ref("Error")),
                "409": ok(
                    "The ticket is linked already, has no product, or the App is not "
                    "installed on the repository",
                    ref("Error"),
                ),
                "422": ok("The number is a pull request, not an issue", ref("Error")),
                "503": ok(
                    "No GitHub App is configured, or GitHub did not answer the check "
                    "(nothing was linked; `Retry-After` says when to try again)",
                    ref("Error"),
                ),
            },
            parameters=[{"name": "public_id", "in": "path", "required": True, "schema": TEXT}],
            requestBody=body("TicketLink"),
        )
    },
}

# Every admin operation may answer 429: too many wrong admin tokens from the caller's address
# (bot.http.auth.require_admin), whatever the operation.
for _operations in PATHS.values():
    for _method, _operation in _operations.items():
        if _method != "parameters":
            _operation["responses"].update(errors(429))
