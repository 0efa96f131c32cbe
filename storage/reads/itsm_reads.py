"""The ITSM list (seed 002's ``GET /api/v1/helpdesk/tickets``) in plain SQL on the Reader.

Through the ORM a page of 25 documents cost about 2.6 ms of CPU at a million tickets, most
of it the unit of work and instance loading for two statements (tickets, then their tags);
as one statement on the Reader the rows come back as ``ItsmTicket`` records with the
model's attribute names, which ``bot.views.helpdesk.ticket_doc`` draws as it draws a
``Ticket``. The scope is the one ``Visibility`` rule, plus the tenant and the application
(``bot.tickets.helpdesk.scope_clause`` says the same for the ORM reads).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from storage.reader import Reader, utc
from storage.reads.desk_reads import Tag
from storage.visibility import Params, Visibility

COLUMNS = (
    "id",
    "desk_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "source",
    "source_type",
    "deleted_at",
    "deleted_by",
    "schema_version",
    "subject",
    "body",
    "type",
    "status",
    "priority",
    "category",
    "submitter_email",
    "assignee",
    "team_id",
    "sla_policy_id",
    "first_response_at",
    "resolved_at",
    "due_at",
    "related_asset_id",
    "related_vulnerability_id",
    "app_id",
)
_TIMES = frozenset(
    ("created_at", "updated_at", "deleted_at", "first_response_at", "resolved_at", "due_at")
)
_TIME_AT = tuple(i for i, name in enumerate(COLUMNS) if name in _TIMES)


@dataclasses.dataclass
class ItsmTicket:
    """A ticket as the ITSM document reads it (``COLUMNS``, and its tags in order)."""

    id: int
    desk_id: str
    tenant_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None
    updated_by: str | None
    source: str | None
    source_type: str
    deleted_at: dt.datetime | None
    deleted_by: str | None
    schema_version: int
    subject: str
    body: str
    type: str | None
    status: str
    priority: str
    category: str | None
    submitter_email: str
    assignee: str | None
    team_id: str | None
    sla_policy_id: int | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    due_at: dt.datetime | None
    related_asset_id: str | None
    related_vulnerability_id: str | None
    app_id: str | None
    tags: list[Tag] = dataclasses.field(default_factory=list)


def page_query(
    visibility: Visibility,
    tenant_id: str,
    app_id: str | None,
    equal: Mapping[str, str | None],
    before_id: int | None,
    rows: int,
) -> tuple[str, list[Any]]:
    """Newest first, ids below ``before_id``, ``rows`` tickets at most, with their tags (one
    row per tag, or one with a NULL tag); ``equal``: column → value filters (None: none)."""
    params = Params()
    where = [visibility.sql(params), f"t.tenant_id = {params(tenant_id)}"]
    if app_id is not None:
        where.append(f"t.app_id = {params(app_id)}")
    for column, value in equal.items():
        if value is not None:
            where.append(f"t.{column} = {params(value)}")
    if before_id is not None:
        where.append(f"t.id < {params(before_id)}")
    selected = ", ".join(f"t.{column}" for column in COLUMNS)
    sql = f"""
WITH page AS (
    SELECT {selected}
    FROM tickets t
    WHERE {" AND ".join(where)}
    ORDER BY t.id DESC
    LIMIT {params(rows)}
)
SELECT page.*, g.tag FROM page LEFT JOIN ticket_tags g ON g.ticket_id = page.id
ORDER BY page.id DESC, g.position, g.tag
"""
    return sql, params.values


async def page(
    reader: Reader,
    visibility: Visibility,
    tenant_id: str,
    app_id: str | None,
    equal: Mapping[str, str | None],
    before_id: int | None,
    rows: int,
) -> list[ItsmTicket]:
    """``page_query``'s tickets; bounded on SQLite (a filter that matches few tickets walks
    far along the index)."""
    sql, args = page_query(visibility, tenant_id, app_id, equal, before_id, rows)
    tickets: list[ItsmTicket] = []
    width = len(COLUMNS)
    for row in await reader.fetch_bounded(sql, *args):
        if not tickets or tickets[-1].id != row[0]:
            values = list(row[:width])
            for i in _TIME_AT:
                values[i] = utc(values[i])
            tickets.append(ItsmTicket(*values))
        if row[width] is not None:
            tickets[-1].tags.append(Tag(row[width]))
    return tickets
