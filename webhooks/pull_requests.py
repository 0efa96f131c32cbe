"""Pull request events: linking by closing keywords, drafts, new commits, merge, unmerged close.

Each event stores the PR's state as of its time on its links (``webhooks.links``), then the
linked issues' tickets are re-derived; a merge may already be live (its deployment was
delivered first), which ``ship_if_already_deployed`` finds out.
"""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs.kinds import JobKind
from bot.tickets import transitions
from storage.models import Product
from storage.repos.jobs import JobRepo
from webhooks.context import HandlerContext, products_for_event
from webhooks.links import sync_links
from webhooks.payload import as_number, parse_time, pr_state, repository_of
from webhooks.shipping import check_again_after_commit, ship_if_already_deployed

router = routing.Router()


def _detail(action: str | None, pr: dict) -> str | None:
    """What the history needs beyond the action: a merge, or a draft."""
    if action == "closed" and pr_state(pr) == "merged":
        return "merged"
    if action == "opened" and pr.get("draft") is True:
        return "draft"
    return None


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
@router.register("pull_request", action="converted_to_draft")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="closed")
async def follow_linked_pull_request(event: sansio.Event, *, ctx: HandlerContext) -> None:
    pr = event.data.get("pull_request")
    repo = repository_of(event.data)
    if not isinstance(pr, dict) or as_number(pr.get("number")) is None or repo is None:
        return
    action = event.data.get("action")
    merged = pr_state(pr) == "merged"
    occurred_at = (parse_time(pr.get("merged_at")) if merged else None) or parse_time(
        pr.get("updated_at")
    )
    merged_into: list[Product] = []
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            sync = await sync_links(session, product, pr, *repo, pushed=action == "synchronize")
            if not sync.affected:
                continue
            if sync.any_new and pr_state(pr) == "open":
                await JobRepo(session).enqueue(
                    JobKind.COMMENT_ON_PR,
                    {"product_id": product.id, "pr_number": pr["number"]},
                    dedupe_key=f"prnote:{product.id}:{pr['number']}",
                )
            cause = ctx.cause(
                event, pr_number=pr["number"], detail=_detail(action, pr), occurred_at=occurred_at
            )
            await transitions.refresh(session, product, sync.affected, cause, known=sync.tickets)
            if merged and sync.issues:
                merged_into.append(product)
                await check_again_after_commit(session, product, ctx.delivery_id)
    for product in merged_into:
        await ship_if_already_deployed(ctx, product, event, pr)
