"""``Idempotency-Key`` on the creates (``POST /api/tickets``, ``POST /api/v1/desk/tickets``),
as Stripe has it: a client that lost the answer sends the same request again under the same
key and gets the first answer (with ``Idempotent-Replayed: true``), not a second ticket.

- The answer is stored in the very transaction that made the ticket: either both are kept or
  neither, so no crash or lost connection can leave a ticket whose key would make another.
- Two requests with one key at once: the first inserts the key's row before doing anything
  else; the second blocks on that row's unique index (PostgreSQL) or on the write lock
  (SQLite) until the first commits, then finds the stored answer and replays it.
- The same key with a different request (method, path or JSON body, key order aside) within
  24 hours is a 409. Past 24 hours the key is free again.
- A request refused (a validation error, a rate limit) stores nothing: fix it and send it
  again under the same key.
- Keys are per caller (a desk key, or the client's address for the public API), stored as a
  hash; the answer, which holds a tracking token, is encrypted under a key derived from the
  idempotency key itself (and the server secret), so the table alone reveals nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import ApiError
from bot.github.stored_app import cipher, server_secret
from storage.database import Database
from storage.models import IdempotencyKey
from storage.types import utcnow

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WINDOW = dt.timedelta(hours=24)
MAX_KEY_CHARS = 255
HKDF_INFO = b"tinydesk idempotent answer v1"
PURGE_SECONDS = 3600.0


@dataclasses.dataclass(frozen=True)
class Answer:
    """What a create answered: stored and replayed as it was."""

    status: int
    body: dict[str, Any]
    location: str | None = None


@dataclasses.dataclass(frozen=True)
class Guard:
    """One request's key: hashed for the lookup, with the material its answer is sealed by."""

    key_hash: str
    fingerprint: str
    seal_material: str = dataclasses.field(repr=False)


def key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not all(" " <= c <= "~" for c in key):
        return (
            f"{HEADER} must be 1 to {MAX_KEY_CHARS} printable ASCII characters (a UUID is ideal)."
        )
    return None


def fingerprint(method: str, path: str, data: dict[str, Any]) -> str:
    """The request, as compared: the same JSON in another key order is the same request."""
    canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def guard(
    request: web.Request, scope: str, data: dict[str, Any], settings: Settings
) -> Guard | None:
    """The request's key (None without the header), or a 400 for a malformed one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if problem := key_problem(key):
        raise ApiError(400, f"Invalid {HEADER}", problem)
    return Guard(
        key_hash=hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest(),
        fingerprint=fingerprint(request.method, request.path, data),
        seal_material=f"{server_secret(settings) or ''}\n{scope}\n{key}",
    )


async def answer_once(
    db: Database,
    key: Guard | None,
    create: Callable[[AsyncSession], Awaitable[Answer]],
    *,
    first: Callable[[], Awaitable[None]] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Answer, bool]:
    """``create``'s answer, in a transaction of its own; or, for a key already answered, that
    answer again. Returns the answer and whether it is a replay. ``first`` (a rate limit) runs
    before a new request only: a replay costs nothing."""
    now = now or utcnow()
    if key is not None and (stored := await _stored(db, key, now)) is not None:
        return stored, True
    if first is not None:
        await first()
    try:
        async with db.begin() as session:
            if key is not None:
                await _claim(session, key, now)
            answer = await create(session)
            if key is not None:
                await _settle(session, key, answer)
    except IntegrityError:
        # Another request under this key committed first (we waited on its row).
        if key is None or (stored := await _stored(db, key, now)) is None:
            raise
        return stored, True
    return answer, False


def response(answer: Answer, replayed: bool) -> web.Response:
    headers = {"Location": answer.location} if answer.location else {}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return web.json_response(answer.body, status=answer.status, headers=headers)


async def _stored(db: Database, key: Guard, now: dt.datetime) -> Answer | None:
    async with db.session() as session:
        row = await session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.key_hash == key.key_hash,
                IdempotencyKey.created_at >= now - WINDOW,
            )
        )
    if row is None:
        return None
    if row.fingerprint != key.fingerprint:
        raise ApiError(
            409,
            f"{HEADER} already used",
            f"This {HEADER} was sent with a different request in the last 24 hours; "
            "send a new request under a new key.",
        )
    try:
        stored = orjson.loads(_cipher(key).decrypt(row.response.encode()))
    except InvalidToken:
        # The server secret changed since: the answer cannot be read back.
        raise ApiError(
            409,
            f"{HEADER} already used",
            f"The first answer under this {HEADER} can no longer be replayed; "
            "look the ticket up instead, or send a new request under a new key.",
        ) from None
    return Answer(stored["status"], stored["body"], stored.get("location"))


async def _claim(session: AsyncSession, key: Guard, now: dt.datetime) -> None:
    """Take the key first thing in the transaction (a concurrent request waits on it here)."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.key_hash == key.key_hash, IdempotencyKey.created_at < now - WINDOW
        )
    )
    session.add(
        IdempotencyKey(
            key_hash=key.key_hash,
            fingerprint=key.fingerprint,
            status=0,
            response="",
            created_at=now,
        )
    )
    await session.flush()


async def _settle(session: AsyncSession, key: Guard, answer: Answer) -> None:
    stored = {"status": answer.status, "body": answer.body, "location": answer.location}
    sealed = _cipher(key).encrypt(orjson.dumps(stored)).decode()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key_hash == key.key_hash)
        .values(status=answer.status, response=sealed)
    )


def _cipher(key: Guard) -> Fernet:
    return cipher(key.seal_material, HKDF_INFO)


async def purge(db: Database, now: dt.datetime | None = None) -> int:
    """Forget the answers older than the window."""
    cutoff = (now or utcnow()) - WINDOW
    async with db.begin() as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_periodically(db: Database) -> None:
    while True:
        await asyncio.sleep(PURGE_SECONDS)
        try:
            await purge(db)
        except Exception:
            log.warning("could not purge old idempotency keys; will try again", exc_info=True)
