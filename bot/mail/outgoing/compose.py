"""The mail a submitter gets about their ticket: multipart/alternative text and HTML (pure).

Every mail carries the tracking link, the one-click unsubscribe headers (RFC 8058), the
signed Message-ID and Reply-To that thread a reply back into the ticket, and
``Auto-Submitted: auto-replied`` so that auto-responders stay quiet (RFC 3834).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from bot.rules.mail_quotes import REPLY_ABOVE
from bot.web.html import Html, fragment, join, readable_time


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing to tell: a line, and for a staff comment its author and text."""

    line: str
    at: dt.datetime
    author: str | None = None
    body: str | None = None


@dataclasses.dataclass(frozen=True)
class Envelope:
    from_name: str
    mail_from: str
    to_address: str
    reply_to: str
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    unsubscribe_url: str | None = None


@dataclasses.dataclass(frozen=True)
class Draft:
    public_id: str
    subject: str
    greeting_name: str | None
    ticket_subject: str
    steps: Sequence[Step]
    tracking_url: str
    marker: str


def sender_address(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def text_body(draft: Draft, unsubscribe_url: str | None) -> str:
    lines = [REPLY_ABOVE, ""]
    lines.append(f"Hello {draft.greeting_name}," if draft.greeting_name else "Hello,")
    lines += ["", f"Your ticket {draft.public_id}: {draft.ticket_subject}", ""]
    for step in draft.steps:
        if step.body is not None:
            lines.append(f"* {step.author or 'Support'} wrote ({readable_time(step.at)}):")
            lines += [f"  {line}" if line else "" for line in step.body.splitlines()]
        else:
            lines.append(f"* {step.line} ({readable_time(step.at)})")
    lines += ["", "Follow your ticket here:", draft.tracking_url, ""]
    lines.append("Reply to this email to add to your ticket.")
    if unsubscribe_url:
        lines += ["Stop emails about this ticket:", unsubscribe_url]
    lines += ["", draft.marker, ""]
    return "\n".join(lines)


def html_body(draft: Draft, unsubscribe_url: str | None) -> str:
    items: list[Html] = []
    for step in draft.steps:
        if step.body is not None:
            paragraphs = join(
                fragment('<p style="margin:0 0 8px">{text}</p>', text=part)
                for part in step.body.split("\n\n")
                if part.strip()
            )
            items.append(
                fragment(
                    '<li><strong>{author}</strong> wrote <span style="color:#555">({time})'
                    '</span>:<blockquote style="margin:6px 0 0 0;padding-left:10px;'
                    'border-left:3px solid #ccc;white-space:pre-wrap">{body}</blockquote></li>',
                    author=step.author or "Support",
                    time=readable_time(step.at),
                    body=paragraphs,
                )
            )
        else:
            items.append(
                fragment(
                    '<li>{line} <span style="color:#555">({time})</span></li>',
                    line=step.line,
                    time=readable_time(step.at),
                )
            )
    unsubscribe = (
        fragment(
            '<p style="font-size:12px;color:#555"><a href="{url}">Stop emails about this '
            "ticket</a></p>",
            url=unsubscribe_url,
        )
        if unsubscribe_url
        else Html("")
    )
    return fragment(
        '<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">'
        '<p style="color:#777;font-size:12px">{reply_above}</p>'
        "<p>{greeting}</p>"
        "<p>Your ticket <strong>{public_id}</strong>: {ticket_subject}</p>"
        "<ul>{items}</ul>"
        '<p><a href="{tracking_url}">Follow your ticket</a></p>'
        "<p>Reply to this email to add to your ticket.</p>"
        "{unsubscribe}"
        '<p style="color:#999;font-size:11px">{marker}</p>'
        "</body></html>",
        reply_above=REPLY_ABOVE,
        greeting=f"Hello {draft.greeting_name}," if draft.greeting_name else "Hello,",
        public_id=draft.public_id,
        ticket_subject=draft.ticket_subject,
        items=join(items),
        tracking_url=draft.tracking_url,
        unsubscribe=unsubscribe,
        marker=draft.marker,
    )


def compose(draft: Draft, envelope: Envelope, *, now: dt.datetime) -> EmailMessage:
    """The message, every header set; ``bytes(message)`` is what goes to the relay."""
    message = EmailMessage()
    message["From"] = sender_address(envelope.from_name, envelope.mail_from)
    message["To"] = envelope.to_address
    message["Reply-To"] = envelope.reply_to
    message["Subject"] = draft.subject
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = envelope.message_id
    if envelope.in_reply_to:
        message["In-Reply-To"] = envelope.in_reply_to
    if envelope.references:
        message["References"] = " ".join(envelope.references)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"  # Exchange's auto-replies
    if envelope.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text_body(draft, envelope.unsubscribe_url))
    message.add_alternative(html_body(draft, envelope.unsubscribe_url), subtype="html")
    return message
