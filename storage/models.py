"""The TinyDesk schema as SQLAlchemy 2.x declarative models.

The schema itself is made only by the Alembic migrations in ``storage/migrations``; these
models describe it for queries. A test checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Product(Base):
    """A product customers file tickets against, tied to one GitHub repository."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repo_owner: Mapped[str] = mapped_column(String(100))
    repo_name: Mapped[str] = mapped_column(String(100))
    installation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deployment_tracking: Mapped[bool] = mapped_column(Boolean, default=True)
    production_environments: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["production"])
    # How much submitter text its GitHub issues carry: full, scrubbed or subject-only
    # (bot.rules.safetext); NULL: by the repository's visibility (public: scrubbed).
    issue_text: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The SLA policy of its tickets (NULL: the default policy); no foreign key (migration 0010).
    sla_policy_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Where SLA warnings and breaches are POSTed, signed with the secret (bot.tickets.sla_alerts).
    sla_webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sla_webhook_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The client its tickets are billed to (migration 0012; no foreign key, like sla_policy_id).
    client_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The address mail to it arrives at, besides support+<slug>@... (migration 0015).
    # Stored lowercase; unique (an index: SQLite cannot add a constraint to a table).
    mail_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # The organisation the product belongs to (issue 18): its tickets are that tenant's.
    tenant_id: Mapped[str] = mapped_column(String(64), default="default", server_default="default")

    __table_args__ = (
        Index("ix_products_repo", "repo_owner", "repo_name"),
        Index("ix_products_mail_address", "mail_address", unique=True),
    )

    @property
    def repo_full_name(self) -> str:
        return f"{self.repo_owner}/{self.repo_name}"


class Ticket(Base):
    """A support ticket. ``id`` is also the number behind its ``publicId`` (TK-00042)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), nullable=True
    )
    subject: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    submitter_email: Mapped[str] = mapped_column(String(320))
    submitter_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    screenshots: Mapped[list[str]] = mapped_column(JSON, default=list)
    tracking_token_hash: Mapped[str] = mapped_column(String(64))

    stage: Mapped[str] = mapped_column(String(32), default="RECEIVED")
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    assignee: Mapped[str | None] = mapped_column(String(320), nullable=True)
    type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_type: Mapped[str] = mapped_column(String(16), default="api")
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)

    issue_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # GitHub's time of the newest fact the current stage was derived from: a change caused
    # by an older event is a revision, and the history says so.
    stage_event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Support closed the ticket in the desk (it stays CLOSED until its issue is reopened).
    staff_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    # SLA (bot.tickets.sla_clock; migration 0010). The facts the clocks depend on:
    sla_policy_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sla_first_status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_paused_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The current resolution cycle (NULL start: since creation); earlier ones: TicketSlaCycle.
    sla_cycle_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_cycle_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What is shown (seed 002: first_response_due_at, and due_at above for the resolution):
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the breach and warning lists query (bot.rules.sla.deadlines), each indexed:
    sla_response_breach_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_resolution_breach_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_breach_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_alert_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the stats count (migration 0011; sla_counts): each clock's outcome, 'met' or
    # 'breached' once decided (NULL while running, or paused in time); the business minutes
    # the current cycle took, once resolved; the earliest due instant of a running clock.
    sla_response_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sla_resolution_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sla_resolution_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    sla_running_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The client staff chose to bill it to (NULL: by its product, then the requester's email
    # domain; bot.billing.clients). Migration 0012, no foreign key.
    client_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Seed 002 (migration 0019; bot.views.helpdesk): the tenant and application that own the
    # ticket, the team whose queue it is in, provenance, the document's schema version and
    # what it relates to.
    tenant_id: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    app_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source: Mapped[str] = mapped_column(String(32), default="edm", server_default="edm")
    schema_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    related_asset_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    related_vulnerability_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    product: Mapped[Product | None] = relationship(lazy="raise")
    tags: Mapped[list[TicketTag]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TicketTag.position"
    )
    transitions: Mapped[list[StageTransition]] = relationship(
        lazy="raise", order_by="StageTransition.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_tickets_issue", "product_id", "issue_number"),
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_priority_id", "priority", "id"),
        Index("ix_tickets_assignee_id", "assignee", "id"),
        Index("ix_tickets_product_id", "product_id", "id"),
        # The few tickets of a product at one stage (MERGED, waiting for a deployment).
        Index("ix_tickets_product_stage", "product_id", "stage"),
        # A requester's tickets, newest first (the admin search by email).
        Index("ix_tickets_email_id", "submitter_email", "id"),
        Index("ix_tickets_sla_response_breach_at", "sla_response_breach_at", "id"),
        Index("ix_tickets_sla_resolution_breach_at", "sla_resolution_breach_at", "id"),
        Index("ix_tickets_sla_breach_at", "sla_breach_at", "id"),
        Index("ix_tickets_sla_alert_at", "sla_alert_at", "id"),
        Index("ix_tickets_sla_running_due_at", "sla_running_due_at", "id"),
        Index("ix_tickets_tenant_id", "tenant_id", "id"),
        Index("ix_tickets_team_id", "team_id", "id"),
    )


class SlaPolicy(Base):
    """A named SLA policy: response and resolution minutes per level (seed 003's table by
    default), an optional business-hours calendar, what ends the response clock, and how
    long before a breach to warn. Exactly one is the default (migration 0010 seeds it)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"critical": {"response": 30, "resolution": 240}, ...}
    targets: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    # {"timeZone", "hours": {"monday": [["09:00", "17:00"]], ...}, "holidays": [...],
    #  "holidayCountry", "holidaySubdivision"}; NULL: wall-clock time, 24x7.
    calendar: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    response_ends: Mapped[str] = mapped_column(String(32), default="comment_or_status")
    warn_minutes: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketSlaPause(Base):
    """A closed interval a ticket spent pending: its SLA clocks stood still."""

    __tablename__ = "ticket_sla_pauses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_ticket_sla_pauses_ticket", "ticket_id", "id"),)


