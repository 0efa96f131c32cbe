"""Review events: each reviewer's latest review that counts (approved, changes requested,
dismissed) is stored, then the PR's linked tickets are re-derived."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.tickets import transitions
from storage.repos.facts import ReviewRepo
from webhooks.context import HandlerContext, products_for_event
from webhooks.links import sync_links
from webhooks.payload import as_int, as_number, as_text, parse_time, repository_of

router = routing.Router()

VERDICTS = {"approved", "changes_requested", "dismissed"}


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
        or as_number(pr.get("number")) is None
    ):
        return
    dismissed = event.data.get("action") == "dismissed"
    verdict = "dismissed" if dismissed else str(review.get("state") or "").lower()
    user = review.get("user")
    reviewer = as_text(user.get("login"), 200) if isinstance(user, dict) else None
    if verdict not in VERDICTS or reviewer is None:
        return  # a comment-only review changes no one's verdict (GitHub's rule)
    submitted_at = parse_time(review.get("submitted_at")) or parse_time(pr.get("updated_at"))
    occurred_at = parse_time(pr.get("updated_at")) if dismissed else submitted_at
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            await ReviewRepo(session).record(
                product.id,
                pr["number"],
                reviewer,
                review_id=as_int(review.get("id")) or 0,
                verdict=verdict,
                submitted_at=submitted_at,
            )
            sync = await sync_links(session, product, pr, *repo)
            await transitions.refresh(
                session,
                product,
                sync.affected,
                ctx.cause(event, pr_number=pr["number"], detail=verdict, occurred_at=occurred_at),
                known=sync.tickets,
            )
