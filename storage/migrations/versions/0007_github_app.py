"""The GitHub App registered through the manifest flow (``github_app``: one row, its secrets
encrypted above storage) and the registrations under way (``github_app_setup_states``: the
SHA-256 of each ``state`` sent to GitHub, with its expiry).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "github_app",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("html_url", sa.String(500), nullable=False),
        sa.Column("owner_login", sa.String(100), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("api_url", sa.String(500), nullable=False),
        sa.Column("web_url", sa.String(500), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_app")),
    )
    op.create_table(
        "github_app_setup_states",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("api_url", sa.String(500), nullable=False),
        sa.Column("web_url", sa.String(500), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_app_setup_states")),
    )


def downgrade() -> None:
    op.drop_table("github_app_setup_states")
    op.drop_table("github_app")