class TicketSlaCycle(Base):
    """An earlier resolution cycle of a reopened ticket, with how it stood when it ended."""

    __tablename__ = "ticket_sla_cycles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_ticket_sla_cycles_ticket", "ticket_id", "id"),)


class SlaEvent(Base):
    """A warning or a breach of one clock of a ticket, recorded once (the unique key) and
    told to the product's SLA webhook through the outbox."""

    __tablename__ = "sla_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(16))  # response | resolution
    kind: Mapped[str] = mapped_column(String(16))  # warning | breach
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    policy: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("ticket_id", "clock", "kind", "due_at", name="uq_sla_events_once"),
    )


class TicketTemplate(Base):
    """A named pre-filled ticket (seed 003: "New Employee Setup"): what a new desk ticket
    created ``from`` it leaves out is taken from here."""

    __tablename__ = "ticket_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str | None] = mapped_column(String(256), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    priority: Mapped[str | None] = mapped_column(String(16), nullable=True)
    type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    product: Mapped[Product | None] = relationship(lazy="raise")


class TicketCount(Base):
    """Signed deltas of live tickets per (product, owner, status), written only by database
    triggers (migration 0002): the desk stats sum these instead of scanning every ticket.
    ``owner`` is the creator of a ticket without a product (a scoped key sees its own)."""

    __tablename__ = "ticket_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    tickets: Mapped[int] = mapped_column(BigInteger)
    resolved: Mapped[int] = mapped_column(BigInteger)
    resolution_seconds: Mapped[float] = mapped_column(Float)


class SlaCount(Base):
    """Signed deltas of live tickets per (product, owner, priority, response outcome,
    resolution outcome), with the resolved ones and their business minutes, written only by
    database triggers (migration 0011): the SLA figures of the desk stats sum these."""

    __tablename__ = "sla_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    priority: Mapped[str] = mapped_column(String(16))
    response_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)
    resolution_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    resolved: Mapped[int] = mapped_column(BigInteger)
    resolution_minutes: Mapped[float] = mapped_column(Float)


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_ticket_tags_tag_ticket", "tag", "ticket_id"),)


