"""SLA figures for the desk stats (issue 15 item 8): how each ticket's clocks came out, and
a table of signed deltas kept by triggers, like ``ticket_counts`` (migration 0002).

Each ticket gains, written by ``bot.tickets.sla_clock._store``:

- ``sla_response_outcome`` and ``sla_resolution_outcome``: ``met`` (the clock ended in
  time), ``breached`` (it stopped, ended or paused, after its due time: a broken promise
  that nothing can undo), NULL while undecided (running, or paused in time);
- ``sla_resolution_minutes``: the business minutes the current cycle took, once resolved;
- ``sla_running_due_at``: the earliest due instant of a running clock (NULL if none runs),
  indexed with the id, so "overdue now" and "due within the hour" are small range scans.

``sla_counts`` holds, per (product, owner, priority, response outcome, resolution outcome),
signed deltas of live tickets (-1 for what a ticket was, +1 for what it is), the resolved
ones and their business minutes; ``storage.repos.desk.compact_counts`` folds them.

Existing tickets get their outcomes and running due instant from the instants migration
0010 stored (exact: a stopped clock kept its due time only if it broke it), and are counted
once. Their resolution minutes stay NULL (business minutes need the calendar): the
business-hours average covers the tickets resolved from now on.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The columns whose change moves a ticket from one count to another.
WATCHED = (
    "product_id",
    "created_by",
    "priority",
    "sla_response_outcome",
    "sla_resolution_outcome",
    "sla_resolution_minutes",
    "deleted_at",
)
COUNT_COLUMNS = (
    "product_id, owner, priority, response_outcome, resolution_outcome, "
    "tickets, resolved, resolution_minutes"
)
INSERT_COUNT = f"INSERT INTO sla_counts ({COUNT_COLUMNS}) "


def _values(row: str, sign: str) -> str:
    # storage.visibility's OWNER, written out: a migration imports nothing live.
    return (
        f"VALUES ({row}.product_id, CASE WHEN {row}.product_id IS NULL THEN {row}.created_by END, "
        f"{row}.priority, {row}.sla_response_outcome, {row}.sla_resolution_outcome, {sign}1, "
        f"{sign}(CASE WHEN {row}.sla_resolution_minutes IS NOT NULL THEN 1 ELSE 0 END), "
        f"{sign}COALESCE({row}.sla_resolution_minutes, 0.0))"
    )


SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER sla_counts_insert AFTER INSERT ON tickets WHEN NEW.deleted_at IS NULL
    BEGIN {INSERT_COUNT}{_values("NEW", "+")}; END""",
    f"""CREATE TRIGGER sla_counts_delete AFTER DELETE ON tickets WHEN OLD.deleted_at IS NULL
    BEGIN {INSERT_COUNT}{_values("OLD", "-")}; END""",
    f"""CREATE TRIGGER sla_counts_update_old AFTER UPDATE OF {", ".join(WATCHED)} ON tickets
    WHEN OLD.deleted_at IS NULL AND ({SQLITE_CHANGED})
    BEGIN {INSERT_COUNT}{_values("OLD", "-")}; END""",
    f"""CREATE TRIGGER sla_counts_update_new AFTER UPDATE OF {", ".join(WATCHED)} ON tickets
    WHEN NEW.deleted_at IS NULL AND ({SQLITE_CHANGED})
    BEGIN {INSERT_COUNT}{_values("NEW", "+")}; END""",
]

PG_UNCHANGED = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in WATCHED)
PG_FUNCTION = f"""
CREATE FUNCTION sla_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {PG_UNCHANGED} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        {INSERT_COUNT}{_values("OLD", "-")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        {INSERT_COUNT}{_values("NEW", "+")};
    END IF;
    RETURN NULL;
END
$$"""
PG_TRIGGER = (
    "CREATE TRIGGER sla_counts_track AFTER INSERT OR UPDATE OR DELETE ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION sla_counts_track()"
)

