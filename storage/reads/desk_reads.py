"""The desk's reads in plain SQL on the Reader (storage.reader): a list page, one ticket with
its comments, and the stats, each in one or two statements.

Rows come back as small records with the attribute names of the models (``ticket.tags[0].tag``,
``ticket.product.slug``), so that the views in ``bot.tickets.desk`` draw them the same way as
ORM objects. Every query applies a ``Visibility`` (storage.visibility, rendered as SQL),
which leaves out soft-deleted tickets, as ``storage.repos.desk`` does for the writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from storage.reader import Reader, utc
from storage.reads.ticket_search import TicketMatch, match_sql
from storage.visibility import Params, Visibility


@dataclasses.dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tag: str | None = None
    # The search (``q``): storage.reads.ticket_search.
    match: TicketMatch | None = None
    product_id: int | None = None
    stage: str | None = None
    # Any of these statuses (the inbox's "open" views: open or pending), besides ``status``.
    statuses: tuple[str, ...] | None = None
    unassigned: bool = False  # no assignee (``assignee`` names one)


@dataclasses.dataclass(frozen=True)
class DeskStats:
    by_status: dict[str, int]
    avg_resolution_seconds: float | None


class Tag(NamedTuple):
    tag: str


class ProductRef(NamedTuple):
    slug: str


class TicketSummary(NamedTuple):
    """What a list row shows (``bot.tickets.desk.ticket_summary``)."""

    id: int
    desk_id: str
    subject: str
    priority: str
    status: str
    submitter_email: str
    assignee: str | None
    created_at: dt.datetime
    tags: list[Tag]


class DeskTicket(NamedTuple):
    """What the staff view of one ticket shows (``bot.tickets.desk.ticket_view``)."""

    id: int
    desk_id: str
    subject: str
    body: str
    priority: str
    status: str
    submitter_email: str
    assignee: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    stage: str
    type: str | None
    category: str | None
    source_type: str
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    due_at: dt.datetime | None
    created_by: str | None
    updated_by: str | None
    is_test: bool
    product: ProductRef | None
    tags: list[Tag]


class DeskComment(NamedTuple):
    desk_id: str
    body: str
    internal: bool
    author: str
    created_at: dt.datetime


# A page of tickets (a CTE named ``page``, its first column the id) joined to their tags in
# their order: one row per tag, or one with a NULL tag; ``with_tags`` folds the rows.
PAGE_WITH_TAGS = """SELECT page.*, g.tag FROM page LEFT JOIN ticket_tags g ON g.ticket_id = page.id
ORDER BY page.id DESC, g.position, g.tag
"""

R = TypeVar("R", bound="_Tagged")


class _Tagged(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def tags(self) -> list[Tag]: ...


def with_tags(
    rows: Sequence[Sequence[Any]], width: int, make: Callable[[Sequence[Any]], R]
) -> list[R]:
    """The records of ``PAGE_WITH_TAGS``'s rows: ``make`` turns a ticket's first ``width``
    columns into its record, and the tag in the next column is added to it."""
    records: list[R] = []
    for row in rows:
        if not records or records[-1].id != row[0]:
            records.append(make(row[:width]))
        if row[width] is not None:
            records[-1].tags.append(Tag(row[width]))
    return records


def page_query(
    visibility: Visibility,
    filters: TicketFilters,
    *,
    before_id: int | None,
    limit: int,
    after_id: int | None = None,
) -> tuple[str, list[Any]]:
    """The statement ``page`` runs: the page's tickets (keyset: newest first, ids below
    ``before_id``; or the ``limit`` oldest of those above ``after_id``, a page back towards
    the newest) joined to their tags, one row per tag (or one with a NULL tag)."""
    params = Params()
    joins, where = "", [visibility.sql(params)]
    # The keyset column: with a tag, the tag index's own ticket_id (equal to t.id by the
    # join), so that the index on (tag, ticket_id) yields the page in order instead of every
    # tagged ticket being fetched and sorted.
    key = "t.id"
    if filters.tag is not None:
        # ticket_tags' key is (ticket_id, tag): the join yields at most one row a ticket.
        joins = f"JOIN ticket_tags f ON f.ticket_id = t.id AND f.tag = {params(filters.tag)}"
        key = "f.ticket_id"
    for column, value in (
        ("status", filters.status),
        ("priority", filters.priority),
        ("assignee", filters.assignee),
        ("product_id", filters.product_id),
        ("stage", filters.stage),
    ):
        if value is not None:
            where.append(f"t.{column} = {params(value)}")
    if filters.statuses is not None:
        listed = ", ".join(params(status) for status in filters.statuses)
        where.append(f"t.status IN ({listed})" if listed else "1 = 0")
    if filters.unassigned:
        where.append("t.assignee IS NULL")
    if filters.match is not None:
        where.extend(match_sql(filters.match, params))
    for bound, sign in ((before_id, "<"), (after_id, ">")):
        if bound is None:
            continue
        value = params(bound)
        where.append(f"{key} {sign} {value}")
        if key != "t.id":
            # The same bound on the tickets' side too: PostgreSQL may merge-join the two
            # indexes, and does not carry an inequality across the join by itself (without
            # this, page 500 of a tag walked 100,000 tickets from the top).
            where.append(f"t.id {sign} {value}")
    sql = f"""