class StageTransition(Base):
    """One step of a ticket's pipeline history: from, to, when and why."""

    __tablename__ = "stage_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_stage: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The cause: what happened, publicly describable, and where it came from.
    cause: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    delivery_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pr_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deployment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # On a step to CLOSED: why (bot.rules.pipeline.ClosedReason: fixed, completed,
    # not_planned, duplicate, support, maintainer).
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_stage_transitions_ticket", "ticket_id", "id"),)


class Comment(Base):
    """A staff comment on a ticket: public (the submitter sees it) or an internal note."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(200))
    # The name the submitter sees, fixed when the comment is written (renaming a key later
    # does not rewrite history); NULL on older rows, shown as "Support team".
    public_author: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_comments_ticket", "ticket_id", "id"),)


class ApiKey(Base):
    """A desk API key. Only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # What submitters see as the author of this key's public comments (default: "Support
    # team"); the name above is for staff and may be a person's full name or email.
    public_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(32))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The organisation the key acts for, and the application it was made for (if any).
    tenant_id: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    app_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The staff account the key belongs to (issue 19): its comments and time are that
    # person's, and it may do what their role may.
    staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class QueueState(enum.StrEnum):
    """Where a queued row (a webhook delivery, a GitHub job) is in its cycle."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


# The deliveries a worker may claim (pending, or processing with a lease that may have run
# out), in ``ix_deliveries_claimable``: the claim walks them in id order and stops at its
# batch, instead of reading every due delivery of a backlog and sorting them. The claim
# says the same term, so that the planners know the index holds its rows. On SQLite it is
# ``+state``, which no other index serves: its planner, without statistics, would read the
# due rows through ix_deliveries_state_next and sort them (PostgreSQL has no unary plus for
# text, and plans by cost).
CLAIMABLE_DELIVERIES = {
    "postgresql": "state IN ('pending', 'processing')",
    "sqlite": "+state IN ('pending', 'processing')",
}


class Delivery(Base):
    """A verified GitHub webhook delivery, kept until it has been processed (the inbox)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64), nullable=True)
    installation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=QueueState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_deliveries_state_next", "state", "next_attempt_at", "id"),
        Index(
            "ix_deliveries_claimable",
            "id",
            "state",
            "next_attempt_at",
            "claimed_until",
            postgresql_where=text(CLAIMABLE_DELIVERIES["postgresql"]),
            sqlite_where=text(CLAIMABLE_DELIVERIES["sqlite"]),
        ),
    )


class Job(Base):
    """Work for GitHub written in the same transaction as its cause (the outbox)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # At most one pending job per key: a second request for the same work is folded in.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=QueueState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_jobs_state_next", "state", "next_attempt_at", "id"),
        Index("ix_jobs_dedupe_state", "dedupe_key", "state"),
    )


class IssueStatusComment(Base):
    """The one status comment TinyDesk keeps on a GitHub issue, edited in place."""

    __tablename__ = "issue_status_comments"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    issue_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rendered_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PullRequestLink(Base):
    """A pull request that references a linked issue with a closing keyword."""

    __tablename__ = "pull_request_links"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | merged
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    linked_comment_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    # GitHub's time of the newest event of the PR seen (its ``updated_at``).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The earliest production deployment seen that contains the merge commit.
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shipped_deployment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shipped_environment: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        Index("ix_pr_links_issue", "product_id", "issue_number"),
        Index("ix_pr_links_merge_sha", "merge_commit_sha"),
        # The merged fixes no deployment is known to contain yet.
        Index("ix_pr_links_unshipped", "product_id", "state", "shipped_at"),
    )


class PullRequestReview(Base):
    """Each reviewer's latest review of a pull request that counts (approved, changes
    requested, dismissed), the one GitHub counts: later ones win, by GitHub's time."""

    __tablename__ = "pull_request_reviews"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    review_id: Mapped[int] = mapped_column(BigInteger, default=0)
    verdict: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IssueFact(Base):
    """What GitHub said of a ticketed issue, each with GitHub's time (last writer wins): the
    stage of its tickets is derived from these and its pull requests (``pipeline.derive``)."""

    __tablename__ = "issue_facts"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    issue_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    state_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    label_stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    label_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A completed close waits until then (TinyDesk's clock) for the merge that explains it;
    # set once per close, never shortened.
    close_grace_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProductionDeployment(Base):
    """A successful production deployment seen for a product, so that a merge delivered after
    its deployment still finds the deployment that shipped it."""

    __tablename__ = "production_deployments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    environment: Mapped[str | None] = mapped_column(String(255), nullable=True)
    deployment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_production_deployments_product", "product_id", "occurred_at"),
        # A deployment's retry is known by its sha (DeploymentRepo.record).
        Index("ix_production_deployments_sha", "product_id", "sha"),
    )


