"""Pre-computed ticket counts for the desk stats (a table of signed deltas kept by triggers),
and an index on the tickets of a product at one stage (the merges awaiting a deployment).

Every insert, delete or relevant update of a live ticket adds rows (-1 for what it was, +1 for
what it is) to ``ticket_counts``; the stats sum them instead of scanning every ticket. Rows are
only ever inserted by the triggers (no row is updated in place, so concurrent writers never
wait on one another or deadlock); ``storage.desk.compact_counts`` folds them together now and
then. Existing tickets are counted here once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The columns whose change moves a ticket from one count to another.
WATCHED = ("product_id", "created_by", "status", "resolved_at", "created_at", "deleted_at")


def _sqlite_values(row: str, sign: str) -> str:
    return (
        f"VALUES ({row}.product_id, CASE WHEN {row}.product_id IS NULL THEN {row}.created_by END, "
        f"{row}.status, {sign}1, {sign}({row}.resolved_at IS NOT NULL), "
        f"{sign}(CASE WHEN {row}.resolved_at IS NOT NULL THEN "
        f"(julianday({row}.resolved_at) - julianday({row}.created_at)) * 86400.0 ELSE 0.0 END))"
    )


INSERT_COUNT = (
    "INSERT INTO ticket_counts (product_id, owner, status, tickets, resolved, resolution_seconds) "
)
CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets WHEN NEW.deleted_at IS NULL
    BEGIN {INSERT_COUNT}{_sqlite_values("NEW", "+")}; END""",
    f"""CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets WHEN OLD.deleted_at IS NULL
    BEGIN {INSERT_COUNT}{_sqlite_values("OLD", "-")}; END""",
    f"""CREATE TRIGGER ticket_counts_update_old AFTER UPDATE OF {", ".join(WATCHED)} ON tickets
    WHEN OLD.deleted_at IS NULL AND ({CHANGED})
    BEGIN {INSERT_COUNT}{_sqlite_values("OLD", "-")}; END""",
    f"""CREATE TRIGGER ticket_counts_update_new AFTER UPDATE OF {", ".join(WATCHED)} ON tickets
    WHEN NEW.deleted_at IS NULL AND ({CHANGED})
    BEGIN {INSERT_COUNT}{_sqlite_values("NEW", "+")}; END""",
]


def _pg_values(row: str, sign: str) -> str:
    return (
        f"VALUES ({row}.product_id, CASE WHEN {row}.product_id IS NULL THEN {row}.created_by END, "
        f"{row}.status, {sign}1, {sign}(CASE WHEN {row}.resolved_at IS NOT NULL THEN 1 ELSE 0 END), "
        f"{sign}COALESCE(EXTRACT(EPOCH FROM ({row}.resolved_at - {row}.created_at)), 0))"
    )


PG_UNCHANGED = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in WATCHED)
PG_FUNCTION = f"""
CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {PG_UNCHANGED} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        {INSERT_COUNT}{_pg_values("OLD", "-")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        {INSERT_COUNT}{_pg_values("NEW", "+")};
    END IF;
    RETURN NULL;
END
$$"""
PG_TRIGGER = (
    "CREATE TRIGGER ticket_counts_track AFTER INSERT OR UPDATE OR DELETE ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION ticket_counts_track()"
)


def upgrade() -> None:
    op.create_table(
        "ticket_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("resolved", sa.BigInteger(), nullable=False),
        sa.Column("resolution_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_counts")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_product_stage", ["product_id", "stage"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    seconds = (
        "(julianday(resolved_at) - julianday(created_at)) * 86400.0"
        if sqlite
        else "EXTRACT(EPOCH FROM (resolved_at - created_at))"
    )
    op.execute(
        f"{INSERT_COUNT}SELECT product_id, CASE WHEN product_id IS NULL THEN created_by END, status, "
        f"count(*), count(resolved_at), coalesce(sum({seconds}), 0) FROM tickets "
        "WHERE deleted_at IS NULL GROUP BY product_id, CASE WHEN product_id IS NULL THEN created_by END, status"
    )
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update_old", "update_new"):
            op.execute(f"DROP TRIGGER IF EXISTS ticket_counts_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS ticket_counts_track ON tickets")
        op.execute("DROP FUNCTION IF EXISTS ticket_counts_track()")
    op.drop_table("ticket_counts")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_product_stage")
