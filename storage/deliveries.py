"""DeliveryRepo: the inbox of verified GitHub webhook deliveries, keyed by X-GitHub-Delivery."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery


class DeliveryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        *,
        delivery_id: str,
        event: str,
        action: str | None,
        installation_id: int | None,
        payload: str,
    ) -> bool:
        """Store a delivery unless its id was seen before; True if it is new."""
        values = dict(
            delivery_id=delivery_id,
            event=event,
            action=action,
            installation_id=installation_id,
            payload=payload,
        )
        dialect = self.session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(Delivery)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(Delivery.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None
