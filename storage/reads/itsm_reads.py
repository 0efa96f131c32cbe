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
from collections.abc import Mapping, Sequence
from typing import Any

from storage.models import Ticket
from storage.reader import Reader, utc
from storage.reads.desk_reads import PAGE_WITH_TAGS, Tag, with_tags
from storage.types import UTCDateTime
from storage.visibility import Params, Visibility


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


# The record's fields but its tags are the ticket columns the list selects, in this order.
COLUMNS = tuple(f.name for f in dataclasses.fields(ItsmTicket) if f.name != "tags")
_TIME_AT = tuple(
    i for i, name in enumerate(COLUMNS) if isinstance(Ticket.__table__.c[name].type, UTCDateTime)
)


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
{PAGE_WITH_TAGS}"""
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
    return with_tags(await reader.fetch_bounded(sql, *args), len(COLUMNS), _ticket)


def _ticket(values: Sequence[Any]) -> ItsmTicket:
    converted = list(values)
    for i in _TIME_AT:
        converted[i] = utc(converted[i])
    return ItsmTicket(*converted)
