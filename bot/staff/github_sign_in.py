"""Staff sign-in with GitHub: the GitHub App's user OAuth flow (the App's client id and
secret: GITHUB_CLIENT_ID/_SECRET, or what the manifest flow stored).

``/login/oauth/authorize`` on GitHub's web host, with a random ``state`` kept in a cookie; back
at the callback, the code is exchanged at ``/login/oauth/access_token`` and ``GET /user`` says
who signed in. The account is the one linked to that GitHub user id, or, the first time, the
one an admin named by its GitHub login (``"github": "login"`` on the invitation), which is then
linked to the id (a login can be renamed and reused; an id cannot). Nobody else gets in.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.github.web_url import github_web_url
from storage.models import StaffAccount

TIMEOUT = aiohttp.ClientTimeout(total=10)


class SignInFailed(Exception):
    """What to tell the person (never a token or a secret)."""


@dataclasses.dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str


def configured(settings: Settings) -> bool:
    return bool(settings.github_client_id and settings.github_client_secret)


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": settings.github_client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "allow_signup": "false",
        }
    )
    return f"{github_web_url(settings.github_api_url)}/login/oauth/authorize?{query}"


async def user_of_code(settings: Settings, code: str, redirect_uri: str) -> GitHubUser:
    """Exchange the code for a user token, then ask GitHub who it is."""
    token_url = f"{github_web_url(settings.github_api_url)}/login/oauth/access_token"
    form = {
        "client_id": settings.github_client_id or "",
        "client_secret": settings.github_client_secret or "",
        "code": code,
        "redirect_uri": redirect_uri,
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.post(
                token_url, data=form, headers={"Accept": "application/json"}
            ) as resp:
                answer: Any = await resp.json(content_type=None)
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise SignInFailed(
                    "GitHub did not accept the sign-in (the code was used or expired); try again."
                )
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            }
            async with http.get(f"{settings.github_api_url}/user", headers=headers) as resp:
                user: Any = await resp.json(content_type=None) if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise SignInFailed("GitHub could not be reached; try again in a moment.") from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise SignInFailed("GitHub did not say who signed in; try again.")
    return GitHubUser(user["id"], str(user.get("login") or ""))


async def account_for(session: AsyncSession, user: GitHubUser) -> StaffAccount | None:
    """The enabled account linked to ``user``; the first time, the one an admin named by the
    login, which is linked now."""
    account = await session.scalar(select(StaffAccount).where(StaffAccount.github_id == user.id))
    if account is None and user.login:
        account = await session.scalar(
            select(StaffAccount).where(
                func.lower(StaffAccount.github_login) == user.login.lower(),
                StaffAccount.github_id.is_(None),
            )
        )
        if account is not None:
            account.github_id = user.id
    if account is None or account.disabled_at is not None:
        return None
    account.github_login = user.login or account.github_login
    return account
