"""GitHub's manifest flow, TinyDesk's side: the manifest built from ``app.yml``, where GitHub's
"new App" form and API are, and the exchange of the code GitHub sends back for the App's
credentials (``POST /app-manifests/{code}/conversions``).

The flow (docs.github.com, "Registering a GitHub App from a manifest"): a page of ours POSTs
a form with the manifest (JSON) as its ``manifest`` field to ``{web}/settings/apps/new``
(or ``{web}/organizations/{org}/settings/apps/new``) with a random ``state``; the person
names the App and creates it on GitHub; GitHub redirects the browser to the manifest's
``redirect_url`` with ``code`` and our ``state``; we exchange the code within the hour, once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import yaml

from bot.config import DEFAULT_GITHUB_API_URL
from bot.github.client import USER_AGENT, client_session

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"
WEBHOOK_PATH = "/webhooks/github"
CALLBACK_PATH = "/admin/setup/callback"
STAFF_SIGN_IN_CALLBACK = "/desk/sign-in/github/callback"
# GitHub logins: letters, digits and single hyphens, at most 39 characters.
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
# GitHub refuses App names longer than this.
MAX_APP_NAME = 34
# What the conversion answers besides the App itself (GitHub's "integration" object).
CONVERSION_FIELDS = (
    "id",
    "slug",
    "name",
    "html_url",
    "owner",
    "client_id",
    "client_secret",
    "webhook_secret",
    "pem",
)


class ConversionFailed(Exception):
    """GitHub did not hand over the App: ``status`` is what our page answers (400 for a code
    GitHub does not know, 502 when GitHub could not be reached or answered nonsense)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def load_app_yml(path: Path = APP_YML) -> dict[str, Any]:
    """``app.yml``: the App's name, description, permissions and events."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def build_manifest(
    public_url: str,
    *,
    redirect_base: str | None = None,
    name: str | None = None,
    app_yml: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest GitHub gets: ``app.yml`` with this server's URLs. Webhooks go to
    ``public_url``; GitHub sends the browser back to ``redirect_base`` (the same server by
    default; ``tinydesk setup`` listens elsewhere)."""
    base = dict(app_yml if app_yml is not None else load_app_yml())
    public_url = public_url.rstrip("/")
    redirect = (redirect_base or public_url).rstrip("/")
    hook = dict(base.get("hook_attributes") or {})
    hook["url"] = public_url + WEBHOOK_PATH
    hook.setdefault("active", True)
    manifest: dict[str, Any] = {
        "name": name or base["name"],
        "url": public_url,
        "hook_attributes": hook,
        "redirect_url": redirect + CALLBACK_PATH,
        # Where GitHub sends staff back after "Sign in with GitHub" (the App's user OAuth).
        "callback_urls": [public_url + STAFF_SIGN_IN_CALLBACK],
        "description": base.get("description", ""),
        "public": bool(base.get("public", False)),
        "default_permissions": dict(base.get("default_permissions") or {}),
        "default_events": list(base.get("default_events") or []),
    }
    return manifest


def web_url_for(api_url: str) -> str:
    """GitHub's web address for its API address: ``https://api.github.com`` ->
    ``https://github.com``, ``https://HOST/api/v3`` (Enterprise Server) -> ``https://HOST``,
    anything else (a fake) -> the API's own origin."""
    api_url = api_url.rstrip("/")
    if api_url == DEFAULT_GITHUB_API_URL:
        return "https://github.com"
    parts = urlsplit(api_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin


def server_urls(server_url: str) -> tuple[str, str]:
    """``(web, api)`` for a GitHub Enterprise Server address an admin typed
    (``https://ghe.example.com``, with or without a path or ``/api/v3``)."""
    parts = urlsplit(server_url.strip())
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin, origin + "/api/v3"


def server_url_problem(server_url: str) -> str | None:
    """What is wrong with a typed GitHub Enterprise Server address, or None."""
    parts = urlsplit(server_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter the server's address, such as https://ghe.example.com."
    if parts.query or parts.fragment or parts.username:
        return "Enter only the server's address, such as https://ghe.example.com."
    return None


def new_app_url(web_url: str, organization: str | None, state: str) -> str:
    """Where the manifest form is POSTed: the account's or the organization's new-App page."""
    where = (
        f"/organizations/{quote(organization, safe='')}/settings/apps/new"
        if organization
        else "/settings/apps/new"
    )
    return f"{web_url.rstrip('/')}{where}?state={quote(state, safe='')}"


async def convert(api_url: str, code: str, *, http: aiohttp.ClientSession | None = None) -> dict:
    """The App GitHub created, with its credentials (``pem``, ``webhook_secret``,
    ``client_secret``): ``POST {api}/app-manifests/{code}/conversions``, no authentication."""
    if http is None:
        async for session in client_session():
            return await convert(api_url, code, http=session)
        raise AssertionError("client_session yields once")  # pragma: no cover
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    headers = {
        "Accept": "application/vnd.github+json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Api-Version": "2022-11-28",
    }
    try:
        async with http.post(url, headers=headers) as resp:
            status = resp.status
            try:
                answer = await resp.json(content_type=None)
            except ValueError:
                answer = None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConversionFailed(
            502, f"GitHub could not be reached at {api_url} ({type(exc).__name__})."
        ) from None
    message = answer.get("message") if isinstance(answer, dict) else None
    if status == 404:
        raise ConversionFailed(
            400,
            "GitHub does not know this code: a code works once and for one hour only.",
        )
    if status == 422:
        raise ConversionFailed(400, f"GitHub refused the code: {message or 'Validation Failed'}.")
    if status != 201 or not isinstance(answer, dict):
        raise ConversionFailed(
            502, f"GitHub answered {status}" + (f": {message}" if message else "") + "."
        )
    missing = [name for name in CONVERSION_FIELDS if answer.get(name) in (None, "")]
    if missing:
        raise ConversionFailed(
            502, f"GitHub's answer lacks {', '.join(missing)}; nothing was stored."
        )
    return answer
