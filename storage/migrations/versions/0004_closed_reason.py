"""Why a ticket is closed: ``stage_transitions.reason`` on each step to CLOSED.

The vocabulary is ``bot.rules.pipeline.ClosedReason`` (fixed, completed, not_planned,
duplicate, support, maintainer). Steps to CLOSED written before it are read back from what
they recorded: the public description and the cause, and the stage they left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (reason, condition), the first that matches wins. The descriptions are those
# bot.rules.pipeline.describe wrote; a completed close closed at once only when the fix was
# out (DEPLOYED, or MERGED without deployment tracking), else after the grace period.
BACKFILL = (
    ("support", "cause = 'staff.closed'"),
    ("not_planned", "description = 'Issue closed as not planned'"),
    ("maintainer", "description LIKE 'Moved to % by a maintainer'"),
    (
        "fixed",
        "description LIKE '%; issue already closed' OR from_stage IN ('DEPLOYED', 'MERGED') "
        "OR cause IN ('deployment_status.created', 'pull_request.closed')",
    ),
    ("completed", "description = 'Issue closed as completed'"),
)


def upgrade() -> None:
    with op.batch_alter_table("stage_transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))
    for reason, condition in BACKFILL:
        op.execute(
            sa.text(
                "UPDATE stage_transitions SET reason = :reason "
                f"WHERE to_stage = 'CLOSED' AND reason IS NULL AND ({condition})"
            ).bindparams(reason=reason)
        )


def downgrade() -> None:
    with op.batch_alter_table("stage_transitions", schema=None) as batch_op:
        batch_op.drop_column("reason")
