"""Which ticketed issues a pull request closes, kept as links with the PR's facts (pull
request and review events)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.linking import pull_request_references
from storage.models import Product, Ticket
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.payload import as_text, parse_time, pr_state


@dataclasses.dataclass(frozen=True)
class LinkSync:
    issues: list[int]  # ticketed issues the PR is linked to now
    any_new: bool  # a link was made by this event
    stale: bool  # a newer event of this PR was seen already: its state wins
    unlinked: list[int] = dataclasses.field(default_factory=list)  # links this event dropped
    # The product's tickets on every issue this event may affect, by id, as read here
    # (None: not read), so that re-deriving them need not read them again on SQLite
    # (``transitions.refresh``'s ``known``).
    tickets: Sequence[Ticket] | None = None

    @property
    def affected(self) -> list[int]:
        """The issues whose tickets may have to be re-derived."""
        return sorted(set(self.issues) | set(self.unlinked))


async def sync_links(
    session: AsyncSession,
    product: Product,
    pr: dict,
    owner: str,
    repo: str,
    *,
    pushed: bool = False,
) -> LinkSync:
    """Store which ticketed issues the PR closes, and its state, as of this event. An older
    event than one already seen changes no link and no state, except to record a merge
    (final) or a push of commits (``pushed``: each push answers the reviews before it)."""
    number = pr["number"]
    seen_at = parse_time(pr.get("updated_at")) or utcnow()
    links = PullRequestLinkRepo(session)
    existing = {link.issue_number: link for link in await links.for_pr(product.id, number)}
    stale = any(link.updated_at > seen_at for link in existing.values())
    state = pr_state(pr)
    unlinked: list[int] = []
    tickets: Sequence[Ticket] | None = None
    if stale and state != "merged":
        targets = sorted(existing) if pushed else []
    else:
        referenced = pull_request_references(pr, owner, repo)
        # The tickets of the issues already linked too: every issue this event affects.
        issues = sorted(referenced | set(existing))
        tickets = await TicketRepo(session).linked_to_issues(product.id, issues)
        targets = sorted({t.issue_number for t in tickets if t.issue_number in referenced})
        if not stale:
            unlinked = await links.unlink(product.id, number, keep=targets, known=existing)
    linked = (set(existing) - set(unlinked)) | set(targets)
    any_new = False
    merged_at = (parse_time(pr.get("merged_at")) or seen_at) if state == "merged" else None
    for issue_number in targets:
        created, current = await links.upsert(
            product.id,
            number,
            issue_number,
            state=state,
            draft=bool(pr.get("draft")),
            merge_commit_sha=as_text(pr.get("merge_commit_sha"), 64) if state == "merged" else None,
            seen_at=seen_at,
            merged_at=merged_at,
            pushed_at=seen_at if pushed else None,
            known=existing.get(issue_number),
        )
        any_new = any_new or created
        stale = stale or not current
    return LinkSync(sorted(linked), any_new, stale, unlinked, tickets)
