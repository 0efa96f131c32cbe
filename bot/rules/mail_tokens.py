"""Signed threading tokens in TinyDesk's mail (pure).

A reply is matched to its ticket by what TinyDesk itself put in the mail it sent, and only
when the signature checks out, so a forged Message-ID or address cannot attach a stranger's
message to someone's ticket:

- the Message-ID of every outgoing mail: ``<td.TK-00042.<nonce>.<sig>@example.com>``;
- the Reply-To address: ``support+TK-00042.<token>@example.com`` (plus-addressing);
- a marker at the foot of the text: ``[TinyDesk ref:TK-00042.<token>]``.

Tokens are lowercase base32 (mail servers may fold the case of local parts) of an HMAC-SHA256
under a key derived from the server secret. Product addresses (``support+my-saas-app@...``)
carry no token: anyone may open a ticket there.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
import secrets

from bot.rules import ids

TOKEN_CHARS = 16  # 80 bits of HMAC
_KEY_INFO = b"tinydesk mail threading v1"
_TOKEN = rf"[a-z2-7]{{{TOKEN_CHARS}}}"
_PUBLIC_ID = r"TK-[0-9]{5,}"
_TICKET_TAG = re.compile(rf"^({_PUBLIC_ID})\.({_TOKEN})$", re.IGNORECASE)
_MESSAGE_ID = re.compile(
    rf"^<?td\.({_PUBLIC_ID})\.([a-z2-7]{{8,32}})\.({_TOKEN})@[^>\s]+>?$", re.IGNORECASE
)
_MARKER = re.compile(rf"\[TinyDesk ref:({_PUBLIC_ID})\.({_TOKEN})\]", re.IGNORECASE)
_PRODUCT_TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$", re.IGNORECASE)


def derive_key(server_secret: str) -> bytes:
    """The threading key: apart from every other use of the server secret."""
    return hmac.new(server_secret.encode(), _KEY_INFO, hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def _matches(key: bytes, message: str, token: str) -> bool:
    return secrets.compare_digest(_sign(key, message), token.lower())


def ticket_token(key: bytes, public_id: str) -> str:
    return _sign(key, f"ticket:{public_id}")


def _canonical(public_id: str) -> str | None:
    number = ids.parse_public_id(public_id)
    return None if number is None else ids.public_id(number)


# -- Message-IDs --------------------------------------------------------------------------


def message_id(key: bytes, public_id: str, domain: str, *, nonce: str | None = None) -> str:
    """A fresh Message-ID for a mail about this ticket (angle brackets included)."""
    nonce = nonce or base64.b32encode(secrets.token_bytes(10)).decode().lower()
    signature = _sign(key, f"mid:{public_id}.{nonce}")
    return f"<td.{public_id}.{nonce}.{signature}@{domain}>"


def ticket_of_message_id(key: bytes, value: str) -> str | None:
    """The publicId a Message-ID of ours names, or None (not ours, or forged)."""
    match = _MESSAGE_ID.match(value.strip())
    if not match:
        return None
    public_id, nonce, signature = match.groups()
    canonical = _canonical(public_id)
    if canonical is None or not _matches(key, f"mid:{canonical}.{nonce.lower()}", signature):
        return None
    return canonical


# -- addresses ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Recipient:
    """What the address a message was sent to says. ``kind``: ``ticket`` (a signed reply
    address), ``product`` (a plus-addressed product slug), ``base`` (the plain address),
    ``forged`` (a ticket tag whose token does not check out) or ``foreign`` (not ours)."""

    kind: str
    public_id: str | None = None
    product_slug: str | None = None


def split_address(address: str) -> tuple[str, str] | None:
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    return local, domain.lower()


def reply_address(key: bytes, mail_from: str, public_id: str) -> str:
    """``support+TK-00042.<token>@example.com`` for ``support@example.com``."""
    parts = split_address(mail_from)
    if parts is None:
        raise ValueError(f"not an address: {mail_from!r}")
    local, domain = parts
    return f"{local}+{public_id}.{ticket_token(key, public_id)}@{domain}"


def product_address(mail_from: str, slug: str) -> str:
    parts = split_address(mail_from)
    if parts is None:
        raise ValueError(f"not an address: {mail_from!r}")
    local, domain = parts
    return f"{local}+{slug}@{domain}"


def read_recipient(key: bytes, mail_from: str, address: str) -> Recipient:
    """What ``address`` (a recipient of an incoming message) means to TinyDesk."""
    ours, theirs = split_address(mail_from), split_address(address)
    if ours is None or theirs is None or theirs[1] != ours[1]:
        return Recipient("foreign")
    base, _, tag = theirs[0].partition("+")
    if base.lower() != ours[0].lower():
        return Recipient("foreign")
    if not tag:
        return Recipient("base")
    ticket = _TICKET_TAG.match(tag)
    if ticket:
        public_id = _canonical(ticket.group(1))
        if public_id and _matches(key, f"ticket:{public_id}", ticket.group(2)):
            return Recipient("ticket", public_id=public_id)
        return Recipient("forged")
    if _PRODUCT_TAG.match(tag):
        return Recipient("product", product_slug=tag.lower())
    return Recipient("foreign")


# -- body markers -------------------------------------------------------------------------


def body_marker(key: bytes, public_id: str) -> str:
    return f"[TinyDesk ref:{public_id}.{ticket_token(key, public_id)}]"


def ticket_of_body(key: bytes, text: str) -> str | None:
    """The publicId of the first genuine marker in ``text``, or None."""
    for match in _MARKER.finditer(text):
        public_id = _canonical(match.group(1))
        if public_id and _matches(key, f"ticket:{public_id}", match.group(2)):
            return public_id
    return None
