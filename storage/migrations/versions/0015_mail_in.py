"""Mail in (issue 17): what was decided about each incoming message (``mail_messages``, one
row per Message-ID and direction), the files that came with tickets (``attachments``), and a
product's own mail address (``products.mail_address``, unique).

Revision ID: 0015
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("direction", "message_id", name="uq_mail_messages_direction"),
    )
    op.create_index("ix_mail_messages_ticket", "mail_messages", ["ticket_id"], unique=False)
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("desk_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("desk_id", name=op.f("uq_attachments_desk_id")),
    )
    op.create_index("ix_attachments_ticket", "attachments", ["ticket_id", "id"], unique=False)
    # add_column, not a batch: on SQLite a batch would copy the table.
    op.add_column("products", sa.Column("mail_address", sa.String(length=320), nullable=True))
    op.create_index("ix_products_mail_address", "products", ["mail_address"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_products_mail_address", table_name="products")
    op.drop_column("products", "mail_address")
    op.drop_index("ix_attachments_ticket", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_mail_messages_ticket", table_name="mail_messages")
    op.drop_table("mail_messages")
