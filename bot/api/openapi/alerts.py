"""The OpenAPI description of alerts to tickets: Alertmanager's and Grafana's webhooks."""

from __future__ import annotations

from typing import Any

from bot.api.openapi.desk import DESK
from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    TEXT,
    body,
    errors,
    nullable,
    ok,
    ref,
    required_text,
    text_input,
)
from bot.rules import alerts as rules

LABELS = {
    "type": "object",
    "maxProperties": rules.MAX_LABELS,
    "propertyNames": {**KEY_TEXT, "maxLength": rules.MAX_LABEL_CHARS},
    "additionalProperties": text_input(rules.MAX_LABEL_CHARS),
}
ALERT = {
    "type": "object",
    "additionalProperties": EXTRA_FIELDS,
    "propertyNames": KEY_TEXT,
    "required": ["status"],
    "properties": {
        "status": {"enum": [rules.FIRING, rules.RESOLVED]},
        "labels": LABELS,
        "annotations": LABELS,
        "startsAt": TEXT,
        "endsAt": TEXT,
        "generatorURL": TEXT,
        "fingerprint": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "description": "The alert's identity in its group (made from its labels if absent)",
        },
    },
}


def notification(
    description: str, *, group_key_required: bool, version: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "required": ["status", "alerts", *(["groupKey"] if group_key_required else [])],
        "properties": {
            "version": version,
            "groupKey": required_text(rules.MAX_GROUP_KEY),
            "status": {"enum": [rules.FIRING, rules.RESOLVED]},
            "receiver": TEXT,
            "groupLabels": LABELS,
            "commonLabels": LABELS,
            "commonAnnotations": LABELS,
            "externalURL": TEXT,
            "alerts": {
                "type": "array",
                "minItems": 1,
                "maxItems": rules.MAX_ALERTS,
                "items": ALERT,
            },
        },
    }


SCHEMAS: dict[str, Any] = {
    "AlertmanagerNotification": notification(
        "Alertmanager's webhook body, version 4 (webhook_config)",
        group_key_required=True,
        version={"enum": ["4"]},
    ),
    "GrafanaNotification": notification(
        "Grafana's webhook contact point body (Alertmanager's shape plus title and message; "
        "before Grafana 9, no groupKey: the rule and group labels stand for it)",
        group_key_required=False,
        version=TEXT,
    ),
    "AlertOutcome": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ticket", "actions", "status"],
        "properties": {
            "ticket": nullable(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "publicId"],
                    "properties": {"id": TEXT, "publicId": {"type": "string"}},
                }
            ),
            "actions": {
                "type": "array",
                "items": {"enum": [a.value for a in rules.Action]},
                "description": "What the notification did: opened, opened_again (past the "
                "reopen window), reopened, commented (new alerts firing), counted (a "
                "repeat), resolved, kept_open (all resolved, but a person worked on it), "
                "ignored (resolved alerts of a group never seen)",
            },
            "status": nullable({"enum": ["open", "pending", "resolved", "closed"]}),
            "alerts": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "firing": {"type": "integer"},
                    "resolved": {"type": "integer"},
                    "new": {"type": "integer"},
                },
            },
        },
    },
}

PRODUCT_PARAM = {
    "name": "product",
    "in": "query",
    "required": False,
    "schema": text_input(64),
    "description": "The product's slug, for a key that sees several products",
}


def alert_op(summary: str, schema: str) -> dict[str, Any]:
    return {
        "tags": ["alerts"],
        "summary": summary,
        "security": DESK,
        "parameters": [PRODUCT_PARAM],
        "requestBody": body(schema),
        "responses": {
            "200": ok("What the notification did", ref("AlertOutcome"), rate_limited=True),
            **errors(400, 401, 403, 404, 409, 413, 415, 429, rate_limited=True),
        },
        "description": "One ticket per alert group, deduplicated by group key and by each "
        "alert's fingerprint; resolved when every alert resolves unless a person worked on "
        'it; reopened when the group fires again within the window (README, "Alerts").',
    }


PATHS: dict[str, Any] = {
    "/api/alerts/alertmanager": {
        "post": alert_op(
            "Alertmanager's webhook: a ticket per alert group", "AlertmanagerNotification"
        )
    },
    "/api/alerts/grafana": {
        "post": alert_op(
            "Grafana's alerting webhook: a ticket per alert group", "GrafanaNotification"
        )
    },
}
