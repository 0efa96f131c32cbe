"""Pull request events: linking by closing keywords, drafts, new commits, merge, unmerged close."""

from __future__ import annotations

from gidgethub import routing, sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.kinds import JobKind
from bot.rules import pipeline
from bot.rules.pipeline import Fact
from bot.tickets import transitions
from storage.models import Product
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from webhooks.context import HandlerContext, products_for_event
from webhooks.links import sync_links
from webhooks.payload import as_int, parse_time, pr_state, repository_of
from webhooks.shipping import ship_if_already_deployed

router = routing.Router()

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
                    JobKind.COMMENT_ON_PR,
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
                session, tickets, product, pipeline.Signal(fact, occurred_at=occurred_at), cause
            )
            if action == "synchronize":
                await transitions.apply(
                    session,
                    tickets,
                    product,
                    pipeline.Signal(Fact.PR_UPDATED, occurred_at=occurred_at),
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
        signal = pipeline.Signal(
            Fact.PR_MERGED,
            occurred_at=parse_time(pr.get("merged_at")) or parse_time(pr.get("closed_at")),
        )
        await transitions.apply(session, tickets, product, signal, cause)
        return
    closed_at = parse_time(pr.get("closed_at")) or parse_time(pr.get("updated_at"))
    for issue_number in issues:
        others_open = any(
            link.state == "open" and link.pr_number != pr["number"]
            for link in await links.for_issue(product.id, issue_number)
        )
        tickets = await tickets_repo.linked_to_issue(product.id, issue_number, lock=True)
        signal = pipeline.Signal(
            Fact.PR_CLOSED_UNMERGED, occurred_at=closed_at, other_open_prs=others_open
        )
        await transitions.apply(session, tickets, product, signal, cause)


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
@router.register("pull_request", action="converted_to_draft")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="closed")
async def follow_linked_pull_request(event: sansio.Event, *, ctx: HandlerContext) -> None:
    await _handle(event, ctx)
