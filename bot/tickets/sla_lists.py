"""The breach list and the "breaching within" list (``GET /api/sla/breaches``, seed 003's
path, and ``/api/v1/desk/sla/breaches``): the query string checked, the page read from the
stored instants (storage.reads.sla_reads), each entry's standing computed at ``now`` with
the rules (how many business minutes overdue, or left), and seed 001's cursor paging.

Nothing here needs a background job: a restart, or a ticket nobody touched for a week,
lists the same as a ticket changed a second ago.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from bot.errors import ApiError
from bot.http.cursor import INVALID_CURSOR, MAX_CURSOR
from bot.rules import sla
from bot.rules.desk_input import DEFAULT_LIMIT, MAX_LIMIT, PRIORITIES
from bot.rules.numbers import bounded_int, whole_number
from bot.rules.timestamps import parse_time
from bot.rules.validation import FieldErrors
from bot.tickets import sla_clock
from bot.views import sla as sla_views
from storage.reader import Reader
from storage.reads import sla_reads
from storage.reads.sla_reads import Cursor, ListFilters
from storage.visibility import Visibility

# Seed 003's words for the targets ("response", "resolve", "both"); "resolution" too.
TARGETS = {
    "response": "response",
    "resolve": "resolution",
    "resolution": "resolution",
    "both": "both",
}
# A window: up to 999999 minutes, 9999 hours or 999 days (the OpenAPI pattern says the same).
WINDOW_PATTERN = r"^(?:[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d)$"
_WINDOW = re.compile(WINDOW_PATTERN)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
HINTS = {
    "target": "Use response, resolve or both (seed 003's words), or leave target out for any.",
    "priority": "Use low, medium, high or urgent.",
    "dueWithin": "A window such as 60m, 4h or 2d (at most 999999m, 9999h or 999d).",
    "since": "An ISO 8601 time such as 2026-12-01T00:00:00Z.",
    "limit": f"A whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    "assignee": "The assignee's ID or email, as on the tickets.",
    "productSlug": "The slug of a product this key may see.",
}
KNOWN = ("target", "priority", "assignee", "productSlug", "since", "dueWithin", "limit", "cursor")


@dataclasses.dataclass(frozen=True)
class ListQuery:
    filters: ListFilters
    product_slug: str | None
    due_within: dt.timedelta | None
    limit: int
    cursor: Cursor | None


def parse_window(text: str) -> dt.timedelta | None:
    if _WINDOW.match(text) is None:
        return None
    return dt.timedelta(minutes=int(text[:-1]) * _UNIT_MINUTES[text[-1]])


def parse_query(query: Mapping[str, str]) -> ListQuery:
    """The list's query string; every bad parameter is reported at once (400)."""
    errors = FieldErrors()
    for name in query:
        if name not in KNOWN:
            errors.add(name, f"Unknown parameter {name} (known: {', '.join(KNOWN)})")
    target = query.get("target")
    if target is not None and target not in TARGETS:
        errors.add("target", "Invalid target")
    priority = query.get("priority")
    if priority is not None and priority not in PRIORITIES:
        errors.add("priority", "Invalid priority")
    # Blank is absent (as the OpenAPI document says of optional text); NUL is no text.
    assignee = query.get("assignee") or None
    slug = query.get("productSlug") or None
    assignee = assignee if assignee is None or assignee.strip() else None
    slug = slug if slug is None or slug.strip() else None
    for name, value in (("assignee", assignee), ("productSlug", slug)):
        if value is not None and "\x00" in value:
            errors.add(name, f"Invalid {name}")
    since = None
    if "since" in query:
        since = parse_time(query["since"])
        if since is None:
            errors.add("since", "Invalid since")
    window = None
    if "dueWithin" in query:
        window = parse_window(query["dueWithin"])
        if window is None:
            errors.add("dueWithin", "Invalid dueWithin")
    limit = DEFAULT_LIMIT
    if "limit" in query:
        parsed = whole_number(query["limit"], maximum=MAX_LIMIT)
        if parsed is None:
            errors.add("limit", "Invalid limit")
        else:
            limit = parsed
    if errors.fields:
        field, message = next(iter(errors.fields.items()))
        hint = HINTS.get(field, f"Known parameters: {', '.join(KNOWN)}.")
        raise ApiError(400, message, hint, fields=errors.fields)
    cursor = decode_cursor(query["cursor"]) if query.get("cursor") else None  # blank: none
    filters = ListFilters(
        target=TARGETS[target] if target is not None else None,
        priority=priority,
        assignee=assignee,
        since=since,
    )
    return ListQuery(filters, slug, window, limit, cursor)


