"""What happened to a ticket, for those outside TinyDesk who follow it (callbacks, mail).

Called in the transaction of the change itself: a listener only queues outbox jobs (worked by
the notification worker, bot/jobs/notifier.py), so nothing is sent for a change that is
rolled back, and nothing is lost when the process stops after the commit.

- ``ticket.created``: intake stored a ticket (any source).
- ``ticket.stage_changed``: a stage transition was recorded (``transition``).
- ``ticket.comment_added``: a public comment, by staff or by the submitter (``by_submitter``:
  their own reply by mail, which nobody needs to be told of by mail).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

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


Listener = Callable[[AsyncSession, TicketEvent], Awaitable[None]]


def listeners() -> tuple[Listener, ...]:
    """Everyone told of ticket events, in order (imported here: they import the models)."""
    from bot.mail.outgoing.queue import queue_mail_for_step

    return (queue_mail_for_step,)


async def publish(session: AsyncSession, event: TicketEvent) -> None:
    if event.comment is not None and event.comment.internal:
        return  # internal notes never leave the desk
    for listener in listeners():
        await listener(session, event)
