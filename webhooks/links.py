"""Which ticketed issues a pull request closes, kept as links (pull request and review events)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.linking import pull_request_references
from storage.models import Product
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.payload import parse_time, pr_state


@dataclasses.dataclass(frozen=True)
class LinkSync:
    issues: list[int]  # ticketed issues the PR is linked to now
    any_new: bool  # a link was made by this event
    stale: bool  # a newer event of this PR was seen already: its state wins


async def sync_links(
    session: AsyncSession, product: Product, pr: dict, owner: str, repo: str
) -> LinkSync:
    """Store which ticketed issues the PR closes, as of this event (an older event than
    one already seen changes no link, except to record a merge, which is final)."""
    number = pr["number"]
    seen_at = parse_time(pr.get("updated_at")) or utcnow()
    links = PullRequestLinkRepo(session)
    existing = {link.issue_number: link for link in await links.for_pr(product.id, number)}
    linked = set(existing)
    stale = any(link.updated_at > seen_at for link in existing.values())
    state = pr_state(pr)
    any_new = False
    if not stale or state == "merged":
        referenced = pull_request_references(pr, owner, repo)
        tickets = await TicketRepo(session).linked_to_issues(product.id, sorted(referenced))
        ticketed = sorted({t.issue_number for t in tickets if t.issue_number is not None})
        if not stale:
            linked -= set(await links.unlink(product.id, number, keep=ticketed, known=existing))
        merge_sha = pr.get("merge_commit_sha") if state == "merged" else None
        for issue_number in ticketed:
            created, current = await links.upsert(
                product.id,
                number,
                issue_number,
                state=state,
                draft=bool(pr.get("draft")),
                merge_commit_sha=merge_sha,
                seen_at=seen_at,
                known=existing.get(issue_number),
            )
            any_new = any_new or created
            stale = stale or not current
            linked.add(issue_number)
    return LinkSync(sorted(linked), any_new, stale)
