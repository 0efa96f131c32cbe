"""Seed 002's ITSM view of tickets (issue 18): tenants and applications on products, keys and
tickets; teams and the team a ticket is routed to; provenance, schema version and the asset
and vulnerability a ticket relates to.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table in ("products", "api_keys", "tickets"):
        op.add_column(
            table,
            sa.Column("tenant_id", sa.String(length=64), nullable=False, server_default="default"),
        )
    op.add_column("api_keys", sa.Column("app_id", sa.String(length=64), nullable=True))
    op.add_column("tickets", sa.Column("app_id", sa.String(length=64), nullable=True))
    op.add_column("tickets", sa.Column("team_id", sa.String(length=40), nullable=True))
    op.add_column(
        "tickets", sa.Column("source", sa.String(length=32), nullable=False, server_default="edm")
    )
    op.add_column(
        "tickets", sa.Column("schema_version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("tickets", sa.Column("related_asset_id", sa.String(length=64), nullable=True))
    op.add_column(
        "tickets", sa.Column("related_vulnerability_id", sa.String(length=64), nullable=True)
    )
    op.create_index("ix_tickets_tenant_id", "tickets", ["tenant_id", "id"], unique=False)
    op.create_index("ix_tickets_team_id", "tickets", ["team_id", "id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("desk_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("desk_id", name=op.f("uq_teams_desk_id")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_teams_tenant_name"),
    )


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite >= 3.35 has them): a batch would copy the table, and on
    # SQLite dropping the old copy would cascade to its children and lose the triggers.
    op.drop_table("teams")
    op.drop_index("ix_tickets_team_id", table_name="tickets")
    op.drop_index("ix_tickets_tenant_id", table_name="tickets")
    for column in (
        "related_vulnerability_id",
        "related_asset_id",
        "schema_version",
        "source",
        "team_id",
        "app_id",
        "tenant_id",
    ):
        op.drop_column("tickets", column)
    op.drop_column("api_keys", "app_id")
    op.drop_column("api_keys", "tenant_id")
    op.drop_column("products", "tenant_id")
