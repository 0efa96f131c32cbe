"""Stripping the quoted history from a mail reply (pure): what the submitter wrote is kept,
what their client quoted below (or around) it is dropped.

TinyDesk's own mail starts with ``REPLY_ABOVE`` (bot/mail/outgoing puts it there), so a reply
cut at that line is exact; for the rest, the markers the common clients write:

- Gmail, Thunderbird: ``On Tue, 1 Dec 2026 at 10:00, Support <support@...> wrote:`` (possibly
  wrapped over two lines), then ``>`` lines;
- Apple Mail: ``On 1 Dec 2026, at 10:00, Support <support@...> wrote:``;
- Outlook: ``-----Original Message-----``, or a ``From:`` line followed by ``Sent:``/``Date:``
  (and a ``____`` rule above it);
- signatures below ``-- `` (RFC 3676's sig dash), and any remaining ``>`` quoted lines.
"""

from __future__ import annotations

import re

REPLY_ABOVE = "-- Reply above this line --"

_WROTE = re.compile(
    r"^\s*(On|Le|Am|El|Il|Op)\b.{0,300}\b(wrote|a écrit|schrieb|escribió|ha scritto|schreef)"
    r"\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\**(From|De|Von)\s*:\**\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(Sent|Date|Envoyé|Gesendet|To)\s*:\**\s", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{8,}\s*$")
_SIGNATURE = "-- "


def _cut_index(lines: list[str]) -> int | None:
    """The first line of the quoted history, or None when nothing is quoted."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == REPLY_ABOVE or REPLY_ABOVE in stripped:
            return index
        if _ORIGINAL.match(line):
            return index
        if _WROTE.match(line):
            return index
        # Gmail wraps a long attribution: "On ..., Support <" / "support@example.com> wrote:".
        if index + 1 < len(lines) and re.match(r"^\s*(On|Le|Am|El)\b", line, re.IGNORECASE):
            if _WROTE.match(f"{line} {lines[index + 1]}"):
                return index
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            start = index
            if start > 0 and _RULE.match(lines[start - 1]):
                start -= 1
            return start
        if line.rstrip() == _SIGNATURE.rstrip():
            return index
    return None


def strip_quoted(text: str) -> str:
    """What the sender wrote above the history their client quoted, trimmed; the whole text
    (trimmed) when stripping would leave nothing, so a reply is never lost."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_index(lines)
    kept = lines if cut is None else lines[:cut]
    kept = [line for line in kept if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()
