"""An index of the deliveries a worker may claim, in id order, so that the inbox's claim
reads the batch it takes instead of every due delivery of a backlog
(``storage.models.CLAIMABLE_DELIVERIES`` says why its SQLite form is ``+state``).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_claimable",
        "deliveries",
        ["id", "state", "next_attempt_at", "claimed_until"],
        postgresql_where=sa.text("state IN ('pending', 'processing')"),
        sqlite_where=sa.text("+state IN ('pending', 'processing')"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
