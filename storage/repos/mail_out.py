"""MailRepo: per-ticket mail state, the steps waiting to be mailed, and the mails stored
before they are sent (bot.mail.outgoing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import Comment, MailDigest, MailItem, OutgoingMail, StageTransition, TicketMail
from storage.types import rows_affected, utcnow


class MailOutRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ticket_mail(self, ticket_id: int, *, hold: bool = False) -> TicketMail | None:
        """``hold``: lock the row (PostgreSQL) so two workers never compose the same steps."""
        query = select(TicketMail).where(TicketMail.ticket_id == ticket_id)
        if hold:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def items_after(self, ticket_id: int, last_item_id: int) -> Sequence[MailItem]:
        query = (
            select(MailItem)
            .where(MailItem.ticket_id == ticket_id, MailItem.id > last_item_id)
            .order_by(MailItem.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def transitions(self, ids: Sequence[int]) -> dict[int, StageTransition]:
        if not ids:
            return {}
        query = select(StageTransition).where(StageTransition.id.in_(ids))
        return {row.id: row for row in (await self.session.execute(query)).scalars()}

    async def comments(self, ids: Sequence[int]) -> dict[int, Comment]:
        if not ids:
            return {}
        query = select(Comment).where(Comment.id.in_(ids), Comment.internal.is_(False))
        return {row.id: row for row in (await self.session.execute(query)).scalars()}

    async def pending_mail(self, ticket_id: int | None) -> OutgoingMail | None:
        query = (
            select(OutgoingMail)
            .where(OutgoingMail.ticket_id == ticket_id, OutgoingMail.state == "pending")
            .order_by(OutgoingMail.id)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def mail(self, mail_id: int) -> OutgoingMail | None:
        return await self.session.get(OutgoingMail, mail_id)

    async def sent_to_since(self, address: str, since: dt.datetime) -> list[dt.datetime]:
        query = select(OutgoingMail.sent_at).where(
            func.lower(OutgoingMail.to_address) == address.lower(),
            OutgoingMail.state == "sent",
            OutgoingMail.sent_at > since,
        )
        return [at for at in (await self.session.execute(query)).scalars() if at is not None]

    async def recent_mails(self, ticket_id: int) -> Sequence[OutgoingMail]:
        query = (
            select(OutgoingMail)
            .where(OutgoingMail.ticket_id == ticket_id)
            .order_by(OutgoingMail.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def claim_digest_day(self, day: str) -> bool:
        """Whether this process is the one to send ``day``'s digest (insert-or-ignore)."""
        statement = (
            dialect.insert(self.session, MailDigest)
            .values(day=day, created_at=utcnow())
            .on_conflict_do_nothing()
        )
        return rows_affected(await self.session.execute(statement)) > 0
