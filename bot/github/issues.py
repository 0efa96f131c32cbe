"""Reading an issue before TinyDesk relies on it: linking a ticket to an existing issue first
asks GitHub whether the issue exists (``GET /repos/{owner}/{repo}/issues/{issue_number}``).

Every way the check can fail is an ``ApiError`` with a hint, so the caller answers a clear
4xx or 503 and stores nothing: the issue does not exist (404), it is a pull request (422,
GitHub serves pull requests as issues with a ``pull_request`` key), the App is not installed
on the repository (409), GitHub did not answer or TinyDesk has no App configured (503).
"""

from __future__ import annotations

from typing import Any

from bot.errors import ApiError
from bot.github.client import GitHubApp, GitHubNotFound, GitHubRejected, GitHubRetry
from storage.models import Product

RETRY_AFTER_SECONDS = 60


async def existing_issue(github: GitHubApp | None, product: Product, number: int) -> dict[str, Any]:
    """The issue ``number`` of the product's repository as GitHub answers it, else ApiError."""
    where = f"{product.repo_full_name}#{number}"
    if github is None:
        raise ApiError(
            503,
            "GitHub App not configured",
            f"TinyDesk checks that {where} exists before linking; set GITHUB_APP_ID and "
            "GITHUB_PRIVATE_KEY (README: Register the GitHub App) and link again.",
        )
    try:
        installation_id = product.installation_id or await github.find_installation(
            product.repo_owner, product.repo_name
        )
        gh = await github.installation(installation_id) if installation_id else None
    except GitHubNotFound:
        gh = None  # an installation that is gone
    except (GitHubRetry, GitHubRejected) as exc:
        raise _unavailable(where, exc) from None
    if gh is None:
        raise ApiError(
            409,
            "GitHub App not installed",
            f"Install the GitHub App on {product.repo_full_name}, then link again.",
        )
    try:
        issue = await gh.getitem(
            "/repos/{owner}/{repo}/issues/{issue_number}",
            {"owner": product.repo_owner, "repo": product.repo_name, "issue_number": number},
        )
    except GitHubNotFound:
        raise _not_found(where) from None
    except GitHubRejected as exc:
        if exc.status == 410:  # GitHub answers 410 Gone for a deleted issue
            raise _not_found(where) from None
        raise _unavailable(where, exc) from None
    except GitHubRetry as exc:
        raise _unavailable(where, exc) from None
    if not isinstance(issue, dict) or issue.get("pull_request"):
        raise ApiError(
            422,
            "Not an issue",
            f"{where} is a pull request; link the ticket to the issue the pull request fixes.",
        )
    return issue


def _not_found(where: str) -> ApiError:
    return ApiError(
        404,
        "Issue not found",
        f"GitHub has no issue {where} (or it was deleted); check the number in the repository.",
    )


def _unavailable(where: str, exc: Exception) -> ApiError:
    after = exc.after if isinstance(exc, GitHubRetry) else None
    return ApiError(
        503,
        "GitHub unavailable",
        f"Could not check {where} on GitHub ({exc}); nothing was linked, try again shortly.",
        headers={"Retry-After": str(max(int(after), 1) if after else RETRY_AFTER_SECONDS)},
    )
