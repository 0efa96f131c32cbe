"""The OpenAPI description of the desk's ticket history and merge (issue 19):
``GET /api/v1/desk/tickets/{id}/history`` and ``POST /api/v1/desk/tickets/{id}/merge``."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import TICKET_ID_PARAM, desk_op
from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    ROW_ID,
    STAGE,
    TEXT,
    TIMESTAMP,
    body,
    errors,
    nullable,
    ok,
    ref,
    required_text,
)
from bot.rules.audit import LABELS
from bot.rules.desk_status import DESK_STATUSES
from bot.rules.merge import MAX_REF
from bot.rules.pipeline import ClosedReason

REF_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": "^tkt_"},
    "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
}
TICKET_REF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "publicId"],
    "properties": REF_PROPERTIES,
}

SCHEMAS: dict[str, Any] = {
    "DeskHistoryStage": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "at", "from", "to", "description", "cause", "text", "causeText"],
        "properties": {
            "kind": {"const": "stage"},
            "at": TIMESTAMP,
            "from": nullable(STAGE),
            "to": STAGE,
            "description": {**TEXT, "description": "The public history's words"},
            "cause": {
                **TEXT,
                "description": "What caused it: a GitHub event (`pull_request.closed`), "
                "`staff.closed`, `staff.linked`, `ticket.merged`, `ticket.submitted`…",
            },
            "actor": {**nullable(TEXT), "description": "Who: a GitHub login, a staff address"},
            "deliveryId": {
                **nullable(TEXT),
                "description": "The webhook delivery (X-GitHub-Delivery)",
            },
            "pullRequest": nullable(ROW_ID),
            "deploymentId": nullable({"type": "integer"}),
            "closedReason": nullable({"enum": [r.value for r in ClosedReason]}),
            "text": TEXT,
            "causeText": {**TEXT, "description": "The cause in words, internal details included"},
        },
    },
    "DeskHistoryChange": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "at", "actor", "field", "from", "to", "text"],
        "properties": {
            "kind": {"const": "change"},
            "at": TIMESTAMP,
            "actor": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name"],
                "properties": {
                    "id": {
                        **TEXT,
                        "description": "The desk key's id (`key_…`), the person's (`stf_…`), "
                        "or `admin`",
                    },
                    "name": TEXT,
                },
            },
            "field": {
                **TEXT,
                "description": "What changed: " + ", ".join(f"`{f}`" for f in LABELS),
            },
            "from": {
                **nullable(TEXT),
                "description": "The old value as text (null: none); a comment, note or time "
                "entry is named by its id, never its text; `body` keeps no values",
            },
            "to": nullable(TEXT),
            "text": TEXT,
        },
    },
    "DeskHistorySla": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "at", "clock", "event", "dueAt", "text"],
        "properties": {
            "kind": {"const": "sla"},
            "at": TIMESTAMP,
            "clock": {"enum": ["response", "resolution"]},
            "event": {"enum": ["warning", "breach"]},
            "dueAt": TIMESTAMP,
            "text": TEXT,
        },
    },
    "DeskTicketHistory": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ticket", "history"],
        "properties": {
            "ticket": TICKET_REF,
            "history": {
                "type": "array",
                "description": "Oldest first",
                "items": {
                    "oneOf": [
                        ref("DeskHistoryStage"),
                        ref("DeskHistoryChange"),
                        ref("DeskHistorySla"),
                    ]
                },
            },
        },
    },
    "DeskMerge": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["into"],
        "properties": {
            "into": required_text(
                MAX_REF,
                description="The ticket this one duplicates: its publicId (`TK-00042`) or id",
            )
        },
    },
    "DeskMergeResult": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "publicId", "status", "mergedInto"],
        "properties": {
            **REF_PROPERTIES,
            "status": {"enum": list(DESK_STATUSES)},
            "mergedInto": TICKET_REF,
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/desk/tickets/{id}/history": {
        "parameters": [TICKET_ID_PARAM],
        "get": desk_op(
            "The ticket's staff history: stage changes with their causes, audit entries, SLA "
            "events",
            {
                "200": ok("The history", ref("DeskTicketHistory"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
            description="One list, oldest first: each stage change with its internal cause "
            "(the webhook delivery, the GitHub login, the pull request), each audit entry (who "
            "changed what, from what to what: the fields of PATCH, comments and notes by id, "
            "time entries, a linked or requested GitHub issue, merges, deletes), and each SLA "
            "warning or breach. For staff only; nothing of another tenant.",
        ),
    },
    "/api/v1/desk/tickets/{id}/merge": {
        "parameters": [TICKET_ID_PARAM],
        "post": desk_op(
            "Merge this ticket (a duplicate) into another",
            {
                "200": ok("Merged", ref("DeskMergeResult"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("DeskMerge"),
            description="The duplicate is closed as a duplicate (its public history says "
            '"Merged into TK-…", nothing else of the other ticket), gets a public reply '
            "naming the other ticket's publicId (its submitter is told as of any reply) and an "
            "internal note; the other ticket gets the duplicate's conversation as an internal "
            "note. 404 only for the ticket in the path; every refused merge is a 409 whose "
            "`error` says why: `Target ticket not found` (also for one outside this key's "
            "scope), `Cannot merge a ticket into itself`, `Tickets of different products`, "
            "`Ticket already merged`, `Target was merged away`, `Ticket closed`.",
        ),
    },
}
