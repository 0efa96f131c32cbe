"""The GitHub App credentials the manifest flow stored in the database, and the one place
where they meet the environment (``settings_with_stored_app``).

Why the database and not a ``.env`` file: every server process on PostgreSQL reads the same
row, and a deploy image may be read-only. The private key, the webhook secret and the client
secret are encrypted with Fernet under a key derived (HKDF-SHA256) from the server secret,
``TINYDESK_SECRET_KEY``, or ``TINYDESK_ADMIN_TOKEN`` when that is unset; change it and the
stored credentials cannot be read (the start says so in one line). Environment variables win
over what was stored, each on its own: ``GITHUB_APP_ID``, ``GITHUB_PRIVATE_KEY[_PATH]``,
``GITHUB_WEBHOOK_SECRET``, ``GITHUB_API_URL``.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import DEFAULT_GITHUB_API_URL, ConfigError, Settings
from storage.database import Database
from storage.models import StoredGitHubApp
from storage.repos.github_app import GitHubAppRepo

HKDF_SALT = b"tinydesk"
HKDF_INFO = b"tinydesk github app credentials v1"

UNREADABLE = (
    "the GitHub App credentials stored in the database cannot be decrypted: "
    "TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN when it is unset) is not the value they were "
    "stored with; restore that value, or register the App again (/admin/setup or tinydesk setup)"
)
NO_SECRET = (
    "the database holds GitHub App credentials but no server secret can decrypt them: set "
    "TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN) to the value they were stored with"
)


def server_secret(settings: Settings) -> str | None:
    """The secret the stored credentials are encrypted under: TINYDESK_SECRET_KEY, else the
    admin token."""
    return settings.secret_key or settings.admin_token


def cipher(secret: str, info: bytes = HKDF_INFO) -> Fernet:
    """A Fernet under a key derived from the server secret; ``info`` keeps what each use
    encrypts apart (a product's SLA webhook secret: bot.tickets.sla_webhook)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=info).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@dataclasses.dataclass(frozen=True)
class RegisteredApp:
    """What the page may show of a stored App: nothing secret."""

    app_id: int
    slug: str
    name: str
    html_url: str
    owner_login: str
    api_url: str

    @property
    def install_url(self) -> str:
        return f"{self.html_url.rstrip('/')}/installations/new"


def public_view(row: StoredGitHubApp) -> RegisteredApp:
    return RegisteredApp(
        app_id=row.app_id,
        slug=row.slug,
        name=row.name,
        html_url=row.html_url,
        owner_login=row.owner_login,
        api_url=row.api_url,
    )


def row_from_conversion(
    answer: dict[str, Any], *, api_url: str, web_url: str, secret: str
) -> StoredGitHubApp:
    """The row for what ``POST /app-manifests/{code}/conversions`` answered, secrets sealed."""
    seal = cipher(secret).encrypt
    owner = answer.get("owner") or {}
    return StoredGitHubApp(
        app_id=int(answer["id"]),
        slug=str(answer["slug"]),
        name=str(answer["name"]),
        html_url=str(answer["html_url"]),
        owner_login=str(owner.get("login") or owner.get("slug") or ""),
        client_id=str(answer["client_id"]),
        api_url=api_url.rstrip("/"),
        web_url=web_url.rstrip("/"),
        private_key=seal(str(answer["pem"]).encode()).decode(),
        webhook_secret=seal(str(answer["webhook_secret"]).encode()).decode(),
        client_secret=seal(str(answer["client_secret"]).encode()).decode(),
    )


async def store_conversion(
    db: Database, settings: Settings, answer: dict[str, Any], *, api_url: str, web_url: str
) -> RegisteredApp:
    """Store the App GitHub created in place of any stored before; what a page may show."""
    secret = server_secret(settings)
    if secret is None:
        raise ConfigError(["set TINYDESK_SECRET_KEY or TINYDESK_ADMIN_TOKEN to store the App"])
    row = row_from_conversion(answer, api_url=api_url, web_url=web_url, secret=secret)
    async with db.begin() as session:
        await GitHubAppRepo(session).replace(row)
    return public_view(row)


async def registered_app(db: Database) -> RegisteredApp | None:
    """The stored App's public side (no decryption), or None."""
    async with db.session() as session:
        row = await GitHubAppRepo(session).get()
    return public_view(row) if row is not None else None


def merge(settings: Settings, row: StoredGitHubApp | None) -> Settings:
    """``settings`` with the stored App filling in what the environment left unset, field by
    field. Only the secrets the environment lacks are decrypted; ``ConfigError`` (one line)
    when they cannot be."""
    if row is None:
        return settings
    wanted: dict[str, Any] = {}
    if not settings.github_app_id:
        wanted["github_app_id"] = str(row.app_id)
    if settings.github_api_url == DEFAULT_GITHUB_API_URL:
        wanted["github_api_url"] = row.api_url
    if not settings.github_client_id:
        wanted["github_client_id"] = row.client_id
    sealed = {"github_private_key": row.private_key, "github_webhook_secret": row.webhook_secret}
    missing = {name: value for name, value in sealed.items() if not getattr(settings, name)}
    if missing:
        secret = server_secret(settings)
        if secret is None:
            raise ConfigError([NO_SECRET])
        open_ = cipher(secret).decrypt
        try:
            for name, value in missing.items():
                wanted[name] = open_(value.encode()).decode()
        except InvalidToken:
            raise ConfigError([UNREADABLE]) from None
    if not settings.github_client_secret:
        # Only staff sign-in with GitHub needs it: unreadable, that button says it is not
        # set up, and everything else starts.
        secret = server_secret(settings)
        try:
            if secret is not None:
                wanted["github_client_secret"] = (
                    cipher(secret).decrypt(row.client_secret.encode()).decode()
                )
        except InvalidToken:
            pass
    return dataclasses.replace(settings, **wanted)


async def settings_with_stored_app(settings: Settings, db: Database) -> Settings:
    """THE merge of the environment and the stored App, called by ``serve`` at start (and
    after a registration) and by every command that talks to GitHub."""
    async with db.session() as session:
        row = await GitHubAppRepo(session).get()
    return merge(settings, row)
