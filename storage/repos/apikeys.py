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
    # The role of the staff account the key belongs to (None: a key of no person).
    role: str | None = None


ACTIVE_BY_HASH = """
SELECT k.id, k.public_id, k.name, k.is_test, k.product_ids, k.last_used_at, k.public_name,
       k.tenant_id, k.app_id, s.email, s.display_name, s.role, s.disabled_at
FROM api_keys k LEFT JOIN staff_accounts s ON s.id = k.staff_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""


async def active_by_hash(reader: Reader, key_hash: str) -> ActiveKey | None:
    """The unrevoked key with this hash, if any: on the Reader, since every desk request
    asks (a revocation is seen by the next request: the Reader reads every commit)."""
    row = await reader.fetchrow(ACTIVE_BY_HASH, key_hash)
    if row is None:
        return None
    key_id, public_id, name, is_test, product_ids, last_used_at, public_name, tenant, app = row[:9]
    staff_email, staff_name, staff_role, staff_disabled = row[9:]
    if staff_role is not None and staff_disabled is not None:
        return None  # the person's account is disabled: so are their keys
    if staff_role is not None:
        # A person's key: their comments and time are theirs, under their names.
        name, public_name = staff_email, staff_name
    if isinstance(product_ids, str):  # JSON arrives as text from both drivers
        product_ids = json.loads(product_ids)
    return ActiveKey(
        key_id,
        public_id,
        name,
        bool(is_test),
        product_ids,
        utc(last_used_at),
        public_name,
        tenant,
        app,
        staff_role,
    )


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
