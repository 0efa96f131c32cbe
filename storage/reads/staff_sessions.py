"""A workspace session and its person, on the Reader: every ``/desk`` page and action asks.

Through an ORM session this lookup was about a third of an inbox page's CPU (a unit of work
for two rows); as one plain statement it is a fraction of that. The account comes back as a
transient ``StaffAccount`` (never added to a session): the callers only read it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from storage.models import StaffAccount
from storage.reader import Reader, utc
from storage.types import UTCDateTime

# Every column of the account, in the model's order (the transient account is whole).
_ACCOUNT_COLUMNS = tuple(c.key for c in StaffAccount.__table__.columns)
_TIMES = {c.key for c in StaffAccount.__table__.columns if isinstance(c.type, UTCDateTime)}

SESSION_AND_ACCOUNT = f"""
SELECT s.csrf_token, s.created_at, s.last_seen_at, {", ".join(f"a.{c}" for c in _ACCOUNT_COLUMNS)}
FROM staff_sessions s JOIN staff_accounts a ON a.id = s.staff_id
WHERE s.id_hash = $1
"""


@dataclasses.dataclass(frozen=True)
class StoredSession:
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    account: StaffAccount


async def session_and_account(reader: Reader, id_hash: str) -> StoredSession | None:
    """The session with this id hash and its account, or None (a session of a deleted
    account is None too: the join finds no account)."""
    row = await reader.fetchrow(SESSION_AND_ACCOUNT, id_hash)
    if row is None:
        return None
    csrf_token, created_at, last_seen_at, *account_values = row
    values = dict(zip(_ACCOUNT_COLUMNS, account_values, strict=True))
    if isinstance(values["product_ids"], str):  # JSON arrives as text from both drivers
        values["product_ids"] = json.loads(values["product_ids"])
    for name in _TIMES:
        values[name] = utc(values[name])
    created, seen = utc(created_at), utc(last_seen_at)
    assert created is not None and seen is not None
    return StoredSession(csrf_token, created, seen, StaffAccount(**values))
