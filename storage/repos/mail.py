"""MailRepo: the decision stored for each incoming message, products by their own mail
address, and the attachments kept with tickets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.models import Attachment, MailMessage, Product


class MailRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, message_id: str, direction: str = "in") -> MailMessage | None:
        return await self.session.scalar(
            select(MailMessage).where(
                MailMessage.direction == direction, MailMessage.message_id == message_id
            )
        )

    async def opening_message_id(self, ticket_id: int) -> str | None:
        """The Message-ID of the message that opened a ticket by mail (None: not opened so,
        or it had none of its own)."""
        message_id = await self.session.scalar(
            select(MailMessage.message_id)
            .where(
                MailMessage.direction == "in",
                MailMessage.ticket_id == ticket_id,
                MailMessage.decision == "ticket",
            )
            .order_by(MailMessage.id)
            .limit(1)
        )
        return message_id if message_id and message_id.startswith("<") else None

    async def record(self, row: MailMessage) -> MailMessage:
        self.session.add(row)
        await self.session.flush()
        return row

    async def decisions(self, limit: int = 100) -> Sequence[MailMessage]:
        """The newest decisions first (the admin's view of what came in)."""
        return (
            await self.session.scalars(
                select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)
            )
        ).all()

    async def product_by_address(self, address: str) -> Product | None:
        return await self.session.scalar(
            select(Product).where(Product.mail_address == address.strip().lower())
        )

    async def add_attachment(self, attachment: Attachment) -> Attachment:
        self.session.add(attachment)
        await self.session.flush()
        return attachment

    async def attachments_of(self, ticket_id: int) -> Sequence[Attachment]:
        """A ticket's attachments without their bytes (deferred), oldest first."""
        return (
            await self.session.scalars(
                select(Attachment)
                .where(Attachment.ticket_id == ticket_id)
                .options(defer(Attachment.data, raiseload=True))
                .order_by(Attachment.id)
            )
        ).all()

    async def attachment(self, ticket_id: int, desk_id: str) -> Attachment | None:
        if "\x00" in desk_id:
            return None
        return await self.session.scalar(
            select(Attachment).where(
                Attachment.ticket_id == ticket_id, Attachment.desk_id == desk_id
            )
        )
