"""Migration 0004 gives every step to CLOSED written before it the reason it records."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage import migrate
from storage.models import StageTransition
from tests.web_helpers import open_test_ticket

# (from_stage, to_stage, cause, description) as TinyDesk wrote them, and the reason expected.
OLD_ROWS = [
    (("RECEIVED", "CLOSED", "staff.closed", "Closed by support"), "support"),
    (("DEPLOYED", "CLOSED", "staff.closed", "Closed by support"), "support"),
    (
        ("ISSUE_CREATED", "CLOSED", "issues.closed", "Issue closed as not planned"),
        "not_planned",
    ),
    (("DEPLOYED", "CLOSED", "issues.closed", "Issue closed as not planned"), "not_planned"),
    (("DEPLOYED", "CLOSED", "issues.closed", "Issue closed as completed"), "fixed"),
    (("MERGED", "CLOSED", "issues.closed", "Issue closed as completed"), "fixed"),
    (("FIX_IN_PROGRESS", "CLOSED", "issues.closed", "Issue closed as completed"), "completed"),
    (
        (
            "MERGED",
            "CLOSED",
            "deployment_status.created",
            "Deployed to production; issue already closed",
        ),
        "fixed",
    ),
    (
        (
            "PR_OPEN",
            "CLOSED",
            "pull_request.closed",
            "Pull request #2 merged; issue already closed",
        ),
        "fixed",
    ),
    (("PR_OPEN", "CLOSED", "issues.labeled", "Moved to closed by a maintainer"), "maintainer"),
    (("RECEIVED", "CLOSED", "test", "Moved to CLOSED by a test"), None),  # nothing to go by
    (
        ("ISSUE_CREATED", "FIX_IN_PROGRESS", "issues.assigned", "A developer picked up the issue"),
        None,
    ),
]


def _downgrade(connection: Connection, revision: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_old_closed_steps_get_their_reason_from_what_they_recorded(db):
    public_id, _ = await open_test_ticket(db, product_slug=None)
    number = int(public_id.removeprefix("TK-"))
    async with db.begin() as session:
        for (from_stage, to_stage, cause, description), _ in OLD_ROWS:
            session.add(
                StageTransition(
                    ticket_id=number,
                    from_stage=from_stage,
                    to_stage=to_stage,
                    cause=cause,
                    description=description,
                )
            )
    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade, "0003")
    await migrate.upgrade(db.engine)

    async with db.session() as session:
        rows = (
            await session.execute(select(StageTransition.reason).order_by(StageTransition.id))
        ).all()
    # The ticket's own RECEIVED step first, then the rows above in order.
    assert [reason for (reason,) in rows] == [None] + [reason for _, reason in OLD_ROWS]
