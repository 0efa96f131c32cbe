"""The OpenAPI description of staff accounts in the admin API (issue 19)."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.admin import admin_op
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
)
from bot.api.openapi.public import EMAIL
from bot.rules import staff as rules

ROLE = {"enum": [r.value for r in rules.Role]}
PRODUCTS = {
    **nullable({"type": "array", "items": required_text(), "maxItems": 100}),
    "description": "Product slugs the person is limited to; empty or absent: all",
}
GITHUB = {
    **nullable({"type": "string", "pattern": rules.GITHUB_LOGIN.pattern}),
    "description": "The person's GitHub login: their first sign-in with GitHub links the "
    "account to that GitHub user",
}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

SCHEMAS: dict[str, Any] = {
    "StaffInvite": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["email", "name"],
        "properties": {
            "email": {**EMAIL, "maxLength": 320},
            "name": {
                **required_text(rules.MAX_DISPLAY_NAME),
                "description": "What submitters see on the person's public comments",
            },
            "role": {**ROLE, "default": "agent"},
            "products": PRODUCTS,
            "github": GITHUB,
        },
    },
    "StaffChange": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "name": required_text(rules.MAX_DISPLAY_NAME),
            "role": ROLE,
            "products": PRODUCTS,
            "github": GITHUB,
            "enabled": {
                "type": "boolean",
                "description": "true lets a disabled account in again (its password and keys "
                "work again; it signs in anew); false disables it, as DELETE does. The only "
                "change a disabled account accepts is enabled: true",
            },
        },
    },
    "StaffAccount": {
        "type": "object",
        "required": ["id", "email", "name", "role", "products", "passwordSet", "createdAt"],
        "properties": {
            "id": {"type": "string", "pattern": "^stf_"},
            "email": TEXT,
            "name": TEXT,
            "role": ROLE,
            "products": {"type": "array", "items": TEXT},
            "passwordSet": {"type": "boolean"},
            "githubLogin": nullable(TEXT),
            "createdAt": TIMESTAMP,
            "disabledAt": MAYBE_TIMESTAMP,
            "mailed": {
                "type": "boolean",
                "description": "The link was mailed to the person (TinyDesk sends mail)",
            },
            "link": {
                "type": "string",
                "description": "The invitation (or new) link: only in the answer that made it; "
                "it works once, for 7 days",
            },
        },
    },
    "StaffList": {
        "type": "object",
        "required": ["staff"],
        "properties": {"staff": {"type": "array", "items": ref("StaffAccount")}},
    },
}

ACCOUNT = ok("The account", ref("StaffAccount"))
PATHS: dict[str, Any] = {
    "/api/admin/staff": {
        "get": admin_op("Staff accounts", {"200": ok("The accounts", ref("StaffList"))}),
        "post": admin_op(
            "Invite a person: the answer holds their link, once",
            {"201": ACCOUNT, **errors(400, 409, 413, 415)},
            requestBody=body("StaffInvite"),
        ),
    },
    "/api/admin/staff/{id}": {
        "parameters": [ID_PARAM],
        "patch": admin_op(
            "Change a person's name, role or product scope, or enable a disabled account",
            {"200": ACCOUNT, **errors(400, 404, 413, 415)},
            requestBody=body("StaffChange"),
        ),
        "delete": admin_op(
            "Disable an account: its sessions end, its keys stop", {"200": ACCOUNT, **errors(404)}
        ),
    },
    "/api/admin/staff/{id}/link": {
        "parameters": [ID_PARAM],
        "post": admin_op(
            "A new link (lost invitation, forgotten password); the old one stops",
            {"200": ACCOUNT, **errors(404)},
        ),
    },
}
