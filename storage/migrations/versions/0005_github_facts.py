"""GitHub's facts, stored with GitHub's times, from which every ticket's stage is derived.

- ``issue_facts``: per ticketed issue, its state and reason, the newest reopen, assignment,
  a maintainer's stage label, and the close grace deadline.
- ``pull_request_reviews``: each reviewer's latest review that counts, per pull request.
- ``pull_request_links`` gains the merge time, the newest push, and the first production
  deployment containing the merge.
- ``tickets`` gains ``staff_closed_at`` and drops ``issue_closed`` (now derived). Existing
  rows are carried over: tickets closed by support keep their CLOSED stage, and each linked
  issue's facts are seeded from its tickets' stage so nothing moves on upgrade.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As products.id: BIGINT, an INTEGER rowid on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issue_facts",
        sa.Column("product_id", ID, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.String(32), nullable=True),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("label_stage", sa.String(32), nullable=True),
        sa.Column("label_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_issue_facts_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "issue_number", name=op.f("pk_issue_facts")),
    )
    op.create_table(
        "pull_request_reviews",
        sa.Column("product_id", ID, nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_pull_request_reviews_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "pr_number", "reviewer", name=op.f("pk_pull_request_reviews")
        ),
    )
    for column in (
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_deployment_id", sa.BigInteger(), nullable=True),
        sa.Column("shipped_environment", sa.String(255), nullable=True),
    ):
        op.add_column("pull_request_links", column)
    op.create_index(
        "ix_pr_links_unshipped", "pull_request_links", ["product_id", "state", "shipped_at"]
    )
    op.add_column("tickets", sa.Column("staff_closed_at", sa.DateTime(timezone=True), nullable=True))
    _carry_over()
    # A plain DROP COLUMN (SQLite >= 3.35 has it): a batch rebuild would lose the triggers.
    op.drop_column("tickets", "issue_closed")


def _carry_over() -> None:
    """Seed the facts from today's stages, so that upgrading moves no ticket."""
    # Tickets support closed keep their CLOSED stage.
    op.execute(
        "UPDATE tickets SET staff_closed_at = updated_at WHERE stage = 'CLOSED' AND id IN "
        "(SELECT ticket_id FROM stage_transitions WHERE cause = 'staff.closed')"
    )
    # Merged fixes count as merged then; those of tickets past MERGED as shipped.
    op.execute("UPDATE pull_request_links SET merged_at = updated_at WHERE state = 'merged'")
    op.execute(
        "UPDATE pull_request_links SET shipped_at = updated_at WHERE state = 'merged' AND EXISTS "
        "(SELECT 1 FROM tickets t WHERE t.product_id = pull_request_links.product_id "
        "AND t.issue_number = pull_request_links.issue_number "
        "AND t.stage IN ('DEPLOYED', 'CLOSED'))"
    )
    # One row per linked issue, from its furthest ticket: closed issues stay closed, assigned
    # ones (FIX_IN_PROGRESS) stay assigned, and a stage set by hand is kept as a label.
    op.execute(
        "INSERT INTO issue_facts (product_id, issue_number, state, state_reason, state_at, "
        "assigned, assigned_at, label_stage, label_at) "
        "SELECT product_id, issue_number, "
        "CASE WHEN MAX(CASE WHEN stage = 'CLOSED' AND staff_closed_at IS NULL THEN 1 ELSE 0 END) = 1 "
        "THEN 'closed' ELSE 'open' END, NULL, MAX(stage_event_at), "
        "MAX(CASE WHEN stage = 'FIX_IN_PROGRESS' THEN 1 ELSE 0 END) = 1, MAX(stage_event_at), "
        "NULL, NULL "
        "FROM tickets WHERE issue_number IS NOT NULL AND product_id IS NOT NULL "
        "GROUP BY product_id, issue_number"
    )


def downgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column("issue_closed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_column("tickets", "staff_closed_at")
    op.drop_index("ix_pr_links_unshipped", table_name="pull_request_links")
    for name in (
        "shipped_environment",
        "shipped_deployment_id",
        "shipped_at",
        "pushed_at",
        "merged_at",
    ):
        op.drop_column("pull_request_links", name)
    op.drop_table("pull_request_reviews")
    op.drop_table("issue_facts")
