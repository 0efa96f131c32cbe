"""TemplateRepo: ticket templates (seed 003), each with its product loaded.

Which templates a caller sees is given as ``product_ids``: None for every template, else
those of these products and those of no product (shared by everyone).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import TicketTemplate

_NUL = "\x00"


def _visible(product_ids: Sequence[int] | None) -> ColumnElement[bool]:
    if product_ids is None:
        return true()
    return or_(TicketTemplate.product_id.is_(None), TicketTemplate.product_id.in_(product_ids))


class TemplateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _query(self, product_ids: Sequence[int] | None) -> Select[TicketTemplate]:
        return (
            select(TicketTemplate)
            .where(_visible(product_ids))
            .options(selectinload(TicketTemplate.product))
            .execution_options(populate_existing=True)
        )

    async def by_desk_id(
        self, desk_id: str, product_ids: Sequence[int] | None = None
    ) -> TicketTemplate | None:
        query = self._query(product_ids).where(TicketTemplate.desk_id == desk_id)
        return await self.session.scalar(query)

    async def by_name(
        self, name: str, product_ids: Sequence[int] | None = None
    ) -> TicketTemplate | None:
        if _NUL in name:
            return None  # no name holds one, and PostgreSQL refuses to compare with it
        query = self._query(product_ids).where(TicketTemplate.name == name)
        return await self.session.scalar(query)

    async def all(self, product_ids: Sequence[int] | None = None) -> Sequence[TicketTemplate]:
        """Every visible template, by name."""
        query = self._query(product_ids).order_by(TicketTemplate.name)
        return (await self.session.scalars(query)).all()

    async def page(
        self, product_ids: Sequence[int] | None, *, before_id: int | None, limit: int
    ) -> Sequence[TicketTemplate]:
        """Newest first, below ``before_id`` (the desk list's cursor)."""
        query = self._query(product_ids).order_by(TicketTemplate.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(TicketTemplate.id < before_id)
        return (await self.session.scalars(query)).all()

    async def add(self, template: TicketTemplate) -> TicketTemplate:
        self.session.add(template)
        await self.session.flush()
        return template

    async def remove(self, template: TicketTemplate) -> None:
        await self.session.delete(template)
        await self.session.flush()
