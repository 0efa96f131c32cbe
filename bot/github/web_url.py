"""GitHub's web address (where people open issues and pull requests) from its API URL."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

GITHUB_WEB_URL = "https://github.com"


def github_web_url(api_url: str) -> str:
    """``https://github.com`` for ``https://api.github.com``; for GitHub Enterprise Server
    (``https://HOST/api/v3``) ``https://HOST``; for anything else, the same origin (the fake
    GitHub serves its pages beside its API). Never a trailing slash."""
    parts = urlsplit(api_url.strip())
    host = (parts.hostname or "").lower()
    if host in ("", "api.github.com"):
        return GITHUB_WEB_URL
    return f"{parts.scheme or 'https'}://{parts.netloc}"


def issue_url(web_url: str, repo_full_name: str, number: int) -> str:
    """``https://github.com/OWNER/NAME/issues/N``."""
    return f"{web_url}/{quote(repo_full_name, safe='/')}/issues/{number}"


def pull_url(web_url: str, repo_full_name: str, number: int) -> str:
    """``https://github.com/OWNER/NAME/pull/N``."""
    return f"{web_url}/{quote(repo_full_name, safe='/')}/pull/{number}"


def review_url(web_url: str, repo_full_name: str, number: int, review_id: int) -> str:
    """``https://github.com/OWNER/NAME/pull/N#pullrequestreview-ID``: the review on its PR."""
    return f"{pull_url(web_url, repo_full_name, number)}#pullrequestreview-{review_id}"


def deployments_url(web_url: str, repo_full_name: str, environment: str) -> str:
    """``https://github.com/OWNER/NAME/deployments/ENV``: the environment's deployments."""
    return f"{web_url}/{quote(repo_full_name, safe='/')}/deployments/{quote(environment, safe='')}"
