"""A product's SLA webhook: where its warnings and breaches are POSTed, and the secret that
signs them (``bot.tickets.sla_alerts``).

``PATCH /api/admin/products/{slug}`` takes ``slaWebhookUrl`` (https, or plain http to this
machine only: ``127.0.0.1`` or ``localhost``; null removes the webhook and its
secret) and ``rotateSlaWebhookSecret: true``. The first URL, and each rotation, makes a new
secret that the response shows once (``slaWebhookSecret``); a changed URL keeps the secret.
The secret is stored encrypted under the server secret, like the GitHub App's credentials
(``bot.github.stored_app``); it is never shown again.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from cryptography.fernet import InvalidToken

from bot.config import Settings
from bot.errors import ApiError
from bot.github.stored_app import cipher, server_secret
from bot.rules.callbacks import PORT_PATTERN
from bot.rules.validation import FieldErrors
from storage.models import Product

URL_FIELD = "slaWebhookUrl"
ROTATE_FIELD = "rotateSlaWebhookSecret"
FIELDS = (URL_FIELD, ROTATE_FIELD)
MAX_URL = 500  # products.sla_webhook_url
_PORT = PORT_PATTERN
# The one rule, also the OpenAPI document's pattern: https to a host name or address, or
# plain http to this machine; then printable ASCII (no user, password or white space).
URL_PATTERN = (
    rf"^(?:https://[A-Za-z0-9.-]+{_PORT}|http://(?:127\.0\.0\.1|localhost){_PORT})"
    r"(?:[/?#][!-~]*)?$"
)
URL = re.compile(URL_PATTERN)
URL_MESSAGE = (
    "slaWebhookUrl must be an https:// URL (or http:// to 127.0.0.1 or localhost, for a "
    f"receiver on this machine), at most {MAX_URL} characters of printable ASCII, without a "
    "user or password; null removes the webhook"
)
SECRET_FIELD = "slaWebhookSecret"  # in the one response that made the secret
SECRET_PREFIX = "whsec_"
HKDF_INFO = b"tinydesk sla webhook secret v1"
# How the stored text says what it holds: encrypted (a server secret was set), or not.
SEALED, PLAIN = "fernet:", "plain:"

# What validate() returns under these keys (not model attributes: ``take`` moves them out).
URL_CHANGE, ROTATE_CHANGE = "_sla_webhook_url", "_rotate_sla_webhook_secret"


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted (the server secret changed)."""


def url_problem(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_URL or not URL.fullmatch(value):
        return URL_MESSAGE
    return None


def validate(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    """The webhook changes a PATCH body asks for, under this module's own keys."""
    changes: dict[str, Any] = {}
    if URL_FIELD in data:
        url = data[URL_FIELD]
        if url is not None and (problem := url_problem(url)):
            errors.add(URL_FIELD, problem)
        changes[URL_CHANGE] = url
    if ROTATE_FIELD in data:
        rotate = data[ROTATE_FIELD]
        if rotate is not True:
            errors.add(ROTATE_FIELD, f"{ROTATE_FIELD} must be true (or left out)")
        changes[ROTATE_CHANGE] = True
    return changes


def take(changes: dict[str, Any]) -> dict[str, Any]:
    """Move this module's keys out of ``changes`` (the rest are model attributes)."""
    return {key: changes.pop(key) for key in (URL_CHANGE, ROTATE_CHANGE) if key in changes}


def apply(settings: Settings, product: Product, webhook: dict[str, Any]) -> str | None:
    """Carry out what ``take`` took on ``product``: the new secret, to be shown once, if one
    was made."""
    has_url = URL_CHANGE in webhook
    url = webhook.get(URL_CHANGE)
    rotate = webhook.get(ROTATE_CHANGE, False)
    if has_url and url is None:
        if rotate:
            raise _rotate_without_url()
        product.sla_webhook_url = product.sla_webhook_secret = None
        return None
    if has_url:
        product.sla_webhook_url = url
    if rotate and product.sla_webhook_url is None:
        raise _rotate_without_url()
    if product.sla_webhook_url is not None and (rotate or product.sla_webhook_secret is None):
        secret = new_secret()
        product.sla_webhook_secret = seal(settings, secret)
        return secret
    return None


def _rotate_without_url() -> ApiError:
    # 409, not 400: the body is well formed; the product's state refuses it.
    return ApiError(
        409,
        "No SLA webhook to rotate",
        "Set slaWebhookUrl first: its secret is what rotateSlaWebhookSecret replaces.",
    )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def seal(settings: Settings, secret: str, info: bytes = HKDF_INFO) -> str:
    """``secret`` as stored: encrypted under the server secret (``info`` names its use: the
    ticket callbacks' secrets have their own), or plain when there is none."""
    key = server_secret(settings)
    if key is None:  # no admin token nor secret key: nothing to encrypt under
        return PLAIN + secret
    return SEALED + cipher(key, info).encrypt(secret.encode()).decode()


def reveal(settings: Settings, stored: str, info: bytes = HKDF_INFO) -> str:
    if stored.startswith(PLAIN):
        return stored[len(PLAIN) :]
    key = server_secret(settings)
    if key is None or not stored.startswith(SEALED):
        raise SecretUnreadable("no server secret to decrypt the webhook secret with")
    try:
        return cipher(key, info).decrypt(stored[len(SEALED) :].encode()).decode()
    except InvalidToken:
        if info != HKDF_INFO:
            raise SecretUnreadable(
                "the secret was stored under another TINYDESK_SECRET_KEY (or admin token)"
            ) from None
        raise SecretUnreadable(
            "the SLA webhook secret was stored under another TINYDESK_SECRET_KEY "
            "(or admin token); rotate it (rotateSlaWebhookSecret)"
        ) from None