WITH page AS (
    SELECT t.id, t.desk_id, t.subject, t.priority, t.status, t.submitter_email, t.assignee,
           t.created_at
    FROM tickets t {joins}
    WHERE {" AND ".join(where)}
    ORDER BY {key} {"ASC" if after_id is not None else "DESC"}
    LIMIT {params(limit)}
)
{PAGE_WITH_TAGS}"""
    return sql, params.values


async def page(
    reader: Reader,
    visibility: Visibility,
    filters: TicketFilters,
    *,
    before_id: int | None,
    limit: int,
    after_id: int | None = None,
) -> list[TicketSummary]:
    """Up to ``limit`` tickets, newest first, with ids below ``before_id`` (keyset); with
    ``after_id``, the ``limit`` next above it instead (still newest first: a page back).

    New tickets get higher ids, so a walk that started earlier never sees them twice or
    shifts: each matching ticket is returned exactly once. One statement; bounded on SQLite,
    since a filter that matches few tickets walks far along its index.
    """
    sql, args = page_query(visibility, filters, before_id=before_id, limit=limit, after_id=after_id)
    rows = await reader.fetch_bounded(sql, *args)
    return with_tags(rows, 8, lambda v: TicketSummary(*v[:7], utc(v[7]), []))  # type: ignore[call-arg]


def ticket_query(params: Params, visibility: Visibility, where: str) -> str:
    return f"""
SELECT t.id, t.desk_id, t.subject, t.body, t.priority, t.status, t.submitter_email, t.assignee,
       t.created_at, t.updated_at, t.stage, t.type, t.category, t.source_type,
       t.first_response_at, t.resolved_at, t.due_at, t.created_by, t.updated_by, t.is_test,
       p.slug, g.tag
FROM tickets t
LEFT JOIN products p ON p.id = t.product_id
LEFT JOIN ticket_tags g ON g.ticket_id = t.id
WHERE {where} AND {visibility.sql(params)}
ORDER BY g.position, g.tag
"""


async def _ticket(reader: Reader, sql: str, args: Sequence[Any]) -> DeskTicket | None:
    rows = await reader.fetch(sql, *args)
    if not rows:
        return None
    row = rows[0]
    return DeskTicket(
        *row[:8],
        *(utc(value) for value in row[8:10]),
        *row[10:14],
        *(utc(value) for value in row[14:17]),
        *row[17:19],
        bool(row[19]),
        ProductRef(row[20]) if row[20] is not None else None,
        [Tag(r[21]) for r in rows if r[21] is not None],
    )  # type: ignore[call-arg]


async def visible_by_number(
    reader: Reader, number: int, visibility: Visibility
) -> DeskTicket | None:
    params = Params()
    where = f"t.id = {params(number)}"
    return await _ticket(reader, ticket_query(params, visibility, where), params.values)


async def visible_by_desk_id(
    reader: Reader, desk_id: str, visibility: Visibility
) -> DeskTicket | None:
    params = Params()
    where = f"t.desk_id = {params(desk_id)}"
    return await _ticket(reader, ticket_query(params, visibility, where), params.values)


COMMENTS = """
SELECT desk_id, body, internal, author, created_at FROM comments
WHERE ticket_id = $1
ORDER BY id
"""


async def comments(reader: Reader, ticket_id: int) -> list[DeskComment]:
    """Every comment, internal notes included: staff only. Bounded: a ticket may have many."""
    return [
        DeskComment(desk_id, body, bool(internal), author, utc(at))  # type: ignore[arg-type]
        for desk_id, body, internal, author, at in await reader.fetch_bounded(COMMENTS, ticket_id)
    ]


async def stats(reader: Reader, visibility: Visibility) -> DeskStats:
    """Counts per status and the mean time to resolution, summed from the pre-computed
    ``ticket_counts`` (kept by triggers in the tickets' own transactions, so never stale)
    rather than from a scan of every ticket. The scope is ``Visibility`` over those rows,
    which hold live tickets only; folded every minute, so few — bounded on SQLite all the
    same."""
    params = Params()
    in_scope = visibility.counts_sql(params)
    where = f"WHERE {in_scope}" if in_scope is not None else ""
    sql = (
        "SELECT status, sum(tickets), sum(resolved), sum(resolution_seconds) "
        f"FROM ticket_counts {where} GROUP BY status"
    )
    by_status: dict[str, int] = {}
    resolved, seconds = 0, 0.0
    for status, count, resolved_count, resolution_seconds in await reader.fetch_bounded(
        sql, *params.values
    ):
        if count:
            by_status[status] = int(count)
        resolved += int(resolved_count or 0)
        seconds += float(resolution_seconds or 0.0)
    return DeskStats(by_status, seconds / resolved if resolved else None)
