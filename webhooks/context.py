"""What every webhook handler gets: its unit of work, GitHub, the delivery it is working on, and the
products the delivery's repository is registered for."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from gidgethub import sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.github.client import GitHubApp
from bot.tickets.transitions import Cause
from storage.models import Product
from storage.repos.products import ProductRepo
from storage.unit import Unit
from webhooks.payload import installation_id_of, repository_of, sender_login

PRODUCTS_FOR_REPO = "tinydesk.products_for_repo"


@dataclasses.dataclass(frozen=True)
class HandlerContext:
    # Where the handler writes: a transaction per ``begin()`` (storage.unit.OwnTransactions)
    # or the inbox's batch transaction (storage.unit.BatchTransaction). Calls to GitHub go
    # through ``unit.outside``.
    unit: Unit
    github: GitHubApp | None
    delivery_id: str
    # ``<app-slug>[bot]``: events our own actions caused are not news.
    bot_login: str | None = None
    # How long a completed close waits for the merge that may explain it (Settings).
    close_grace_seconds: float = 60.0

    def cause(self, event: sansio.Event, **details: Any) -> Cause:
        action = event.data.get("action")
        name = f"{event.event}.{action}" if action else event.event
        return Cause(
            name=name, delivery_id=self.delivery_id, actor=sender_login(event.data), **details
        )

    def is_own_action(self, event: sansio.Event) -> bool:
        return self.bot_login is not None and sender_login(event.data) == self.bot_login


async def products_for_event(session: AsyncSession, data: dict[str, Any]) -> Sequence[Product]:
    """The products tied to the event's repository (none for other repositories), keeping
    each one's installation id current with what the delivery says."""
    repo = repository_of(data)
    if repo is None:
        return []
    # Remembered for the rest of the transaction: a batch of deliveries asks again and again.
    known = session.info.setdefault(PRODUCTS_FOR_REPO, {})
    key = (repo[0].lower(), repo[1].lower())
    if key not in known:
        known[key] = await ProductRepo(session).for_repo(*repo)
    products = known[key]
    installation_id = installation_id_of(data)
    if installation_id is not None:
        for product in products:
            if product.installation_id != installation_id:
                product.installation_id = installation_id
    return products
