"""Email out (issue 17): per-ticket mail state (subscription, encrypted tracking token,
cursor, thread ids), the steps to mail, the mails stored before they are sent, and the staff
digest's days.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ticket_mail",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("last_item_id", sa.BigInteger(), nullable=False),
        sa.Column("first_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_message_id", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_mail")),
    )
    op.create_table(
        "mail_items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("transition_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_items")),
    )
    op.create_index("ix_mail_items_ticket", "mail_items", ["ticket_id", "id"], unique=False)
    op.create_table(
        "outgoing_mails",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outgoing_mails_message_id")),
    )
    op.create_index(
        "ix_outgoing_mails_ticket", "outgoing_mails", ["ticket_id", "state"], unique=False
    )
    op.create_index(
        "ix_outgoing_mails_address", "outgoing_mails", ["to_address", "sent_at"], unique=False
    )
    op.create_table(
        "mail_digests",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_mail_digests")),
    )


def downgrade() -> None:
    op.drop_table("mail_digests")
    op.drop_index("ix_outgoing_mails_address", table_name="outgoing_mails")
    op.drop_index("ix_outgoing_mails_ticket", table_name="outgoing_mails")
    op.drop_table("outgoing_mails")
    op.drop_index("ix_mail_items_ticket", table_name="mail_items")
    op.drop_table("mail_items")
    op.drop_table("ticket_mail")
