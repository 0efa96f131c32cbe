"""The OpenAPI description of the SLA parts of the desk API: a ticket's ``sla`` block, and the
breach and "breaching within" list (seed 003's ``GET /api/sla/breaches``, and the same at
``/api/v1/desk/sla/breaches``)."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import PRIORITY, desk_op
from bot.api.openapi.parts import (
    MAYBE_TIMESTAMP,
    TEXT,
    TIMESTAMP,
    errors,
    nullable,
    ok,
    ref,
    text_input,
)
from bot.rules.desk_input import DEFAULT_LIMIT, MAX_LIMIT
from bot.rules.sla import State
from bot.tickets.sla_lists import WINDOW_PATTERN

MINUTES = {"type": "number", "minimum": 0, "description": "Business minutes (pauses left out)"}
VIOLATED = {"enum": ["response", "resolve", "both", None], "description": "Seed 003's words"}

SCHEMAS: dict[str, Any] = {
    "SlaClock": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "state",
            "startedAt",
            "dueAt",
            "endedAt",
            "targetMinutes",
            "usedMinutes",
            "leftMinutes",
            "overdueMinutes",
        ],
        "properties": {
            "state": {"enum": [s.value for s in State]},
            "startedAt": TIMESTAMP,
            "dueAt": {
                **TIMESTAMP,
                "description": "When the target falls due (paused: if work resumed now)",
            },
            "endedAt": MAYBE_TIMESTAMP,
            "targetMinutes": {"type": "integer", "minimum": 0},
            "usedMinutes": MINUTES,
            "leftMinutes": MINUTES,
            "overdueMinutes": MINUTES,
            "cycle": {
                "type": "integer",
                "minimum": 1,
                "description": "The resolution clock's cycle (a reopen starts the next)",
            },
        },
    },
    "TicketSla": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "policy",
            "violated",
            "response",
            "resolution",
            "pausedSince",
            "pauses",
            "earlierCycles",
        ],
        "properties": {
            "policy": TEXT,
            "violated": VIOLATED,
            "response": ref("SlaClock"),
            "resolution": ref("SlaClock"),
            "pausedSince": MAYBE_TIMESTAMP,
            "pauses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["from", "until"],
                    "properties": {"from": TIMESTAMP, "until": TIMESTAMP},
                },
            },
            "earlierCycles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["startedAt", "endedAt", "dueAt", "breached"],
                    "properties": {
                        "startedAt": TIMESTAMP,
                        "endedAt": TIMESTAMP,
                        "dueAt": MAYBE_TIMESTAMP,
                        "breached": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "SlaBreachEntry": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "publicId",
            "subject",
            "priority",
            "status",
            "assignee",
            "productSlug",
            "policy",
            "violated",
            "atRisk",
            "dueAt",
            "overdueMinutes",
            "leftMinutes",
            "response",
            "resolution",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^tkt_"},
            "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
            "subject": TEXT,
            "priority": PRIORITY,
            "status": TEXT,
            "assignee": nullable(TEXT),
            "productSlug": nullable(TEXT),
            "policy": TEXT,
            "violated": VIOLATED,
            "atRisk": {
                "enum": ["response", "resolve", "both", None],
                "description": "With dueWithin: which target falls due within the window",
            },
            "dueAt": {**TIMESTAMP, "description": "The due time of the (earliest) target listed"},
            "overdueMinutes": MINUTES,
            "leftMinutes": MINUTES,
            "response": ref("SlaClock"),
            "resolution": ref("SlaClock"),
        },
    },
    "SlaBreachPage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["breaches", "asOf", "dueWithinUntil", "hasMore"],
        "properties": {
            "breaches": {"type": "array", "items": ref("SlaBreachEntry")},
            "asOf": TIMESTAMP,
            "dueWithinUntil": MAYBE_TIMESTAMP,
            "nextCursor": {"type": "string", "description": "Present when hasMore is true"},
            "hasMore": {"type": "boolean"},
        },
    },
}

LIST_PARAMETERS = [
    {
        "name": "target",
        "in": "query",
        "schema": {"enum": ["response", "resolve", "both"]},
        "description": "Which promise: response, resolve (resolution) or both; any if left out",
    },
    {"name": "priority", "in": "query", "schema": PRIORITY},
    {"name": "assignee", "in": "query", "schema": text_input()},
    {"name": "productSlug", "in": "query", "schema": text_input()},
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string", "format": "date-time"},
        "description": "Only tickets whose listed target falls (or fell) due at or after "
        "this time",
    },
    {
        "name": "dueWithin",
        "in": "query",
        "schema": {"type": "string", "pattern": WINDOW_PATTERN},
        "description": "Instead of breaches: the tickets a running clock of which falls due "
        "within this window (60m, 4h, 2d), soonest first",
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {"name": "cursor", "in": "query", "schema": TEXT},
]


def _list_op() -> dict[str, Any]:
    return desk_op(
        "SLA breaches (oldest first), or with dueWithin the tickets about to breach",
        {
            "200": ok("A page", ref("SlaBreachPage"), rate_limited=True),
            **errors(400, 404, rate_limited=True),
        },
        parameters=LIST_PARAMETERS,
        description="Computed from the stored due times at the time of the request: no "
        "background job is needed for it to be right. 404 `Product not found` for an "
        "unknown or out-of-scope productSlug.",
    )


PATHS: dict[str, Any] = {
    "/api/sla/breaches": {"get": _list_op()},
    "/api/v1/desk/sla/breaches": {"get": _list_op()},
}
