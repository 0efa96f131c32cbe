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

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

# The event itself lives apart (listeners import it); named here for publishers.
from bot.tickets.ticket_event import COMMENT_ADDED, CREATED, STAGE_CHANGED, TicketEvent

__all__ = ["COMMENT_ADDED", "CREATED", "STAGE_CHANGED", "TicketEvent", "listeners", "publish"]


Listener = Callable[[AsyncSession, TicketEvent], Awaitable[None]]


def listeners() -> tuple[Listener, ...]:
    """Everyone told of ticket events, in order (imported here: they import the models)."""
    from bot.mail.outgoing.queue import queue_mail_for_step
    from bot.tickets.callbacks import queue_event

    return (queue_mail_for_step, queue_event)


async def publish(session: AsyncSession, event: TicketEvent) -> None:
    if event.comment is not None and event.comment.internal:
        return  # internal notes never leave the desk
    for listener in listeners():
        await listener(session, event)