class RateCounter(Base):
    """One rate-limit bucket's count in its current fixed window (``storage.limits``): the
    counters every server process shares on PostgreSQL. Times are epoch seconds."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger)
    hits: Mapped[int] = mapped_column(Integer)


class StoredAdminSession(Base):
    """A signed-in admin (``storage.limits``), under the SHA-256 of the session id its cookie
    carries, so the table cannot be replayed as cookies. Times are epoch seconds."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)


class StoredGitHubApp(Base):
    """The GitHub App registered through GitHub's manifest flow (``bot.github.stored_app``):
    one row, replaced by a new registration. ``private_key``, ``webhook_secret`` and
    ``client_secret`` hold ciphertext made above storage (Fernet), never the secrets."""

    __tablename__ = "github_app"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one App
    app_id: Mapped[int] = mapped_column(BigInteger)
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    html_url: Mapped[str] = mapped_column(String(500))
    owner_login: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(100))
    # Where the App lives: github.com's API and web, or a GitHub Enterprise Server's.
    api_url: Mapped[str] = mapped_column(String(500))
    web_url: Mapped[str] = mapped_column(String(500))
    private_key: Mapped[str] = mapped_column(Text)
    webhook_secret: Mapped[str] = mapped_column(Text)
    client_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppSetupState(Base):
    """A manifest-flow registration under way: the ``state`` sent to GitHub (kept as its
    SHA-256), where it went, and until when its answer is accepted (epoch seconds). Taken
    once: the callback deletes it."""

    __tablename__ = "github_app_setup_states"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_url: Mapped[str] = mapped_column(String(500))
    web_url: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[float] = mapped_column(Float)


# -- billing (seed 003: time tracking, contracts, invoices; migration 0012) --------------------
# Money is integer minor units of the row's currency (bot.rules.money); never a float.


class Client(Base):
    """An organisation tickets are billed to."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    tax_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    hourly_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # [{"name": "VAT", "rate": "19"}]: the taxes of its invoices, each on the subtotal.
    taxes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    payment_days: Mapped[int] = mapped_column(Integer, default=14)
    # Where hour-bank warnings are POSTed, signed with the secret (bot.billing.bank_alerts).
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClientDomain(Base):
    """A requester email domain whose tickets are billed to the client (one client each)."""

    __tablename__ = "client_domains"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    __table_args__ = (Index("ix_client_domains_client", "client_id"),)


class Contract(Base):
    """A service contract of a client: a bank of hours per period, or a fixed price
    (bot.rules.invoicing.Contract is the pure view of it)."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    rounding_increment: Mapped[int] = mapped_column(Integer, default=1)
    rounding_mode: Mapped[str] = mapped_column(String(8), default="up")
    minutes_per_period: Mapped[int] = mapped_column(Integer, default=0)
    hourly_rate: Mapped[int] = mapped_column(BigInteger, default=0)
    overage_rate: Mapped[int] = mapped_column(BigInteger, default=0)
    rollover: Mapped[bool] = mapped_column(Boolean, default=False)
    rollover_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_contracts_client", "client_id", "id"),)


