"""ApiKeyRepo: desk API keys, stored only as the SHA-256 of the key."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiKey
from storage.reader import Reader, utc

# Writing last_used_at on every request would turn reads into writes; once a minute is enough.
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


class ActiveKey(NamedTuple):
    """An unrevoked key as every desk request reads it, with the model's attribute names."""

    id: int
    public_id: str
    name: str
    is_test: bool
    product_ids: list[int]
    last_used_at: dt.datetime | None
    public_name: str | None = None
    tenant_id: str = "default"
    app_id: str | None = None
    # The staff account the key belongs to (None: a key of no person).
    staff_id: int | None = None


class KeyOwner(NamedTuple):
    """The staff account behind a person's key (``ActiveKey.staff_id``)."""

    email: str
    display_name: str
    role: str
    disabled_at: dt.datetime | None


ACTIVE_BY_HASH = """
SELECT id, public_id, name, is_test, product_ids, last_used_at, public_name, tenant_id, app_id,
       staff_id
FROM api_keys
WHERE key_hash = $1 AND revoked_at IS NULL
"""
# Only for a person's key: a second, primary-key read.
KEY_OWNER = """
SELECT email, display_name, role, disabled_at FROM staff_accounts WHERE id = $1
"""


async def active_by_hash(reader: Reader, key_hash: str) -> ActiveKey | None:
    """The unrevoked key with this hash, if any: on the Reader, since every desk request
    asks (a revocation is seen by the next request: the Reader reads every commit)."""
    row = await reader.fetchrow(ACTIVE_BY_HASH, key_hash)
    if row is None:
        return None
    key = ActiveKey(*row)
    if isinstance(key.product_ids, str):  # JSON arrives as text from both drivers
        key = key._replace(product_ids=json.loads(key.product_ids))
    return key._replace(is_test=bool(key.is_test), last_used_at=utc(key.last_used_at))


async def key_owner(reader: Reader, staff_id: int) -> KeyOwner | None:
    row = await reader.fetchrow(KEY_OWNER, staff_id)
    return KeyOwner(*row) if row is not None else None


class ApiKeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, api_key: ApiKey) -> ApiKey:
        self.session.add(api_key)
        await self.session.flush()
        return api_key

    async def all(self) -> Sequence[ApiKey]:
        return (await self.session.scalars(select(ApiKey).order_by(ApiKey.id))).all()

    async def by_public_id(self, public_id: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.public_id == public_id))

    async def revoke(self, public_id: str, now: dt.datetime) -> ApiKey | None:
        """Revoke a key (a second revoke keeps the first time); None if there is no such key."""
        api_key = await self.by_public_id(public_id)
        if api_key is not None and api_key.revoked_at is None:
            api_key.revoked_at = now
            await self.session.flush()
        return api_key

    async def mark_used(self, key_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - LAST_USED_GRANULARITY,
                ),
            )
            .values(last_used_at=now)
        )


PRODUCT_TENANTS = "SELECT id, tenant_id FROM products"


async def product_tenants(reader: Reader) -> dict[str, tuple[int, ...]]:
    """Each tenant's products (a handful of rows: read per request)."""
    tenants: dict[str, list[int]] = {}
    for product_id, tenant in await reader.fetch(PRODUCT_TENANTS):
        tenants.setdefault(tenant, []).append(product_id)
    return {tenant: tuple(products) for tenant, products in tenants.items()}
