"""Desk API keys: making them, recognising them, and what each one may see (its scope).

A key looks like ``td_live_`` or ``td_test_`` + 32 random base62 characters (190 bits) + a
6-character base62 CRC32 of those, like GitHub's own tokens: the fixed prefix and checksum
let secret scanners find leaked keys with no false positives, and let the server reject a
mistyped key without a database lookup. Only ``hash_secret(key)`` is stored.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
import zlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import ids
from bot.rules.public_names import DEFAULT_PUBLIC_AUTHOR, validate_public_name
from bot.rules.tenants import DEFAULT_TENANT, tenant_field
from bot.rules.validation import FieldErrors
from storage.database import Database
from storage.models import ApiKey, Product, StaffAccount
from storage.reader import Reader
from storage.repos.apikeys import (
    LAST_USED_GRANULARITY,
    ActiveKey,
    ApiKeyRepo,
    active_by_hash,
    key_owner,
    product_tenants,
)
from storage.repos.products import ProductRepo
from storage.types import utcnow

LIVE_PREFIX = "td_live_"
TEST_PREFIX = "td_test_"
RANDOM_CHARS = 32
CHECKSUM_CHARS = 6
BASE62 = string.digits + string.ascii_letters
DISPLAY_CHARS = len(LIVE_PREFIX) + 4  # td_live_AbCd: enough to tell keys apart in a list
MAX_NAME = 200
_STAFF_ID = re.compile(r"^stf_[0-9A-Za-z]{1,36}$")
MAX_PRODUCTS = 100
_KEY_ID = re.compile(r"^key_[A-Za-z0-9_-]{1,36}$")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_CHARS)


def generate_key(*, test: bool) -> str:
    """A new secret key, e.g. ``td_live_4Qx...``; shown once, never stored."""
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_CHARS))
    prefix = TEST_PREFIX if test else LIVE_PREFIX
    return f"{prefix}{random_part}{_checksum(random_part)}"


def is_well_formed(key: str) -> bool:
    """Prefix, length, alphabet and checksum are right (says nothing about being issued)."""
    if not key.startswith((LIVE_PREFIX, TEST_PREFIX)):
        return False
    rest = key[len(LIVE_PREFIX) :]
    if len(rest) != RANDOM_CHARS + CHECKSUM_CHARS or any(c not in BASE62 for c in rest):
        return False
    random_part, checksum = rest[:RANDOM_CHARS], rest[RANDOM_CHARS:]
    return secrets.compare_digest(_checksum(random_part), checksum)


@dataclasses.dataclass(frozen=True)
class KeyScope:
    """Who is calling the desk API and which tickets they may see.

    ``product_ids`` is None for an unscoped key (every product, and tickets with none).
    """

    key_id: int
    public_id: str
    name: str
    is_test: bool
    product_ids: tuple[int, ...] | None
    public_name: str | None = None
    # The organisation the key acts for, and the application it was made for (seed 002).
    tenant_id: str = DEFAULT_TENANT
    app_id: str | None = None
    # A staff member's key: their role (bot.rules.staff) limits what it may do.
    role: str | None = None

    @classmethod
    def of(cls, api_key: ApiKey | ActiveKey) -> KeyScope:
        scoped = tuple(api_key.product_ids or ())
        return cls(
            api_key.id,
            api_key.public_id,
            api_key.name,
            api_key.is_test,
            scoped or None,
            api_key.public_name,
            api_key.tenant_id or DEFAULT_TENANT,
            api_key.app_id,
        )

    def within_tenant(self, tenants: dict[str, tuple[int, ...]]) -> KeyScope:
        """The scope with its tenant applied: an unscoped key sees every product only while
        its tenant owns them all; with several tenants it sees its tenant's products (and
        the product-less tickets it created), never another tenant's."""
        if self.product_ids is not None or set(tenants) <= {self.tenant_id}:
            return self
        return dataclasses.replace(self, product_ids=tenants.get(self.tenant_id, ()))

    @property
    def public_author(self) -> str:
        """How submitters see this key's comments: its public name, never its name."""
        return self.public_name or DEFAULT_PUBLIC_AUTHOR

    def sees_product(self, product_id: int | None) -> bool:
        return self.product_ids is None or product_id in self.product_ids


@dataclasses.dataclass(frozen=True)
class KeyRequest:
    name: str
    product_slugs: tuple[str, ...]
    test: bool
    public_name: str | None = None
    tenant_id: str = DEFAULT_TENANT
    app_id: str | None = None
    staff_id: str | None = None  # the staff account (stf_…) the key belongs to


def validate_key_request(data: dict[str, Any]) -> KeyRequest:
    """Check a POST /api/admin/keys body (the CLI builds the same dict)."""
    errors = FieldErrors()
    name = errors.required_text(data, "name", max_chars=MAX_NAME)
    products = data.get("products", [])
    if products is None:
        products = []
    if (
        not isinstance(products, list)
        or len(products) > MAX_PRODUCTS
        or not all(isinstance(p, str) and p.strip() and "\x00" not in p for p in products)
    ):
        errors.add("products", f"products must be an array of up to {MAX_PRODUCTS} product slugs")
        products = []
    test = data.get("test", False)
    if not isinstance(test, bool):
        errors.add("test", "test must be true or false")
    public_name = validate_public_name(errors, data)
    tenant = tenant_field(errors, data, "tenant") or DEFAULT_TENANT
    app = tenant_field(errors, data, "app")
    staff = data.get("staff")
    if staff is not None and (not isinstance(staff, str) or not _STAFF_ID.match(staff)):
        errors.add("staff", "staff must be a staff account's id (stf_…) or null")
        staff = None
    errors.raise_if_any("Fix the fields listed in `fields`; required: name.")
    assert name is not None
    slugs = tuple(dict.fromkeys(p.strip() for p in products))
    return KeyRequest(name, slugs, test, public_name, tenant, app, staff)


