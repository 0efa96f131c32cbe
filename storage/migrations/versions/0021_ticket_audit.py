"""Audit entries (issue 19, item 6): who changed what on a ticket, from what to what.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # No foreign key to tickets: the trail is read by ticket, never cascaded away.
    op.create_table(
        "ticket_audit",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_audit")),
    )
    op.create_index("ix_ticket_audit_ticket", "ticket_audit", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_audit_ticket", table_name="ticket_audit")
    op.drop_table("ticket_audit")
