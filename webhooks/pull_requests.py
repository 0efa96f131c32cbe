"""Pull request events: linking by closing keywords, drafts, new commits, merge, unmerged close."""

from __future__ import annotations

import dataclasses

from gidgethub import routing, sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import pipeline
from bot.tickets import transitions
from bot.rules.linking import pull_request_references
from bot.github.outbox import JOB_COMMENT_ON_PR
from bot.rules.pipeline import Fact
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.jobs import JobRepo
from storage.models import Product
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.context import HandlerContext, as_int, parse_time, products_for_event, repository_of
from webhooks.deployments import ship_if_already_deployed

router = routing.Router()

def pr_state(pr: dict) -> str:
    if pr.get("merged") is True or (pr.get("merged_at") and pr.get("state") == "closed"):
        return "merged"
    return "closed" if str(pr.get("state", "open")).lower() == "closed" else "open"


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


async def _handle(event: sansio.Event, ctx: HandlerContext) -> None:
    pr = event.data.get("pull_request")
    repo = repository_of(event.data)
    if not isinstance(pr, dict) or as_int(pr.get("number")) is None or repo is None:
        return
    action = event.data.get("action")
    occurred_at = parse_time(pr.get("updated_at"))
    merged_into: list[Product] = []
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            sync = await sync_links(session, product, pr, *repo)
            issues = sync.issues
            if not issues or (sync.stale and pr_state(pr) != "merged"):
                continue
            if sync.any_new and pr_state(pr) == "open":
                await JobRepo(session).enqueue(
                    JOB_COMMENT_ON_PR,
                    {"product_id": product.id, "pr_number": pr["number"]},
                    dedupe_key=f"prnote:{product.id}:{pr['number']}",
                )
            cause = ctx.cause(event, pr_number=pr["number"])
            if action == "closed":
                await _closed(session, product, pr, issues, cause)
                if pr_state(pr) == "merged":
                    merged_into.append(product)
                continue
            tickets = await TicketRepo(session).linked_to_issues(product.id, issues, lock=True)
            fact = Fact.DRAFT_PR_LINKED if pr.get("draft") is True else Fact.PR_LINKED
            await transitions.apply(
                session, tickets, product, pipeline.Event(fact, occurred_at=occurred_at), cause
            )
            if action == "synchronize":
                await transitions.apply(
                    session,
                    tickets,
                    product,
                    pipeline.Event(Fact.PR_UPDATED, occurred_at=occurred_at),
                    cause,
                )
    for product in merged_into:
        await ship_if_already_deployed(ctx, product, event)


async def _closed(
    session: AsyncSession, product: Product, pr: dict, issues: list[int], cause
) -> None:
    links = PullRequestLinkRepo(session)
    tickets_repo = TicketRepo(session)
    if pr_state(pr) == "merged":
        tickets = await tickets_repo.linked_to_issues(product.id, issues, lock=True)
        event = pipeline.Event(
            Fact.PR_MERGED,
            occurred_at=parse_time(pr.get("merged_at")) or parse_time(pr.get("closed_at")),
        )
        await transitions.apply(session, tickets, product, event, cause)
        return
    closed_at = parse_time(pr.get("closed_at")) or parse_time(pr.get("updated_at"))
    for issue_number in issues:
        others_open = any(
            link.state == "open" and link.pr_number != pr["number"]
            for link in await links.for_issue(product.id, issue_number)
        )
        tickets = await tickets_repo.linked_to_issue(product.id, issue_number, lock=True)
        event = pipeline.Event(
            Fact.PR_CLOSED_UNMERGED, occurred_at=closed_at, other_open_prs=others_open
        )
        await transitions.apply(session, tickets, product, event, cause)


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
@router.register("pull_request", action="converted_to_draft")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="closed")
async def follow_linked_pull_request(event: sansio.Event, *, ctx: HandlerContext) -> None:
    await _handle(event, ctx)