KEY_UPDATABLE = ("name", "publicName")


def validate_key_update(data: dict[str, Any]) -> dict[str, Any]:
    """Check a PATCH /api/admin/keys/{id} body: ``name`` and ``publicName`` (null: default)."""
    errors = FieldErrors()
    for field in data:
        if field not in KEY_UPDATABLE:
            errors.add(field, f"{field} cannot be changed; changeable: name, publicName")
    changes: dict[str, Any] = {}
    if "name" in data:
        name = errors.required_text(data, "name", max_chars=MAX_NAME)
        if name is not None:
            changes["name"] = name
    if "publicName" in data:
        changes["public_name"] = validate_public_name(errors, data)
    if not data:
        errors.add("body", "send name or publicName")
    errors.raise_if_any("Fix the fields listed in `fields`; changeable: name, publicName.")
    return changes


async def update_key(session: AsyncSession, public_id: str, changes: dict[str, Any]) -> ApiKey:
    """Rename a key or change its public name; comments already written keep theirs."""
    api_key = None
    if _KEY_ID.match(public_id):
        api_key = await ApiKeyRepo(session).by_public_id(public_id)
    if api_key is None:
        raise ApiError(404, "Key not found", f"No API key has the id {public_id!r}.")
    if api_key.revoked_at is not None:
        # A revoked key is gone for good: nothing about it changes any more.
        raise ApiError(409, "Key is revoked", f"{public_id} was revoked; create a new key instead.")
    for attribute, value in changes.items():
        setattr(api_key, attribute, value)
    await session.flush()
    return api_key


@dataclasses.dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    secret: str
    products: tuple[Product, ...]


async def create_key(session: AsyncSession, request: KeyRequest) -> CreatedKey:
    """Store a new key's hash; the secret is returned once, here."""
    products = []
    repo = ProductRepo(session)
    for slug in request.product_slugs:
        product = await repo.by_slug(slug)
        if product is None:
            raise ApiError(
                404,
                "Product not found",
                f"No product has the slug {slug!r}; `tinydesk products list` shows them.",
            )
        if product.tenant_id != request.tenant_id:
            # As for a product that does not exist: another tenant's is not this key's to see.
            raise ApiError(
                404,
                "Product not found",
                f"No product of tenant {request.tenant_id!r} has the slug {slug!r}; a key sees "
                "only its own tenant's products.",
            )
        products.append(product)
    staff_id = None
    if request.staff_id is not None:
        account = await session.scalar(
            select(StaffAccount).where(StaffAccount.desk_id == request.staff_id)
        )
        if account is None or account.disabled_at is not None:
            raise ApiError(404, "Staff account not found", "Use an enabled account's id (stf_…).")
        staff_id = account.id
    secret = generate_key(test=request.test)
    api_key = ApiKey(
        public_id=ids.new_desk_id("key"),
        name=request.name,
        public_name=request.public_name,
        key_hash=ids.hash_secret(secret),
        display_prefix=secret[:DISPLAY_CHARS],
        is_test=request.test,
        product_ids=[p.id for p in products],
        tenant_id=request.tenant_id,
        app_id=request.app_id,
        staff_id=staff_id,
        created_at=utcnow(),
    )
    await ApiKeyRepo(session).add(api_key)
    return CreatedKey(api_key, secret, tuple(products))


async def revoke_key(session: AsyncSession, public_id: str) -> ApiKey:
    """Revoke by the key's id (``key_…``); revoking twice is harmless."""
    api_key = None
    if _KEY_ID.match(public_id):
        api_key = await ApiKeyRepo(session).revoke(public_id, utcnow())
    if api_key is None:
        raise ApiError(404, "Key not found", f"No API key has the id {public_id!r}.")
    return api_key


async def authenticate(db: Database, key: str | None) -> KeyScope | None:
    """The scope of an issued, unrevoked key, or None.

    A read; ``last_used_at`` is written only when it is older than its granularity, so
    that nearly every desk request stays out of the (SQLite: single) writer's way.
    """
    if not key or not is_well_formed(key):
        return None
    api_key = await active_by_hash(db.reader, ids.hash_secret(key))
    if api_key is None:
        return None
    now = utcnow()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_GRANULARITY:
        async with db.begin() as session:
            await ApiKeyRepo(session).mark_used(api_key.id, now)
    scope = KeyScope.of(api_key)
    if api_key.staff_id is not None:
        owner = await key_owner(db.reader, api_key.staff_id)
        if owner is None or owner.disabled_at is not None:
            return None  # the person's account is gone or disabled: so are their keys
        # A person's key: their comments and time are theirs, under their names and role.
        scope = dataclasses.replace(
            scope, name=owner.email, public_name=owner.display_name, role=owner.role
        )
    return await in_tenant(db.reader, scope)


async def in_tenant(reader: Reader, scope: KeyScope) -> KeyScope:
    """``scope`` with its tenant applied (``KeyScope.within_tenant``); the products' tenants
    are read only for an unscoped caller, the only one the rule can narrow."""
    if scope.product_ids is not None:
        return scope
    return scope.within_tenant(await product_tenants(reader))