def encode_cursor(key: dt.datetime, last_id: int) -> str:
    raw = json.dumps({"at": key.isoformat(), "id": last_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii")


def decode_cursor(cursor: str) -> Cursor:
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        at = parse_time(value["at"])
        last_id = value["id"]
        if at is None or type(last_id) is not int or bounded_int(last_id) is None:
            raise ValueError
        return at, last_id
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            INVALID_CURSOR,
            "Pass the nextCursor of the previous page unchanged, or leave cursor out to start.",
        ) from None


async def product_id(reader: Reader, visibility: Visibility, slug: str) -> int:
    row = await reader.fetchrow("SELECT id FROM products WHERE slug = $1", slug)
    if row is None or (visibility.product_ids is not None and row[0] not in visibility.product_ids):
        raise ApiError(
            404,
            "Product not found",
            f"No product {slug!r} is open to this key; leave productSlug out or use a slug "
            "from GET /api/v1/desk/tickets.",
        )
    return int(row[0])


async def page(
    reader: Reader, visibility: Visibility, query: ListQuery, now: dt.datetime
) -> dict[str, Any]:
    """A page of the list at ``now``, in seed 001's paging shape."""
    filters = query.filters
    if query.product_slug is not None:
        found = await product_id(reader, visibility, query.product_slug)
        filters = dataclasses.replace(filters, product_id=found)
    until = now + query.due_within if query.due_within is not None else None
    if until is None:
        entries = await sla_reads.breached(
            reader, visibility, filters, now, cursor=query.cursor, limit=query.limit + 1
        )
    else:
        entries = await sla_reads.breaching_within(
            reader, visibility, filters, now, until, cursor=query.cursor, limit=query.limit + 1
        )
    shown, has_more = entries[: query.limit], len(entries) > query.limit
    policies = await sla_reads.policies(reader)
    pauses = await sla_reads.pauses(reader, [e.ticket.id for e in shown])
    items = []
    rules: dict[int, sla.Policy] = {}  # each policy turned into rules once a page
    for entry in shown:
        policy = sla_reads.policy_of(policies, entry.ticket.sla_policy_id)
        if policy is None:
            continue
        if policy.id not in rules:
            rules[policy.id] = sla_clock.rules_policy(policy)
        standing = sla_clock.standing(
            policy, entry.ticket, pauses[entry.ticket.id], (), now, rules=rules[policy.id]
        )
        if standing is not None:
            items.append(sla_views.list_entry(entry, standing, until=until))
    body: dict[str, Any] = {
        "breaches": items,
        "asOf": sla_views.iso_ms(now),
        "dueWithinUntil": sla_views.iso_ms(until),
        "hasMore": has_more,
    }
    if has_more:
        body["nextCursor"] = encode_cursor(shown[-1].key, shown[-1].ticket.id)
    return body


async def ticket_standing(
    reader: Reader, ticket_id: int, now: dt.datetime
) -> sla_clock.Standing | None:
    """One ticket's SLA at ``now``, read in plain SQL (the desk's ticket view)."""
    found = await sla_reads.ticket(reader, ticket_id)
    policy = (
        sla_reads.policy_of(await sla_reads.policies(reader), found.sla_policy_id)
        if found
        else None
    )
    if found is None or policy is None:
        return None
    pauses = (await sla_reads.pauses(reader, [ticket_id]))[ticket_id]
    earlier = await sla_reads.cycles(reader, ticket_id)
    return sla_clock.standing(policy, found, pauses, earlier, now)
