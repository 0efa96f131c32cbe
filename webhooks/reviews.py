"""Review events: changes requested, approved, dismissed."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.rules import pipeline
from bot.rules.pipeline import Fact
from bot.tickets import transitions
from storage.repos.tickets import TicketRepo
from webhooks.context import HandlerContext, products_for_event
from webhooks.links import sync_links
from webhooks.payload import as_int, parse_time, repository_of

router = routing.Router()

REVIEW_FACTS = {
    "approved": Fact.REVIEW_APPROVED,
    "changes_requested": Fact.CHANGES_REQUESTED,
    "dismissed": Fact.REVIEW_DISMISSED,
}


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="dismissed")
async def follow_review_of_linked_pull_request(event: sansio.Event, *, ctx: HandlerContext) -> None:
    review = event.data.get("review")
    pr = event.data.get("pull_request")
    repo = repository_of(event.data)
    if (
        not isinstance(review, dict)
        or not isinstance(pr, dict)
        or repo is None
        or as_int(pr.get("number")) is None
    ):
        return
    state = (
        "dismissed"
        if event.data.get("action") == "dismissed"
        else str(review.get("state") or "").lower()
    )
    fact = REVIEW_FACTS.get(state)
    if fact is None:
        return  # a plain comment review moves nothing
    occurred_at = parse_time(review.get("submitted_at")) or parse_time(pr.get("updated_at"))
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            issues = (await sync_links(session, product, pr, *repo)).issues
            tickets = await TicketRepo(session).linked_to_issues(product.id, issues, lock=True)
            await transitions.apply(
                session,
                tickets,
                product,
                pipeline.Signal(fact, occurred_at=occurred_at),
                ctx.cause(event, pr_number=pr["number"]),
            )
