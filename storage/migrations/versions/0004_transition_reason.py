"""Why a ticket is CLOSED: ``stage_transitions.reason`` (placeholder; the view branch's 0004
also backfills old rows).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stage_transitions", sa.Column("reason", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stage_transitions") as batch:
        batch.drop_column("reason")
