"""Passwords, hashed with argon2id (argon2-cffi's defaults, RFC 9106's second choice)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Checked against when the address is unknown, so that a wrong address costs what a wrong
# password does (no timing tells which addresses have accounts).
_DUMMY = _HASHER.hash("not anybody's password, never used")


async def hash_password(password: str) -> str:
    """Off the event loop: a hash takes tens of milliseconds on purpose."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
