"""The webhook handlers below HTTP: a real delivery body dispatched through the one router
(``webhooks.router``) with a ``HandlerContext``, as the inbox does, with no receiver, inbox
or fake GitHub in between; and what each unit of work means for when their writes commit."""

from __future__ import annotations

from gidgethub import sansio
from sqlalchemy import select

from bot.rules import ids
from bot.tickets.products import register_product, validate_product
from storage.database import Database
from storage.models import StageTransition, Ticket
from storage.unit import BatchTransaction, OwnTransactions, Unit
from tests.payloads import make_event
from tests.web_helpers import move_ticket, open_test_ticket
from webhooks import router
from webhooks.context import HandlerContext

REPO = "octo-org/my-saas-app"
ISSUE = 41


async def ticket_at_issue(db: Database) -> int:
    """A ticket of my-saas-app following issue #41, at ISSUE_CREATED; returns its number."""
    async with db.begin() as session:
        await register_product(
            session, validate_product({"slug": "my-saas-app", "repo": REPO, "name": "My SaaS"})
        )
    public_id, _ = await open_test_ticket(db)
    number = ids.parse_public_id(public_id)
    assert number is not None
    async with db.begin() as session:
        ticket = await session.get(Ticket, number)
        assert ticket is not None
        ticket.issue_number = ISSUE
    await move_ticket(db, public_id, "ISSUE_CREATED")
    return number


def merged_pr(delivery_id: str = "d-1") -> sansio.Event:
    name, payload = make_event(
        "pull_request.closed",
        merged=True,
        pr_number=7,
        pr_body=f"Fixes #{ISSUE}",
        merge_commit_sha="a" * 40,
        repo=REPO,
    )
    return sansio.Event(payload, event=name, delivery_id=delivery_id)


async def dispatch(event: sansio.Event, unit: Unit) -> None:
    ctx = HandlerContext(unit=unit, github=None, delivery_id=event.delivery_id)
    await router.dispatch(event, ctx=ctx)


async def stage_of(db: Database, number: int) -> str:
    async with db.session() as session:
        stage = await session.scalar(select(Ticket.stage).where(Ticket.id == number))
    assert stage is not None
    return stage


async def history_of(db: Database, number: int) -> list[str]:
    async with db.session() as session:
        steps = await session.scalars(
            select(StageTransition.to_stage)
            .where(StageTransition.ticket_id == number)
            .order_by(StageTransition.id)
        )
        return list(steps)


async def test_a_merged_pr_that_closes_the_issue_moves_its_ticket_to_merged(db):
    number = await ticket_at_issue(db)
    await dispatch(merged_pr(), OwnTransactions(db))
    assert await stage_of(db, number) == "MERGED"
    assert await history_of(db, number) == ["RECEIVED", "ISSUE_CREATED", "MERGED"]


async def test_the_same_delivery_dispatched_twice_moves_the_ticket_once(db):
    number = await ticket_at_issue(db)
    await dispatch(merged_pr(), OwnTransactions(db))
    await dispatch(merged_pr(), OwnTransactions(db))
    assert await history_of(db, number) == ["RECEIVED", "ISSUE_CREATED", "MERGED"]


async def test_a_pr_of_another_repository_moves_nothing(db):
    number = await ticket_at_issue(db)
    name, payload = make_event(
        "pull_request.closed",
        merged=True,
        pr_number=7,
        pr_body=f"Fixes #{ISSUE}",
        repo="someone-else/my-saas-app",
    )
    await dispatch(sansio.Event(payload, event=name, delivery_id="d-2"), OwnTransactions(db))
    assert await stage_of(db, number) == "ISSUE_CREATED"


async def test_in_a_batch_a_handlers_writes_commit_with_the_batch_not_before(db):
    number = await ticket_at_issue(db)
    async with BatchTransaction.open(db) as batch:
        async with batch.savepoint():
            await dispatch(merged_pr(), batch)
        # Another connection still sees the ticket as it was: nothing has committed yet.
        assert await stage_of(db, number) == "ISSUE_CREATED"
    assert await stage_of(db, number) == "MERGED"


async def test_in_a_batch_a_failing_piece_is_undone_alone(db):
    number = await ticket_at_issue(db)
    async with BatchTransaction.open(db) as batch:
        async with batch.savepoint():
            await dispatch(merged_pr(), batch)
        try:
            async with batch.savepoint():
                async with batch.begin() as session:
                    ticket = await session.get(Ticket, number)
                    assert ticket is not None
                    ticket.subject = "overwritten by a piece that then fails"
                raise RuntimeError("the second piece fails")
        except RuntimeError:
            pass
    async with db.session() as session:
        ticket = await session.get(Ticket, number)
        assert ticket is not None
        assert (ticket.stage, ticket.subject) == ("MERGED", "Login button unresponsive on Safari")