class TimeEntry(Base):
    """Minutes a technician worked on a ticket (seed 003). ``invoice_id`` is the draft or
    issued invoice that holds it: while set, the entry is locked. The rate and billed minutes
    are written when it is invoiced."""

    __tablename__ = "time_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    technician: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), nullable=True
    )
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), nullable=True)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), nullable=True
    )
    billed_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_time_entries_ticket", "ticket_id", "id"),
        Index("ix_time_entries_client", "client_id", "invoice_id"),
        Index("ix_time_entries_contract", "contract_id", "started_at"),
        Index("ix_time_entries_technician", "technician", "started_at"),
        Index("ix_time_entries_started", "started_at", "id"),
    )


class BillingRate(Base):
    """An hourly rate in one currency: a technician's, or the default (technician '')."""

    __tablename__ = "billing_rates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    technician: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("technician", "currency"),)


class Invoice(Base):
    """An invoice or credit note. A draft has no number; issuing gives it the next number of
    its series and year (``invoice_sequences``, in the same transaction) and its PDF; from
    then on only its status (paid, void) changes, and it is never deleted."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    series: Mapped[str] = mapped_column(String(8))
    number: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    issue_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    voided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    credit_for_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_total: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    # [{"name", "rate", "base", "amount"}] with amounts in minor units.
    taxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Seller and client as they were when the invoice was made (later edits change nothing).
    seller: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    rounding: Mapped[str] = mapped_column(Text, default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("series", "year", "sequence"),
        Index("ix_invoices_client", "client_id", "id"),
        Index("ix_invoices_status", "status", "id"),
    )


class InvoiceLine(Base):
    """One line of an invoice, written out in full (ticket, contract, times, rate) so that
    nothing edited later can change it."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    time_entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ticket_public_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ticket_subject: Mapped[str | None] = mapped_column(String(256), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    technician: Mapped[str | None] = mapped_column(String(200), nullable=True)
    raw_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    billed_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    contract_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    contract_desk_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    contract_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    period_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # On a credit note: the line of the credited invoice this one takes back.
    credits_line_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_invoice_lines_invoice", "invoice_id", "position"),)


class ContractCharge(Base):
    """A contract's charge for one period (bank purchase, overage, fixed fee), held by the
    invoice that made it: unique, so no period is charged twice. Deleting a draft or voiding
    an invoice lets its charges go."""

    __tablename__ = "contract_charges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[dt.date] = mapped_column(Date)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("contract_id", "kind", "period_start"),
        Index("ix_contract_charges_invoice", "invoice_id"),
    )


class InvoiceSequence(Base):
    """The last number given in a series and year: issuing increments it in the issuing
    transaction, so a rolled-back issue gives its number back and numbers have no gaps."""

    __tablename__ = "invoice_sequences"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class ContractEvent(Base):
    """Something that happened to a contract's bank, once per period: the 80 % and 95 %
    warnings (unique, so several processes record each once)."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("contract_id", "kind", "period_start"),)


class MailMessage(Base):
    """What TinyDesk decided about each incoming message (migration 0015): one row per
    Message-ID (a hash of the bytes without one), so a message delivered twice is worked once."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), default="in")
    message_id: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    from_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # ticket | comment | ignored | refused
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("direction", "message_id", name="uq_mail_messages_direction"),
        Index("ix_mail_messages_ticket", "ticket_id"),
    )


class Attachment(Base):
    """A file that came with a ticket or a comment (by mail), kept in the database."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_attachments_ticket", "ticket_id", "id"),)


class TicketMail(Base):
    """What TinyDesk mails a ticket's submitter (bot.mail.outgoing): whether they want mail,
    the tracking token (encrypted: every mail carries the full tracking link), how far the
    mailed steps go (``last_item_id``) and the thread's Message-IDs."""

    __tablename__ = "ticket_mail"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    token_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_item_id: Mapped[int] = mapped_column(BigInteger, default=0)
    first_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailItem(Base):
    """One step to tell a submitter of (intake, a stage change, a public staff comment),
    queued in the transaction of the step itself; mails are composed from the items past the
    ticket's cursor (``TicketMail.last_item_id``)."""

    __tablename__ = "mail_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    transition_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_mail_items_ticket", "ticket_id", "id"),)


