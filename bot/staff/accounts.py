"""Staff accounts: an admin invites a person (a link, shown once, or mailed), the person sets
a password through it, then signs in; admins change roles and scopes, send a new link (a
password reset), disable an account, which ends its sessions and its keys' access, and
enable it again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import ids
from bot.rules import staff as rules
from bot.staff import passwords
from storage.models import StaffAccount, StaffSession
from storage.repos.products import ProductRepo

INVITE_PATH = "/desk/invite/"
STAFF_ID = re.compile(r"^stf_[A-Za-z0-9]{1,36}$")


@dataclasses.dataclass(frozen=True)
class Invitation:
    account: StaffAccount
    token: str  # shown (or mailed) once; only its hash is stored

    @property
    def path(self) -> str:
        return INVITE_PATH + self.token


async def _product_ids(session: AsyncSession, slugs: Sequence[str], tenant: str) -> list[int]:
    found = []
    repo = ProductRepo(session)
    for slug in slugs:
        product = await repo.by_slug(slug)
        if product is None or product.tenant_id != tenant:
            # A 400 naming the field: the account is there, the slug in the body is wrong.
            message = f"No product of this tenant has the slug {slug!r}"
            raise ApiError(
                400,
                message,
                "Send the slugs of existing products (GET /api/admin/products), or none.",
                fields={"products": message},
            )
        found.append(product.id)
    return found


def _new_link(account: StaffAccount, now: dt.datetime) -> str:
    token = ids.new_tracking_token()
    account.invite_token_hash = ids.hash_secret(token)
    account.invite_expires_at = now + dt.timedelta(days=rules.INVITE_DAYS)
    return token


async def invite(session: AsyncSession, fields: dict[str, Any], now: dt.datetime) -> Invitation:
    existing = await by_email(session, fields["email"])
    if existing is not None:
        raise ApiError(
            409,
            "Staff account exists",
            f"{fields['email']} has an account already ({existing.desk_id}); send it a new "
            "link instead (POST /api/admin/staff/{id}/link).",
        )
    account = StaffAccount(
        desk_id=ids.new_desk_id("stf"),
        email=fields["email"],
        display_name=fields["display_name"],
        role=fields["role"],
        product_ids=await _product_ids(session, fields["products"], "default"),
        github_login=fields.get("github_login"),
        created_at=now,
    )
    token = _new_link(account, now)
    session.add(account)
    await session.flush()
    return Invitation(account, token)


async def new_link(session: AsyncSession, desk_id: str, now: dt.datetime) -> Invitation:
    """A new invitation link: for a person who lost theirs, or forgot their password (the
    password stays until the link is used)."""
    account = await find(session, desk_id)
    return Invitation(account, _new_link(account, now))


async def accept(
    session: AsyncSession, token: str, password: str, now: dt.datetime
) -> StaffAccount:
    """Set the password through a link; the link is then spent, and other sessions end."""
    account = await by_link(session, token, now)
    if account is None:
        raise ApiError(
            410,
            "Link expired or used",
            "Ask an admin for a new link; each link works once, for 7 days.",
        )
    if problem := rules.password_problem(password):
        raise ApiError(400, "Password not accepted", problem, fields={"password": problem})
    account.password_hash = await passwords.hash_password(password)
    account.invite_token_hash = account.invite_expires_at = None
    await end_sessions(session, account.id)
    await session.flush()
    return account


async def by_link(session: AsyncSession, token: str, now: dt.datetime) -> StaffAccount | None:
    if not token or len(token) > 100:
        return None
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.invite_token_hash == ids.hash_secret(token))
    )
    if account is None or account.disabled_at is not None:
        return None
    if account.invite_expires_at is None or account.invite_expires_at < now:
        return None
    return account


async def by_email(session: AsyncSession, email: str) -> StaffAccount | None:
    return await session.scalar(
        select(StaffAccount).where(StaffAccount.email == email.strip().lower())
    )


async def sign_in(session: AsyncSession, email: str, password: str) -> StaffAccount | None:
    """The active account whose password this is, else None (the same cost either way)."""
    account = await by_email(session, email) if len(email) <= 320 else None
    usable = account is not None and account.disabled_at is None
    stored = account.password_hash if usable and account is not None else None
    if not await passwords.verify_password(stored, password[: rules.MAX_PASSWORD]):
        return None
    assert account is not None and account.password_hash is not None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await passwords.hash_password(password)
    return account


async def find(session: AsyncSession, desk_id: str, *, disabled_too: bool = False) -> StaffAccount:
    """An enabled account by id; a disabled one is gone for every change (404), as a deleted
    resource is: it stays listed, with disabledAt, and only re-enabling finds it
    (``disabled_too``)."""
    account = None
    if STAFF_ID.match(desk_id):
        account = await session.scalar(select(StaffAccount).where(StaffAccount.desk_id == desk_id))
    if account is None or (account.disabled_at is not None and not disabled_too):
        raise ApiError(
            404,
            "Staff account not found",
            "Use an enabled account's id (stf_…); a disabled account cannot be changed, "
            "except re-enabled (PATCH with enabled: true).",
        )
    return account


async def change(
    session: AsyncSession, desk_id: str, changes: dict[str, Any], now: dt.datetime
) -> StaffAccount:
    """Apply validated changes (``rules.validate_change``); ``enabled`` true comes first, so
    a disabled account may be re-enabled and changed at once, false last (``disable``)."""
    changes = dict(changes)
    enabled = changes.pop("enabled", None)
    if enabled is True:
        await enable(session, desk_id)
    account = await find(session, desk_id)
    if "products" in changes:
        account.product_ids = await _product_ids(session, changes.pop("products"), "default")
    for attribute, value in changes.items():
        setattr(account, attribute, value)
    await session.flush()
    if enabled is False:
        return await disable(session, desk_id, now)
    return account


async def enable(session: AsyncSession, desk_id: str) -> StaffAccount:
    """Let a disabled account in again: its password (if it set one) and its keys work
    again. Its sessions and its link stay ended: it signs in anew, or gets a new link."""
    account = await find(session, desk_id, disabled_too=True)
    account.disabled_at = None
    await session.flush()
    return account


async def disable(session: AsyncSession, desk_id: str, now: dt.datetime) -> StaffAccount:
    account = await find(session, desk_id)
    account.disabled_at = now
    account.invite_token_hash = account.invite_expires_at = None
    await end_sessions(session, account.id)
    await session.flush()
    return account


async def end_sessions(session: AsyncSession, staff_id: int) -> None:
    """Sign out everywhere."""
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def all_accounts(session: AsyncSession) -> Sequence[StaffAccount]:
    return (await session.scalars(select(StaffAccount).order_by(StaffAccount.email))).all()
