"""An index on the requester's email, so that the admin ticket search finds a requester's
tickets without reading every ticket (``storage.reads.ticket_search``).

Numbered 0008 because issue 14's App registration adds 0007 at the same time; whichever
lands second sets its ``down_revision`` to the other (this one says 0006 until then).

Revision ID: 0008
Revises: 0006
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_email_id", "tickets", ["submitter_email", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_email_id", table_name="tickets")
