"""The OpenAPI building blocks: references, timestamps, JSON answers and the error shapes."""

from __future__ import annotations

from typing import Any

from bot.rules import callbacks
from bot.rules.numbers import MAX_ROW_ID
from bot.rules.pipeline import STAGES

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


TIMESTAMP = {"type": "string", "format": "date-time", "examples": ["2026-02-17T10:00:00.000Z"]}
MAYBE_TIMESTAMP = nullable(TIMESTAMP)
TEXT = {"type": "string"}

# What the server accepts in text it is sent (bot/rules/validation.py): never NUL; where a
# field is required, at least one character that is not white space (blank is "… is required").
# Python's \s and str.strip() agree on what white space is.
NO_NUL = "^[^\\u0000]*$"
# Exactly what str.isspace() calls white space (regex engines' \s differ on some).
SPACE_CHARS = (
    "\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
# NUL and that white space.
NOT_SPACE = f"[^\\u0000{SPACE_CHARS}]"
NON_BLANK = f"^[^\\u0000]*{NOT_SPACE}[^\\u0000]*$"
# Row ids as bot/rules/numbers bounds them (what BIGINT and SQLite INTEGER hold).
ROW_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ROW_ID}


def text_input(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    """An optional text field: any text without NUL (blank counts as absent)."""
    schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL, **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def required_text(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    """A required text field: not blank, no NUL."""
    return {**text_input(max_length, **extra), "minLength": 1, "pattern": NON_BLANK}


STAGE = {"type": "string", "enum": [s.value for s in STAGES]}

RATE_HEADERS = {
    "X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"},
    "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"},
    "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"},
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `error` is the first problem, `fields` lists every failing field",
    401: "Missing or invalid credentials",
    403: "Not allowed: the API is turned off on this server, or the caller's role (a viewer's "
    "key) may not do this",
    404: "No such resource (or not visible to this key)",
    409: "Conflicts with what exists",
    413: "Request body too large",
    415: "The body is not JSON",
    429: "Too many requests: wait `retryAfter` seconds (also in `Retry-After`)",
    503: "Not configured on this server (the hint says which setting)",
}


# Seed 002's tenant and application ids (bot.rules.tenants).
TENANT_ID = {
    "type": "string",
    "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
    "maxLength": 64,
    "description": "A tenant or application id: a slug (`acme`)",
}

# Issue 17: a create sent again under its Idempotency-Key (bot.http.idempotency), and the
# signed callbacks a create may ask for (bot.tickets.callbacks).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "description": "Any unique text (a UUID): the same request sent again under it within 24 "
    "hours gets the first answer (with `Idempotent-Replayed: true`) and makes nothing new; "
    "another request under it is a 409. A refused request keeps nothing.",
}
IDEMPOTENT_REPLAYED = {
    "description": "`true` on an answer given before, to the same request under the same key",
    "schema": {"type": "string", "enum": ["true"]},
}
CALLBACK_URL = {
    "type": ["string", "null"],
    "maxLength": 2000,
    "pattern": callbacks.URL_PATTERN,
    "description": "POST each stage change and public comment of the ticket here, signed with "
    "`callbackSecret` (README, \"Callbacks\"). Only public addresses are called (checked after "
    "DNS; TINYDESK_CALLBACK_ALLOW lists exceptions); redirects are not followed. A literal "
    "address is taken too when it is public or allowlisted.",
}
CALLBACK_SECRET = {
    "type": "string",
    "pattern": "^cbsec_",
    "description": "Signs the ticket's callbacks (X-TinyDesk-Signature-256); in the create's "
    "answer only, when it asked for a callbackUrl; shown once",
}


def ok(description: str, schema: dict[str, Any], *, rate_limited: bool = False) -> dict:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if rate_limited:
        response["headers"] = dict(RATE_HEADERS)
    return response


def replayable(response: dict[str, Any]) -> dict[str, Any]:
    """A create's answer, which may be given again under its Idempotency-Key."""
    return {
        **response,
        "headers": {**response.get("headers", {}), "Idempotent-Replayed": IDEMPOTENT_REPLAYED},
    }


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


# Fields a request body may carry beyond those it names: ignored, but read as JSON that a
# database can store (bot/http/bodies.py refuses the whole body otherwise): no NUL in a string
# or key, whole numbers within 64 bits.
EXTRA_FIELDS = {"$ref": "#/components/schemas/StorableJson"}
KEY_TEXT = {"pattern": NO_NUL}

SCHEMAS: dict[str, Any] = {
    "StorableJson": {
        "description": "Any JSON a database can store: strings and keys without NUL (nor a "
        "lone surrogate escape), whole numbers within 64 bits",
        "anyOf": [
            {"type": "string", "pattern": NO_NUL},
            {"type": "integer", "minimum": -MAX_ROW_ID - 1, "maximum": MAX_ROW_ID},
            {"type": "number", "not": {"type": "integer"}},
            {"type": ["boolean", "null"]},
            {"type": "array", "items": {"$ref": "#/components/schemas/StorableJson"}},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_NUL},
                "additionalProperties": {"$ref": "#/components/schemas/StorableJson"},
            },
        ],
    },
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
}