# The existing tickets' outcomes, from what 0010 stored: a running clock keeps its due time
# in sla_*_breach_at, a stopped one only if it broke its promise. The response clock has
# ended at the first public staff reply, or the first staff status change if the policy
# (the ticket's, else the default) counts those. No working time ahead: nothing is due.
_RESPONSE_ENDS = (
    "COALESCE((SELECT p.response_ends FROM sla_policies p WHERE p.id = tickets.sla_policy_id), "
    "(SELECT p.response_ends FROM sla_policies p WHERE p.is_default ORDER BY p.id LIMIT 1))"
)
_RESPONSE_ENDED = (
    "(first_response_at IS NOT NULL OR (sla_first_status_at IS NOT NULL "
    f"AND {_RESPONSE_ENDS} = 'comment_or_status'))"
)
_RESOLUTION_ENDED = "(sla_cycle_ended_at IS NOT NULL)"


def _outcome(ended: str, breach_at: str) -> str:
    return (
        f"CASE WHEN {ended} OR sla_paused_since IS NOT NULL THEN CASE "
        f"WHEN {breach_at} IS NOT NULL THEN 'breached' WHEN {ended} THEN 'met' END END"
    )


def _running(ended: str, breach_at: str) -> str:
    return f"CASE WHEN NOT {ended} AND sla_paused_since IS NULL THEN {breach_at} END"


def _backfill(sqlite: bool) -> str:
    response = _running(_RESPONSE_ENDED, "sla_response_breach_at")
    resolution = _running(_RESOLUTION_ENDED, "sla_resolution_breach_at")
    # SQLite's two-argument min() is NULL if either is; COALESCE each side with the other.
    earliest = "min" if sqlite else "LEAST"
    return (
        "UPDATE tickets SET "
        f"sla_response_outcome = {_outcome(_RESPONSE_ENDED, 'sla_response_breach_at')}, "
        f"sla_resolution_outcome = {_outcome(_RESOLUTION_ENDED, 'sla_resolution_breach_at')}, "
        f"sla_running_due_at = {earliest}(COALESCE({response}, {resolution}), "
        f"COALESCE({resolution}, {response})) "
        "WHERE first_response_due_at IS NOT NULL"
    )


def upgrade() -> None:
    # add_column, not a batch: on SQLite a batch would copy the table (every ticket).
    for name in ("sla_response_outcome", "sla_resolution_outcome"):
        op.add_column("tickets", sa.Column(name, sa.String(8), nullable=True))
    op.add_column("tickets", sa.Column("sla_resolution_minutes", sa.Float(), nullable=True))
    op.add_column(
        "tickets", sa.Column("sla_running_due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_tickets_sla_running_due_at", "tickets", ["sla_running_due_at", "id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(_backfill(sqlite))

    op.create_table(
        "sla_counts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("response_outcome", sa.String(length=8), nullable=True),
        sa.Column("resolution_outcome", sa.String(length=8), nullable=True),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("resolved", sa.BigInteger(), nullable=False),
        sa.Column("resolution_minutes", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_counts")),
    )
    owner = "CASE WHEN product_id IS NULL THEN created_by END"
    keys = f"product_id, {owner}, priority, sla_response_outcome, sla_resolution_outcome"
    op.execute(
        f"{INSERT_COUNT}SELECT {keys}, count(*), count(sla_resolution_minutes), "
        f"coalesce(sum(sla_resolution_minutes), 0) FROM tickets "
        f"WHERE deleted_at IS NULL GROUP BY {keys}"
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
            op.execute(f"DROP TRIGGER IF EXISTS sla_counts_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS sla_counts_track ON tickets")
        op.execute("DROP FUNCTION IF EXISTS sla_counts_track()")
    op.drop_table("sla_counts")
    op.drop_index("ix_tickets_sla_running_due_at", table_name="tickets")
    # Plain DROP COLUMNs: a batch would copy the table, and on SQLite dropping the old copy
    # would cascade to the rows that point at it.
    for name in (
        "sla_running_due_at",
        "sla_resolution_minutes",
        "sla_resolution_outcome",
        "sla_response_outcome",
    ):
        op.drop_column("tickets", name)
