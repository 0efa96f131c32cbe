"""The OpenAPI paths and schemas of mail in: the attachments kept with a ticket."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import TICKET_ID_PARAM, desk_op
from bot.api.openapi.parts import RATE_HEADERS, TEXT, TIMESTAMP, errors
from bot.rules.mail_attachments import ACCEPTED

ATTACHMENT_ID_PARAM = {
    "name": "attachmentId",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^att_[A-Za-z0-9_-]{1,36}$"},
    "description": "An attachment's id (att_…), from the ticket's `attachments`",
}

SCHEMAS: dict[str, Any] = {
    "DeskAttachment": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "filename", "contentType", "size", "createdAt"],
        "properties": {
            "id": {"type": "string", "pattern": "^att_"},
            "filename": {**TEXT, "description": "Made safe: no path, plain characters only"},
            "contentType": {"type": "string", "enum": list(ACCEPTED)},
            "size": {"type": "integer", "minimum": 0, "description": "In bytes"},
            "createdAt": TIMESTAMP,
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/desk/tickets/{id}/attachments/{attachmentId}": {
        "parameters": [TICKET_ID_PARAM, ATTACHMENT_ID_PARAM],
        "get": desk_op(
            "Download a file that came with the ticket by mail",
            {
                "200": {
                    "description": "The file, as a download (`Content-Disposition: attachment`, "
                    "`X-Content-Type-Options: nosniff`)",
                    "headers": {
                        **RATE_HEADERS,
                        "Content-Disposition": {
                            "description": "attachment, with the file name",
                            "schema": {"type": "string"},
                        },
                    },
                    # No schemas: the bytes are the file's.
                    "content": {content_type: {} for content_type in ACCEPTED},
                },
                **errors(404, rate_limited=True),
            },
            description="Any key that sees the ticket may download its attachments.",
        ),
    },
}
