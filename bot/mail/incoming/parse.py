"""Reading an incoming message with the standard library's ``email`` package (policy
``default``: encoded words and charsets decoded): who sent it, to whom, what it says as plain
text (HTML converted by bot.rules.mail_html), its threading headers and its attachments, with
every size bounded."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from bot.rules.mail_html import html_to_text
from bot.rules.mail_threading import message_ids

# Text beyond this is not even looked at (the ticket's own limit is far smaller).
MAX_TEXT_CHARS = 1024 * 1024
# Parts beyond this are not looked at (a message of 10,000 empty parts costs nothing).
MAX_PARTS = 100
MAX_MESSAGE_ID = 255
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class Unparsable(ValueError):
    """Not a mail message at all (no header block)."""


@dataclasses.dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class IncomingMessage:
    message: Message
    message_id: str  # the Message-ID, or a hash of the bytes when there is none
    from_address: str | None
    from_name: str | None
    subject: str
    text: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    recipients: tuple[str, ...]
    attachments: tuple[Attachment, ...]


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a header the parser cannot make sense of
        return ""
    return "" if value is None else str(value)


def _message_id(message: Message, raw: bytes) -> str:
    value = _header(message, "Message-ID").strip()
    found = message_ids(value)
    value = found[0] if found else value
    if not value:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(value) > MAX_MESSAGE_ID:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return value


def _addresses(message: Message, names: tuple[str, ...]) -> list[str]:
    values = [_header(message, name) for name in names]
    return [address for _, address in getaddresses([v for v in values if v]) if "@" in address]


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


def _body_text(message: EmailMessage) -> tuple[str, Message | None]:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", None
    text = _content(body)[:MAX_TEXT_CHARS]
    if body.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n"), body


def _attachments(message: Message, body: Message | None) -> list[Attachment]:
    found: list[Attachment] = []
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            break
        if part is body or part.is_multipart():
            continue
        filename = part.get_filename()
        maintype = part.get_content_maintype()
        is_attachment = part.get_content_disposition() == "attachment"
        if not (is_attachment or filename or maintype not in {"text", "multipart", "message"}):
            continue  # the other alternative of the body (its HTML or its plain text)
        payload = part.get_payload(decode=True)
        found.append(
            Attachment(
                filename, part.get_content_type(), payload if isinstance(payload, bytes) else b""
            )
        )
    return found


def parse(raw: bytes, *, envelope_recipients: tuple[str, ...] = ()) -> IncomingMessage:
    """Read ``raw`` (the message as received). Raises Unparsable for what is not a message."""
    if not raw.strip() or b":" not in raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]:
        raise Unparsable("no header block")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise Unparsable("no headers")
    name, address = parseaddr(_header(message, "From"))
    text, body = _body_text(message)
    recipients = [*envelope_recipients, *_addresses(message, _RECIPIENT_HEADERS)]
    return IncomingMessage(
        message=message,
        message_id=_message_id(message, raw),
        from_address=address if "@" in address else None,
        from_name=name.strip() or None,
        subject=" ".join(_header(message, "Subject").split()),
        text=text,
        in_reply_to=tuple(message_ids(_header(message, "In-Reply-To"))),
        references=tuple(message_ids(_header(message, "References"))),
        recipients=tuple(dict.fromkeys(r.strip() for r in recipients if r.strip())),
        attachments=tuple(_attachments(message, body)),
    )
