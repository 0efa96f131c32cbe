"""The OpenAPI 3.1 description of every TinyDesk endpoint, served at GET /api/openapi.json.

Written by hand, one module per audience (``public``, ``desk``, ``admin``, ``operations``;
the desk's SLA and billing parts in ``sla``, ``sla_policies`` and ``billing``) on shared
``parts``; this module assembles them, and serves them as JSON and, rendered by
``bot.web.api_docs``, as the page ``GET /api/docs``. ``tests/test_openapi.py`` checks that every
route is in it and that the JSON the tests see validates against it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from aiohttp import web

from bot import __version__
from bot.api.openapi import (
    admin,
    alerts,
    billing,
    desk,
    desk_actions,
    helpdesk,
    mail,
    operations,
    parts,
    public,
    sla,
    sla_policies,
    staff,
)
from bot.web import api_docs
from bot.web.html import Html

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "TinyDesk",
        "version": __version__,
        "description": "Support tickets that follow their fix through GitHub: a public "
        "intake and tracking API, a staff help-desk API (keys: `td_live_…`, `td_test_…`) "
        "and an admin API.",
    },
    "tags": [
        {"name": "public", "description": "Submitters and their agents; no login"},
        {"name": "desk", "description": "Support staff, with a desk API key"},
        {"name": "alerts", "description": "Alertmanager and Grafana, with a desk API key"},
        {"name": "admin", "description": "Admins, with TINYDESK_ADMIN_TOKEN"},
        {"name": "github", "description": "The GitHub App's webhooks"},
        {"name": "operations", "description": "Health and this document"},
    ],
    "paths": {
        **operations.PATHS,
        **public.PATHS,
        **alerts.PATHS,
        **desk.PATHS,
        **desk_actions.PATHS,
        **helpdesk.PATHS,
        **mail.PATHS,
        **sla.PATHS,
        **sla_policies.DESK_PATHS,
        **billing.PATHS,
        **admin.PATHS,
        **staff.PATHS,
        **sla_policies.ADMIN_PATHS,
    },
    "components": {
        "schemas": {
            **parts.SCHEMAS,
            **operations.SCHEMAS,
            **public.SCHEMAS,
            **alerts.SCHEMAS,
            **desk.SCHEMAS,
            **desk_actions.SCHEMAS,
            **helpdesk.SCHEMAS,
            **mail.SCHEMAS,
            **sla.SCHEMAS,
            **admin.SCHEMAS,
            **staff.SCHEMAS,
            **sla_policies.SCHEMAS,
            **billing.SCHEMAS,
        },
        "securitySchemes": {
            "deskKey": {"type": "http", "scheme": "bearer", "description": "A desk API key"},
            "billingKey": billing.SECURITY_SCHEME,
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "TINYDESK_ADMIN_TOKEN",
            },
        },
        "headers": {
            "X-RateLimit-Limit": {
                "description": "Requests allowed in the window",
                "schema": {"type": "integer"},
            },
            "X-RateLimit-Remaining": {
                "description": "Requests left in the window",
                "schema": {"type": "integer"},
            },
            "X-RateLimit-Reset": {
                "description": "When the window ends (epoch seconds)",
                "schema": {"type": "integer"},
            },
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
        },
    },
}


def spec() -> dict[str, Any]:
    """A copy of the document, safe for callers to change."""
    return copy.deepcopy(SPEC)


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(SPEC)


@functools.cache
def _reference() -> Html:
    # SPEC is built once and never changed (callers change copies), so neither is its page.
    return api_docs.render(SPEC)


async def api_reference(request: web.Request) -> web.Response:
    """The same document as a page (``bot.web.api_docs``)."""
    return api_docs.docs_page(request, _reference())


routes = [
    web.get("/api/openapi.json", openapi_document),
    web.get(api_docs.DOCS_PATH, api_reference),
]
