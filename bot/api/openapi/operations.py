"""The OpenAPI description of the operations endpoints: health, this document, the webhooks."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.parts import JSON, TEXT, errors, ok, ref

SCHEMAS: dict[str, Any] = {
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
    "/api/docs": {
        "get": {
            "tags": ["operations"],
            "summary": "This document as a readable HTML page",
            "responses": {
                "200": {
                    "description": "The API reference",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
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
}
