"""The workspace inbox's reads in plain SQL on the Reader: what a row shows of each ticket of
a page (its product, stage, SLA facts and a change stamp), read for the whole page in one
statement, and the products a person may filter by.

Which tickets a page holds is decided elsewhere (``storage.reads.desk_reads.page``, or the
SLA lists of ``storage.reads.sla_reads``); this only fills in the rows. The scope is
applied again all the same (``Visibility``), so a list of ids from anywhere cannot widen it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from storage.reader import Reader, utc
from storage.reads.desk_reads import ProductRef
from storage.visibility import Params, Visibility

MAX_PRODUCTS = 500  # the product filter's choices; more than any one desk shows in a select


class InboxRow(NamedTuple):
    """One ticket as an inbox row shows it; its SLA facts are what ``bot.tickets.sla_clock``
    reads (``TicketClocks``)."""

    id: int
    desk_id: str
    subject: str
    priority: str
    status: str
    assignee: str | None
    stage: str
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    sla_first_status_at: dt.datetime | None
    sla_paused_since: dt.datetime | None
    sla_cycle_started_at: dt.datetime | None
    sla_cycle_ended_at: dt.datetime | None
    sla_breach_at: dt.datetime | None
    sla_policy_id: int | None
    product: ProductRef | None


class ProductChoice(NamedTuple):
    id: int
    slug: str
    name: str


ROWS = """
SELECT t.id, t.desk_id, t.subject, t.priority, t.status, t.assignee, t.stage, t.created_at,
       t.updated_at, t.first_response_at, t.sla_first_status_at, t.sla_paused_since,
       t.sla_cycle_started_at, t.sla_cycle_ended_at, t.sla_breach_at, t.sla_policy_id, p.slug
FROM tickets t
LEFT JOIN products p ON p.id = t.product_id
WHERE t.id IN ({ids}) AND {scope}
"""
_TIMES = slice(7, 15)


async def rows(
    reader: Reader, visibility: Visibility, ticket_ids: Sequence[int]
) -> dict[int, InboxRow]:
    """The rows of these tickets by id (those still visible); one statement for a page."""
    if not ticket_ids:
        return {}
    params = Params()
    ids = ", ".join(params(i) for i in ticket_ids)
    sql = ROWS.format(ids=ids, scope=visibility.sql(params))
    found: dict[int, InboxRow] = {}
    for row in await reader.fetch(sql, *params.values):
        found[row[0]] = InboxRow(
            *row[:7],
            *(utc(value) for value in row[_TIMES]),
            row[15],
            ProductRef(row[16]) if row[16] is not None else None,
        )  # type: ignore[call-arg]
    return found


async def products(reader: Reader, product_ids: Sequence[int] | None) -> list[ProductChoice]:
    """The products of this scope (None: every product), by slug."""
    params = Params()
    where = ""
    if product_ids is not None:
        if not product_ids:
            return []
        where = f"WHERE id IN ({', '.join(params(i) for i in product_ids)})"
    sql = f"SELECT id, slug, name FROM products {where} ORDER BY slug LIMIT {MAX_PRODUCTS}"
    return [
        ProductChoice(int(i), slug, name)
        for i, slug, name in await reader.fetch_bounded(sql, *params.values)
    ]
