"""The OpenAPI description of SLA policies: the admin API's /api/admin/sla/policies and the
desk API's read-only /api/v1/desk/sla/policies, on the document of ``bot.rules.sla_policy``.

What a schema cannot say, the server checks and answers with a 400 naming the field: a time
zone its tz database does not know, an interval that starts after it ends or overlaps
another, a holidayCountry the ``holidays`` package does not know; and a name already taken
(409)."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import desk_op
from bot.api.openapi.parts import (
    NO_NUL,
    TEXT,
    TIMESTAMP,
    body,
    errors,
    nullable,
    ok,
    ref,
    required_text,
)
from bot.rules.business_time import WEEKDAYS
from bot.rules.sla import Level, ResponseEnds
from bot.rules.sla_policy import MAX_HOLIDAYS, MAX_NAME, MAX_TARGET_MINUTES

MINUTES = {"type": "integer", "minimum": 1, "maximum": MAX_TARGET_MINUTES}
CLOCK_TIME = {"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
INTERVAL = {
    "type": "array",
    "items": CLOCK_TIME,
    "minItems": 2,
    "maxItems": 2,
    "description": 'A working interval ["HH:MM", "HH:MM"] in local time, start before end',
}
NAME = required_text(MAX_NAME, description="Unique, whatever the case; trimmed")
LEVELS = [level.value for level in Level]


def _target(required: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"response": MINUTES, "resolution": MINUTES},
        "description": "Business minutes to the first response and to resolution",
    }
    if required:
        schema["required"] = ["response", "resolution"]
    return schema


def _calendar() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["timeZone", "hours"],
        "additionalProperties": False,
        "properties": {
            "timeZone": ref("SlaTimeZone"),
            "hours": {
                "type": "object",
                "additionalProperties": False,
                "properties": {day: {"type": "array", "items": INTERVAL} for day in WEEKDAYS},
                "description": "Working intervals by weekday; a weekday left out has none",
            },
            "holidays": {
                "type": "array",
                "items": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
                "maxItems": MAX_HOLIDAYS,
                "description": "Local dates without working time (YYYY-MM-DD)",
            },
            "holidayCountry": {
                "type": "string",
                "pattern": NO_NUL,
                "minLength": 1,
                "maxLength": 10,
                "description": "Also a country's public holidays (ISO 3166 code, e.g. DE), "
                "from the `holidays` package",
            },
            "holidaySubdivision": {
                "type": "string",
                "pattern": NO_NUL,
                "minLength": 1,
                "maxLength": 10,
                "description": "A region of holidayCountry (e.g. BY); needs holidayCountry",
            },
        },
        # holidaySubdivision needs holidayCountry (as anyOf: more tools read it than
        # dependentRequired).
        "anyOf": [{"not": {"required": ["holidaySubdivision"]}}, {"required": ["holidayCountry"]}],
        "description": "Business hours; null: wall-clock time, 24x7",
    }


def _input(*, create: bool) -> dict[str, Any]:
    targets = {
        "type": "object",
        "additionalProperties": False,
        "properties": {level: _target(False) for level in [*LEVELS, "urgent"]},
        "description": "By level (`urgent` is `critical`); a level or clock left out keeps "
        "seed 003's default on a new policy, its value on an edit",
    }
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": NAME,
            "targets": targets,
            "calendar": nullable(ref("SlaCalendar")),
            "responseEnds": {
                "enum": [e.value for e in ResponseEnds],
                "description": "What ends the response clock: the first public staff comment "
                "(`comment`) or that or the first status change by staff (`comment_or_status`)",
            },
            "warnMinutes": {"type": "integer", "minimum": 0, "maximum": MAX_TARGET_MINUTES},
            "default": {
                "type": "boolean",
                "description": "true: this becomes the default policy (false on the default: "
                "400; make another the default instead)",
            },
        },
    }
    if create:
        schema["required"] = ["name"]
    else:
        schema["minProperties"] = 1
    return schema


POLICY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "name": TEXT,
    "default": {"type": "boolean", "description": "The policy of products without one"},
    "targets": {
        "type": "object",
        "required": LEVELS,
        "additionalProperties": False,
        "properties": {level: _target(True) for level in LEVELS},
    },
    "calendar": nullable(ref("SlaCalendar")),
    "responseEnds": {"enum": [e.value for e in ResponseEnds]},
    "warnMinutes": {"type": "integer", "minimum": 0},
    "createdAt": TIMESTAMP,
    "updatedAt": TIMESTAMP,
}
POLICY_REQUIRED = list(POLICY_PROPERTIES)

SCHEMAS: dict[str, Any] = {
    # Not an enum of the zones: the list is the server's tz database, which differs by host.
    "SlaTimeZone": {
        "type": "string",
        "pattern": NO_NUL,
        "minLength": 1,
        "maxLength": 64,
        "examples": ["Europe/Berlin", "America/New_York", "UTC"],
        "description": "An IANA time zone, as the server's tz database knows it (an unknown "
        'one: 400 `fields["calendar.timeZone"]`)',
    },
    "SlaCalendar": _calendar(),
    "SlaPolicyCreate": _input(create=True),
    "SlaPolicyUpdate": _input(create=False),
    "SlaPolicy": {
        "type": "object",
        "required": POLICY_REQUIRED,
        "properties": POLICY_PROPERTIES,
        "description": "An SLA policy as staff see it (GET /api/v1/desk/sla/policies)",
    },
    "SlaPolicyAdmin": {
        "type": "object",
        "required": [*POLICY_REQUIRED, "products"],
        "properties": {
            **POLICY_PROPERTIES,
            "products": {
                "type": "array",
                "items": TEXT,
                "description": "Slugs of the products whose new tickets it governs",
            },
            "recomputedTickets": {
                "type": "integer",
                "minimum": 0,
                "description": "After an edit: the open tickets whose due times were computed "
                "again",
            },
        },
    },
    "SlaPolicyAdminList": {
        "type": "object",
        "required": ["policies"],
        "properties": {"policies": {"type": "array", "items": ref("SlaPolicyAdmin")}},
    },
    "SlaPolicyList": {
        "type": "object",
        "required": ["policies"],
        "properties": {"policies": {"type": "array", "items": ref("SlaPolicy")}},
    },
    "SlaPolicyRemoved": {
        "type": "object",
        "required": ["success", "message", "movedProducts", "movedTickets"],
        "properties": {
            "success": {"const": True},
            "message": TEXT,
            "movedProducts": {"type": "integer", "minimum": 0},
            "movedTickets": {"type": "integer", "minimum": 0},
        },
    },
}
ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
POLICY_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The policy's id, or its name (any case)",
    "schema": TEXT,
}


def _admin(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tags": ["admin"],
        "summary": summary,
        "security": ADMIN,
        "responses": {**responses, **errors(401, 403, 429)},
        **extra,
    }


ADMIN_PATHS: dict[str, Any] = {
    "/api/admin/sla/policies": {
        "get": _admin(
            "List SLA policies, with the products each governs",
            {"200": ok("Policies", ref("SlaPolicyAdminList"))},
        ),
        "post": _admin(
            "Create an SLA policy (seed 003's targets for the levels left out; 24x7 without "
            "a calendar)",
            {
                "201": ok("Created", ref("SlaPolicyAdmin")),
                **errors(400, 409, 413, 415),
            },
            requestBody=body("SlaPolicyCreate"),
        ),
    },
    "/api/admin/sla/policies/{id}": {
        "parameters": [POLICY_PARAM],
        "get": _admin(
            "One SLA policy", {"200": ok("Policy", ref("SlaPolicyAdmin")), **errors(404)}
        ),
        "patch": _admin(
            "Change an SLA policy (fields left out keep their value; `default: true` makes it "
            "the default). A change of targets, calendar, responseEnds or warnMinutes computes "
            "the due times of its open tickets again, from their creation",
            {
                "200": ok("Changed", ref("SlaPolicyAdmin")),
                **errors(400, 404, 409, 413, 415),
            },
            requestBody=body("SlaPolicyUpdate"),
        ),
        "delete": _admin(
            "Delete an SLA policy that is not the default: its products and tickets move to "
            "the default policy, and the open tickets get the default's due times",
            {"200": ok("Deleted", ref("SlaPolicyRemoved")), **errors(400, 404)},
        ),
    },
}

DESK_PATHS: dict[str, Any] = {
    "/api/v1/desk/sla/policies": {
        "get": desk_op(
            "The SLA policies (read-only): the names a ticket's `slaPolicy` may take",
            {"200": ok("Policies", ref("SlaPolicyList"), rate_limited=True)},
        )
    },
}
