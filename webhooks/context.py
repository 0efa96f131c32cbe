"""What every webhook handler gets: its unit of work, GitHub, and the delivery it is working on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from gidgethub import sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.github.client import GitHubApp
from bot.tickets.transitions import Cause
from storage.models import Product
from storage.repos.products import ProductRepo
from storage.unit import Unit

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

    def cause(self, event: sansio.Event, **details: Any) -> Cause:
        action = event.data.get("action")
        name = f"{event.event}.{action}" if action else event.event
        return Cause(
            name=name, delivery_id=self.delivery_id, actor=sender_login(event.data), **details
        )

    def is_own_action(self, event: sansio.Event) -> bool:
        return self.bot_login is not None and sender_login(event.data) == self.bot_login


def sender_login(data: dict[str, Any]) -> str | None:
    sender = data.get("sender")
    return sender.get("login") if isinstance(sender, dict) else None


def repository_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """(owner, name) of the event's repository; payloads differ in which fields they carry."""
    repo = data.get("repository")
    if not isinstance(repo, dict):
        return None
    owner = repo.get("owner")
    owner_login = owner.get("login") or owner.get("name") if isinstance(owner, dict) else None
    name = repo.get("name")
    if owner_login and name:
        return str(owner_login), str(name)
    full_name = repo.get("full_name")
    if isinstance(full_name, str) and full_name.count("/") >= 1:
        owner_login, name = full_name.rsplit("/", 2)[-2:]
        return owner_login, name
    return None


def installation_id_of(data: dict[str, Any]) -> int | None:
    installation = data.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return installation["id"]
    return None


def parse_time(value: Any) -> dt.datetime | None:
    """GitHub's timestamps: ISO 8601 strings (any offset) or epoch seconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
