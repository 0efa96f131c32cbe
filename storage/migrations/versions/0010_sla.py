"""Service levels (issue 15): SLA policies (seeded with seed 003's default table), the SLA
columns of a ticket, its pauses, its earlier resolution cycles and its SLA events.

The ticket keeps, beside the facts the clocks depend on, the instants the breach and warning
lists ask about (``bot.rules.sla.deadlines``): ``sla_response_breach_at`` and
``sla_resolution_breach_at`` (the due time of a running clock, or of a stopped clock that
broke its promise; NULL for a clock that met it or stands paused), their minimum
``sla_breach_at``, and ``sla_alert_at`` (the next warning or breach to tell people about).
Each is indexed with the id, so "breached now" and "breaches within an hour" are range
scans at a million tickets.

``tickets.sla_policy_id`` and ``products.sla_policy_id`` carry no foreign key: adding one
to an existing SQLite table would rebuild it. Deleting a policy moves its tickets and
products to the default policy (bot.tickets.sla_policies).

Revision ID: 0010
Revises: 0009
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Seed 003's "Default SLA Times" (bot.rules.sla.DEFAULT_TARGETS), in minutes.
DEFAULT_TARGETS = {
    "critical": {"response": 30, "resolution": 4 * 60},
    "high": {"response": 2 * 60, "resolution": 8 * 60},
    "medium": {"response": 8 * 60, "resolution": 48 * 60},
    "low": {"response": 24 * 60, "resolution": 7 * 24 * 60},
}
TICKET_INSTANTS = (
    "sla_first_status_at",
    "sla_paused_since",
    "sla_cycle_started_at",
    "sla_cycle_ended_at",
    "first_response_due_at",
    "sla_response_breach_at",
    "sla_resolution_breach_at",
    "sla_breach_at",
    "sla_alert_at",
)
INDEXED = ("sla_response_breach_at", "sla_resolution_breach_at", "sla_breach_at", "sla_alert_at")


def upgrade() -> None:
    policies = op.create_table(
        "sla_policies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("calendar", sa.JSON(), nullable=True),
        sa.Column("response_ends", sa.String(32), nullable=False),
        sa.Column("warn_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        policies,
        [
            {
                "id": 1,
                "name": "Default",
                "is_default": True,
                "targets": DEFAULT_TARGETS,
                "calendar": None,
                "response_ends": "comment_or_status",
                "warn_minutes": 30,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    # add_column, not a batch: on SQLite a batch would copy the table (every ticket).
    op.add_column("products", sa.Column("sla_policy_id", sa.BigInteger(), nullable=True))
    op.add_column("products", sa.Column("sla_webhook_url", sa.String(500), nullable=True))
    op.add_column("products", sa.Column("sla_webhook_secret", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("sla_policy_id", sa.BigInteger(), nullable=True))
    for name in TICKET_INSTANTS:
        op.add_column("tickets", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    for name in INDEXED:
        op.create_index(f"ix_tickets_{name}", "tickets", [name, "id"])

    op.create_table(
        "ticket_sla_pauses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_sla_pauses_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_sla_pauses")),
    )
    op.create_index("ix_ticket_sla_pauses_ticket", "ticket_sla_pauses", ["ticket_id", "id"])
    op.create_table(
        "ticket_sla_cycles",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_sla_cycles_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_sla_cycles")),
    )
    op.create_index("ix_ticket_sla_cycles_ticket", "ticket_sla_cycles", ["ticket_id", "id"])
    op.create_table(
        "sla_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_events")),
        sa.UniqueConstraint("ticket_id", "clock", "kind", "due_at", name="uq_sla_events_once"),
    )


def downgrade() -> None:
    op.drop_table("sla_events")
    op.drop_table("ticket_sla_cycles")
    op.drop_table("ticket_sla_pauses")
    for name in INDEXED:
        op.drop_index(f"ix_tickets_{name}", table_name="tickets")
    # Plain DROP COLUMNs: a batch would copy the table, and on SQLite dropping the old copy
    # would cascade to the rows that point at it.
    for name in (*TICKET_INSTANTS, "sla_policy_id"):
        op.drop_column("tickets", name)
    for name in ("sla_webhook_secret", "sla_webhook_url", "sla_policy_id"):
        op.drop_column("products", name)
    op.drop_table("sla_policies")
