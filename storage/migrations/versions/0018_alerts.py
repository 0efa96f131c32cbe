"""Alerts to tickets (issue 18): alert groups and their alerts.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("group_hash", name=op.f("uq_alert_groups_group_hash")),
    )
    op.create_index("ix_alert_groups_ticket", "alert_groups", ["ticket_id"], unique=False)
    op.create_table(
        "alert_instances",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_instances")),
        sa.UniqueConstraint("group_id", "fingerprint", name="uq_alert_instances_once"),
    )


def downgrade() -> None:
    op.drop_table("alert_instances")
    op.drop_index("ix_alert_groups_ticket", table_name="alert_groups")
    op.drop_table("alert_groups")
