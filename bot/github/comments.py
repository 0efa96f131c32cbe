"""What TinyDesk writes on GitHub: the issue body, the one status comment, the PR note.

Hidden HTML markers tie each of them to TinyDesk, so that a lost answer from GitHub is
reconciled by finding what was already written instead of writing it twice. Nothing here
ever contains a submitter's email address or name, and the submitter's own text arrives
made safe by ``bot.rules.safetext`` (no mentions or references; scrubbed where the product
says so).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.rules import ids
from bot.rules.pipeline import STAGE_TITLES, Stage
from bot.rules.progress import HistoryStep
from bot.rules.safetext import IssueContent, IssueText, markdown_url
from bot.views.public import loop_text, pipeline_view
from storage.models import Ticket

ISSUE_LABEL = "tinydesk"
ISSUE_LABEL_COLOR = "5319e7"
ISSUE_LABEL_DESCRIPTION = "Opened by TinyDesk from a support ticket"
STATUS_MARKER = "<!-- tinydesk:status -->"
PR_MARKER = "<!-- tinydesk:pr-link -->"
_TICKET_MARKER = "<!-- tinydesk:ticket={public_id} -->"
_TICKET_MARKER_RE = re.compile(r"<!-- tinydesk:ticket=(TK-\d{5,}) -->")
MAX_ISSUE_BODY = 60_000


def ticket_marker(ticket_number: int) -> str:
    return _TICKET_MARKER.format(public_id=ids.public_id(ticket_number))


def marked_ticket(body: object) -> int | None:
    """The ticket number an issue body was written for, if TinyDesk wrote it (a body that is
    not text has no marker)."""
    match = _TICKET_MARKER_RE.search(body) if isinstance(body, str) else None
    return ids.parse_public_id(match.group(1)) if match else None


def web_hosts(api_url: str) -> tuple[str, ...]:
    """The web hosts whose issue URLs GitHub treats as references: github.com, and a GitHub
    Enterprise Server's own host (its API is ``https://HOST/api/v3``)."""
    host = (urlsplit(api_url).hostname or "").lower()
    return ("github.com",) if host in ("", "api.github.com") else ("github.com", host)


def issue_title(content: IssueContent, ticket_id: int) -> str:
    """The issue's title: the subject as ``bot.rules.safetext`` made it safe for GitHub."""
    title = content.title.replace("\r", " ").replace("\n", " ").strip()[:256]
    return title or ids.public_id(ticket_id)


def issue_body(ticket: Ticket, tracking_url: str, content: IssueContent) -> str:
    """The issue's body around the submitter's text as the product's ``issue_text`` allows."""
    public_id = ids.public_id(ticket.id)
    parts = [
        f"**Support ticket {public_id}** · [tracking page]({tracking_url})",
        "",
        "### Description",
        "",
    ]
    if content.description is None:
        parts.append(
            f"_Kept in TinyDesk: this product writes only the subject to GitHub "
            f"(issue text `{IssueText.SUBJECT_ONLY}`). Support staff see the whole ticket._"
        )
    else:
        description = content.description
        if len(description) > MAX_ISSUE_BODY:
            description = (
                description[:MAX_ISSUE_BODY] + "\n\n…(truncated; the full text is in TinyDesk)"
            )
        parts.append(description)
        if content.redacted:
            parts += [
                "",
                f"<sub>{sum(content.redacted.values())} item(s) were redacted from this issue "
                "(email addresses, phone numbers, IP addresses, credentials or secrets); the "
                "full text is in TinyDesk.</sub>",
            ]
    if content.screenshots or content.withheld_screenshots:
        parts += ["", "### Screenshots", ""]
        parts += [
            f"![screenshot {i}]({markdown_url(url)})"
            for i, url in enumerate(content.screenshots, 1)
        ]
        if content.withheld_screenshots:
            parts.append(
                f"_{content.withheld_screenshots} screenshot link(s) withheld: they carried "
                "credentials or secrets (see TinyDesk)._"
            )
    parts += [
        "",
        "---",
        "<sub>Opened by TinyDesk. Work on this issue as usual: assignment, a pull request that "
        f"says `Fixes #<this issue>`, reviews, merge and deployment move {public_id} along; "
        "the submitter sees each step.</sub>",
        "",
        ticket_marker(ticket.id),
    ]
    return "\n".join(parts)


def status_comment(
    tickets: Sequence[Ticket],
    tracking_url_for: Callable[[str], str],
    histories: Mapping[int, Sequence[HistoryStep]],
) -> str:
    """The 8-stage checklist for every ticket on one issue, drawn from the same view as the
    tracking page (``bot.views.public.pipeline_view``): a skipped stage is struck through,
    never ticked; changes requested is a loop under the review step, with its rounds."""
    lines = [STATUS_MARKER, "### TinyDesk status", ""]
    for ticket in tickets:
        current = Stage(ticket.stage)
        public_id = ids.public_id(ticket.id)
        link = tracking_url_for(public_id)
        pipeline = pipeline_view(current, histories.get(ticket.id, ()))
        closed = pipeline[-1].get("closedReasonText") if current is Stage.CLOSED else None
        why = f" · {closed}" if closed else ""
        lines.append(
            f"**{public_id}** · [tracking page]({link}) · now **{STAGE_TITLES[current]}**{why}"
        )
        lines.append("")
        lines.extend(_checklist_line(step) for step in pipeline if _shown(step))
        lines.append("")
    lines.append(
        "<sub>Updated by TinyDesk as this issue moves; the submitter sees the same stages.</sub>"
    )
    return "\n".join(lines)


def _shown(step: dict[str, Any]) -> bool:
    # The review loop only once changes were requested in the current run.
    return not step["loop"] or step["state"] in ("reached", "current")


def _checklist_line(step: dict[str, Any]) -> str:
    marker = " ← current" if step["current"] else ""
    if step["loop"]:
        return f"  - {loop_text(step['rounds'])}{marker}"
    title = step["title"]
    if step.get("closedReasonText"):
        title += f" · {step['closedReasonText']}"
    if step["state"] == "skipped":
        return f"- [ ] ~~{title}~~ skipped"
    return f"- [{'x' if step['reached'] else ' '}] {title}{marker}"


def pr_link_comment(public_ids: Sequence[str], issue_numbers: Sequence[int]) -> str:
    issues = ", ".join(f"#{n}" for n in sorted(issue_numbers))
    tickets = ", ".join(sorted(public_ids))
    return (
        f"{PR_MARKER}\nTinyDesk: this pull request fixes {issues}, so it will update support "
        f"ticket{'s' if len(public_ids) != 1 else ''} {tickets} "
        "as it is reviewed, merged and deployed."
    )


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
