"""One SMTP transaction with the relay (aiosmtplib), and what its answer means.

``TINYDESK_SMTP_URL``: ``smtp://[user:pass@]host[:port]`` (port 25 by default; STARTTLS
whenever the relay offers it) or ``smtps://[user:pass@]host[:port]`` (implicit TLS, port 465).
The password is never logged nor put in an error: errors name the host and port only.
"""

from __future__ import annotations

import dataclasses
import ssl
from urllib.parse import unquote, urlsplit

import aiosmtplib

SMTP_TIMEOUT = 30.0


class BadRelayUrl(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Relay:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = dataclasses.field(default=None, repr=False)
    password: str | None = dataclasses.field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


def parse_relay(url: str) -> Relay:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise BadRelayUrl("the relay URL must look like smtp://host:port or smtps://user:pass@host")
    try:
        port = parts.port
    except ValueError:
        raise BadRelayUrl("the relay URL's port is not a number") from None
    implicit = parts.scheme == "smtps"
    return Relay(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class Transient(Exception):
    """Try again later: a 4xx answer, or the relay could not be reached."""


class Refused(Exception):
    """The relay refused the message for good (5xx)."""


async def send(
    relay: Relay,
    raw: bytes,
    *,
    sender: str,
    recipient: str,
    tls_context: ssl.SSLContext | None = None,
) -> None:
    """Hand ``raw`` to the relay for ``recipient``; raises Transient or Refused."""
    try:
        await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=[recipient],
            hostname=relay.host,
            port=relay.port,
            username=relay.username,
            password=relay.password,
            use_tls=relay.implicit_tls,
            start_tls=None if not relay.implicit_tls else False,  # None: when offered
            tls_context=tls_context,
            timeout=SMTP_TIMEOUT,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        _raise_for(min(codes) if codes else 550, f"{relay.name} refused the recipient")
    except aiosmtplib.SMTPResponseException as exc:
        _raise_for(exc.code, f"{relay.name} answered {exc.code} {exc.message[:200]}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise Transient(f"{relay.name} could not be reached: {type(exc).__name__}") from None


def _raise_for(code: int, message: str) -> None:
    if 400 <= code < 500:
        raise Transient(message)
    raise Refused(message)
