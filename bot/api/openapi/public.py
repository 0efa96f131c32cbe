"""The OpenAPI description of the public API (seed 000): submit a ticket, then track it."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.parts import (
    CALLBACK_SECRET,
    CALLBACK_URL,
    EXTRA_FIELDS,
    IDEMPOTENCY_KEY,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    NOT_SPACE,
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
from bot.rules.pipeline import ClosedReason
from bot.rules.progress import StageState
from bot.rules.validation import (
    MAX_BODY_BYTES,
    MAX_EMAIL,
    MAX_NAME,
    MAX_SCREENSHOTS,
    MAX_SUBJECT,
    MAX_URL,
)

# No maxLength beside format and pattern: schemathesis' coverage phase then spends a minute
# building an address of exactly that length. The limit is in the description.
EMAIL = {
    "type": "string",
    "format": "email",
    "minLength": 1,
    "pattern": "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$",
    "description": f"An address with a domain, local@example.com, of at most {MAX_EMAIL} "
    "characters",
}
# What bot/rules/validation.is_web_url accepts: http(s), a host name, no white space.
WEB_URL = {
    "type": "string",
    "pattern": f"^https?://[A-Za-z0-9._~-]+(?::[0-9]{{0,5}})?(?:[/?#]{NOT_SPACE}*)?$",
    "maxLength": MAX_URL,
    "description": "An http(s) URL",
}

SCHEMAS: dict[str, Any] = {
    "TicketSubmission": {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["productSlug", "submitterEmail", "subject", "body"],
        "properties": {
            "productSlug": required_text(64),
            "submitterEmail": EMAIL,
            "submitterName": nullable(text_input(MAX_NAME)),
            "subject": required_text(MAX_SUBJECT),
            "body": required_text(description=f"At most {MAX_BODY_BYTES // 1024} KiB (UTF-8)"),
            "screenshots": nullable(
                {"type": "array", "maxItems": MAX_SCREENSHOTS, "items": WEB_URL}
            ),
            "emailUpdates": {
                **nullable({"type": "boolean"}),
                "default": True,
                "description": "Mail the submitter at intake and at each step they care "
                'about, when TinyDesk sends mail (README, "Email out"); false: no mail until '
                "they ask for it on the tracking page",
            },
            "callbackUrl": CALLBACK_URL,
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
            "callbackSecret": CALLBACK_SECRET,
        },
    },
    "PipelineStage": {
        "type": "object",
        "required": [
            "stage",
            "title",
            "description",
            "state",
            "reached",
            "reachedAt",
            "current",
            "loop",
        ],
        "properties": {
            "stage": STAGE,
            "title": TEXT,
            "description": TEXT,
            "state": {
                "type": "string",
                "enum": [s.value for s in StageState],
                "description": "reached: it happened (reachedAt says when); skipped: the "
                "ticket went past it without it happening (e.g. Merged and Deployed after a "
                "close as not planned); pending: not yet; current: the ticket is at it",
            },
            "reached": {"type": "boolean", "description": "state is reached or current"},
            "reachedAt": {
                **MAYBE_TIMESTAMP,
                "description": "When it happened; null unless reached or current",
            },
            "current": {"type": "boolean"},
            "loop": {
                "type": "boolean",
                "description": "CHANGES_REQUESTED: a loop of the review step, not a stage "
                "the fix passes through",
            },
            "rounds": {
                "type": "integer",
                "minimum": 0,
                "description": "On the loop: how many times changes were requested since the "
                "fix's pull request was opened",
            },
            "closedReason": {
                **nullable({"type": "string", "enum": [r.value for r in ClosedReason]}),
                "description": "On CLOSED, while the ticket is closed: why",
            },
            "closedReasonText": {
                **nullable(TEXT),
                "description": "closedReason in words, e.g. Closed as not planned",
            },
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
        "required": ["body", "author", "createdAt", "fromSubmitter"],
        "properties": {
            "body": TEXT,
            "fromSubmitter": {
                "type": "boolean",
                "description": "Written by the submitter (a reply by email), not by support",
            },
            "author": {
                "type": "string",
                "description": "The name chosen for the public: the desk key's publicName when "
                'the comment was written, else "Support team"; never a staff member\'s key '
                "name or email address",
            },
            "createdAt": TIMESTAMP,
        },
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
}

PATHS: dict[str, Any] = {
    "/api/tickets": {
        "post": {
            "tags": ["public"],
            "summary": "Submit a ticket (no login); returns its publicId and a tracking token",
            "requestBody": body("TicketSubmission"),
            "parameters": [IDEMPOTENCY_KEY],
            "responses": {
                "201": replayable(
                    ok("Stored at RECEIVED", ref("TicketReceipt"), rate_limited=True)
                ),
                **errors(400, 404, 409, 413, 415, 429, rate_limited=True),
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
}
