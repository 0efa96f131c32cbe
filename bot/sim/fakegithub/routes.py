"""The REST operations the fake serves and how a request path finds its operation."""

from __future__ import annotations

import re
from urllib.parse import unquote

# Operations the bot may call (PRODUCT.md); keys are those of operations.deref.json (which
# lacks GET /repos/{owner}/{repo}: tests/fakes.py checks that answer against the repository
# schema GitHub's description gives for a pull request's head.repo).
# Anything else, including other operations of the OpenAPI subset, is an unexpected call.
_ROUTES: list[tuple[str, str, str]] = [
    (
        "POST",
        r"/app/installations/(?P<installation_id>\d+)/access_tokens",
        "POST /app/installations/{installation_id}/access_tokens",
    ),
    ("GET", r"/app", "GET /app"),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/installation",
        "GET /repos/{owner}/{repo}/installation",
    ),
    # Whether the repository is public (``private``, ``visibility``): what TinyDesk may publish.
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", "GET /repos/{owner}/{repo}"),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues", "GET /repos/{owner}/{repo}/issues"),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues",
        "POST /repos/{owner}/{repo}/issues",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)",
        "GET /repos/{owner}/{repo}/issues/{issue_number}",
    ),
    (
        "PATCH",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)",
        "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/comments",
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/comments",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "PATCH",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/comments/(?P<comment_id>\d+)",
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/labels",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    ),
    (
        "DELETE",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/labels/(?P<name>[^/]+)",
        "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    ),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/labels", "GET /repos/{owner}/{repo}/labels"),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/labels",
        "POST /repos/{owner}/{repo}/labels",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<pull_number>\d+)",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<pull_number>\d+)/commits",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/compare/(?P<basehead>.+)",
        "GET /repos/{owner}/{repo}/compare/{basehead}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/commits/(?P<ref>.+)",
        "GET /repos/{owner}/{repo}/commits/{ref}",
    ),
]
# Registering an App (the manifest flow, bot.sim.fakegithub.apps): GitHub wants no
# authentication here, and the shared subset of its description lacks the operation.
CONVERSION = "POST /app-manifests/{code}/conversions"
_ROUTES.append(("POST", r"/app-manifests/(?P<code>[^/]+)/conversions", CONVERSION))
NO_AUTH_OPERATIONS = {CONVERSION}
OPERATIONS: tuple[str, ...] = tuple(key for _, _, key in _ROUTES)
COMPILED = [(method, re.compile(pattern + r"/?"), key) for method, pattern, key in _ROUTES]
# GitHub wants the App's JWT here, not an installation token.
JWT_OPERATIONS = {
    "GET /app",
    "POST /app/installations/{installation_id}/access_tokens",
    "GET /repos/{owner}/{repo}/installation",
}


def match(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    """The operation key and path parameters of a request; ``(None, {})`` when not served."""
    for route_method, pattern, key in COMPILED:
        found = pattern.fullmatch(path)
        if found and route_method == method:
            return key, {k: unquote(v) for k, v in found.groupdict().items()}
    return None, {}