class OutgoingMail(Base):
    """A mail as sent (or about to be): stored, Message-ID and all, before the SMTP
    transaction, so a retry sends the very same message."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    to_address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(Text)
    # pending, sent, failed (the relay refused it for good) or dropped (unsubscribed meanwhile)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_outgoing_mails_ticket", "ticket_id", "state"),
        Index("ix_outgoing_mails_address", "to_address", "sent_at"),
    )


class MailDigest(Base):
    """One row per day a staff digest was sent: the primary key makes it one across
    processes."""

    __tablename__ = "mail_digests"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """The answer to a create sent with an ``Idempotency-Key`` (bot.http.idempotency), stored
    in the transaction that made the ticket: the same key and body within a day get it again.
    The key is stored hashed and the answer encrypted under it (it holds a tracking token)."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # SHA-256 of the caller's scope and the key: one key per caller, never the key itself.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the request (method, path and the JSON body, keys sorted).
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)


class TicketCallback(Base):
    """Where a ticket's events are POSTed (``callbackUrl`` at intake; bot.tickets.callbacks)
    and the secret that signs them, encrypted under the server secret. ``active`` turns off
    when the receiver answers 410 Gone."""

    __tablename__ = "ticket_callbacks"

    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallbackDelivery(Base):
    """One event for a ticket's callback, its body fixed when the event happened (a retry
    sends the same bytes and id), and how its delivery went: the admin pages' delivery log."""

    __tablename__ = "callback_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    # pending, delivered, parked (given up), stopped (410 Gone or the callback turned off)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_callback_deliveries_ticket", "ticket_id", "id"),
        Index("ix_callback_deliveries_state", "state", "id"),
    )


class AlertGroup(Base):
    """An alert group (Alertmanager's ``groupKey``) and the ticket it is told on
    (bot.tickets.alerts); the group's key is unique per source and product."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # SHA-256 of source, product and group key: what makes the group one.
    group_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    group_key: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_alert_groups_ticket", "ticket_id"),)


class AlertInstance(Base):
    """One alert of a group (its ``fingerprint``): its last status and how often it was told."""

    __tablename__ = "alert_instances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("group_id", "fingerprint", name="uq_alert_instances_once"),)


class Team(Base):
    """A group of staff whose queue tickets are routed to (seed 002's ``team_id``)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_teams_tenant_name"),)


class StaffAccount(Base):
    """A person of the support team (issue 19): how they sign in, what they may do (``role``)
    and see (``product_ids``: the desk keys' scope rule; empty: every product of the
    tenant), and what submitters see on their public comments (``display_name``)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default="default")
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lowercase
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # admin | agent | viewer
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # argon2id (bot.staff.passwords); NULL until the invitation is accepted.
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    github_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    github_login: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The invitation (or password reset) link's token, as its SHA-256, and when it lapses.
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    invite_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A signed-in staff member's session, server-side (so every process sees it, and
    signing out everywhere is deleting the rows). The cookie holds the id; the row its hash."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_staff_sessions_staff", "staff_id"),)


class TicketAuditEntry(Base):
    """Who changed what on a ticket, when, from what to what (issue 19; bot.rules.audit):
    written in the transaction of the change by the use case that makes it. ``actor_id`` is
    the desk key's public id or the staff account's desk id (``admin`` for the admin token);
    ``actor_name`` the name staff know them by. No foreign key: an audit trail outlives
    nothing it describes, and is never cascaded away (migration 0021)."""

    __tablename__ = "ticket_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_ticket_audit_ticket", "ticket_id", "id"),)
