"""The records of the plain-SQL reads (storage.reads, storage.repos.apikeys) name the
models' columns, and their statements select exactly those columns from the right tables:
a column renamed or dropped in the models cannot drift away from them silently."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from storage.models import (
    ApiKey,
    Base,
    Comment,
    Product,
    StaffAccount,
    StageTransition,
    Ticket,
    TicketTag,
)
from storage.reads import desk_reads, tracking
from storage.repos import apikeys
from storage.visibility import Params, Visibility

# Each record, the model it mirrors, and its fields that hold other records instead.
RECORDS: list[tuple[type[Any], type[Base], dict[str, type[Any]]]] = [
    (tracking.TrackedTicket, Ticket, {"transitions": tracking.Step}),
    (tracking.Step, StageTransition, {}),
    (tracking.PublicComment, Comment, {}),
    (desk_reads.Tag, TicketTag, {}),
    (desk_reads.ProductRef, Product, {}),
    (desk_reads.TicketSummary, Ticket, {"tags": desk_reads.Tag}),
    (desk_reads.DeskTicket, Ticket, {"tags": desk_reads.Tag, "product": desk_reads.ProductRef}),
    (desk_reads.DeskComment, Comment, {}),
    (apikeys.ActiveKey, ApiKey, {}),
    (apikeys.KeyOwner, StaffAccount, {}),
]


@pytest.mark.parametrize(
    ("record", "model", "nested"), RECORDS, ids=lambda r: getattr(r, "__name__", "")
)
def test_every_field_of_a_record_is_a_column_of_its_model(record, model, nested):
    columns = {c.key for c in sa_inspect(model).column_attrs}
    relationships = set(sa_inspect(model).relationships.keys())
    for field in record._fields:
        if field in tracking.COMPUTED_FIELDS:
            continue
        if field in nested:
            assert field in relationships, f"{record.__name__}.{field}: no such relationship"
        else:
            assert field in columns, f"{record.__name__}.{field}: not a {model.__name__} column"


def selected(sql: str) -> list[tuple[str | None, str]]:
    """(alias, column) of each item of the outermost SELECT list of ``sql``."""
    items = re.search(r"SELECT\s+(.*?)\s+FROM\s", sql, re.S | re.I)
    assert items is not None
    found: list[tuple[str | None, str]] = []
    for item in items.group(1).split(","):
        computed = re.search(r"\bAS\s+(\w+)$", item.strip(), re.I)
        if computed:  # an expression named after its field; no table column to check
            found.append(("=", computed.group(1)))
            continue
        alias, _, column = item.strip().rpartition(".")
        found.append((alias or None, column))
    return found


def tables_of(sql: str) -> dict[str | None, str]:
    """Alias → table for ``FROM/JOIN table alias`` (and None for a table with no alias)."""
    tables: dict[str | None, str] = {}
    for table, alias in re.findall(r"(?:FROM|JOIN)\s+(\w+)(?:\s+(\w+))?", sql, re.I):
        if table in Base.metadata.tables:
            keyword = alias.upper() in {"WHERE", "ON", "LEFT", "JOIN", "ORDER"}
            tables.setdefault(None if not alias or keyword else alias, table)
    return tables


def assert_selects(sql: str, fields: list[str]) -> None:
    tables = tables_of(sql)
    columns = selected(sql)
    assert [column for _, column in columns] == fields
    for alias, column in columns:
        if alias == "=":
            assert column in tracking.COMPUTED_FIELDS, f"{column} is computed but not declared"
            continue
        table = Base.metadata.tables[tables[alias]]
        assert column in table.c, f"{table.name} has no column {column}"


def test_the_tracking_statements_select_their_records_columns():
    ticket = [f for f in tracking.TrackedTicket._fields if f != "transitions"]
    assert_selects(tracking.TICKET_WITH_HISTORY, [*ticket, *tracking.Step._fields])
    public = [f for f in tracking.PublicComment._fields if f != "internal"]  # the filter
    assert_selects(tracking.PUBLIC_COMMENTS, public)


def test_the_desk_statements_select_their_records_columns():
    params = Params()
    ticket_sql = desk_reads.ticket_query(params, Visibility(None), "t.id = $1")
    fields = [f for f in desk_reads.DeskTicket._fields if f not in ("product", "tags")]
    assert_selects(ticket_sql, [*fields, "slug", "tag"])
    assert_selects(desk_reads.COMMENTS, list(desk_reads.DeskComment._fields))
    page_sql, _ = desk_reads.page_query(
        Visibility(None), desk_reads.TicketFilters(), before_id=None, limit=5
    )
    page = page_sql.split("SELECT page.*", 1)[0]  # the page's own columns (then its tags)
    page = page.split("AS (", 1)[1]
    assert_selects(page, [f for f in desk_reads.TicketSummary._fields if f != "tags"])


def test_the_active_key_statement_selects_its_records_columns():
    assert_selects(apikeys.ACTIVE_BY_HASH, list(apikeys.ActiveKey._fields))
    assert_selects(apikeys.KEY_OWNER, list(apikeys.KeyOwner._fields))
