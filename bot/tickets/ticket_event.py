"""What a ticket event is (``bot.tickets.ticket_events`` publishes them): apart, so that the
listeners ``ticket_events.listeners()`` imports can name it without an import cycle."""

from __future__ import annotations

import dataclasses

from storage.models import Comment, StageTransition, Ticket

CREATED = "ticket.created"
STAGE_CHANGED = "ticket.stage_changed"
COMMENT_ADDED = "ticket.comment_added"


@dataclasses.dataclass(frozen=True)
class TicketEvent:
    kind: str
    ticket: Ticket
    transition: StageTransition | None = None
    comment: Comment | None = None
    by_submitter: bool = False
    # ticket.created only: the tracking token (known only at intake; mail out keeps it,
    # encrypted, for the tracking links) and whether the submitter wants mail about it.
    tracking_token: str | None = dataclasses.field(default=None, repr=False)
    email_updates: bool = True
