"""An index on the requester's email, so that the admin ticket search finds a requester's
tickets without reading every ticket (``storage.reads.ticket_search``).

It follows 0007 (the stored GitHub App, issue 14 as well).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_email_id", "tickets", ["submitter_email", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_email_id", table_name="tickets")
