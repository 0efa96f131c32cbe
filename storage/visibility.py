"""Which tickets a desk caller may see: the one definition of the scope rule, rendered as
the ORM clause (``Visibility.clause``), as SQL over ``tickets t`` (``Visibility.sql``) and
as SQL over the pre-computed ``ticket_counts`` (``Visibility.counts_sql``).

The rule: a ticket is visible if it is live (not soft-deleted) and either the caller is
unscoped (``product_ids`` None), or the ticket belongs to one of ``product_ids``, or it
has no product and the caller created it (``creator``, matched against created_by).

``ticket_counts`` rows hold live tickets only, keyed by product and, for product-less
tickets, by their creator (``owner``): the triggers of migration 0002 write them with
``LIVE`` and ``OWNER`` below. That migration is history and imports nothing live; a test
checks that its trigger text agrees with them, and that every rendering selects the same
tickets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, or_, true

from storage.models import Ticket

E = TypeVar("E")

# The ticket columns the rule reads: a change to any of them may move a ticket's count.
COLUMNS = ("deleted_at", "product_id", "created_by")
# How the counts' triggers decide, for the row ``{row}`` (NEW or OLD), that it is counted
# and under which owner.
LIVE = "{row}.deleted_at IS NULL"
OWNER = "CASE WHEN {row}.product_id IS NULL THEN {row}.created_by END"


class Params:
    """Collects bind values and hands out their ``$n`` placeholders (the Reader's style)."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclasses.dataclass(frozen=True)
class _Terms(Generic[E]):
    """The words the rule is written in, for one rendering."""

    live: E | None  # None: every row is live
    in_products: Callable[[Sequence[int]], E]
    productless_by: Callable[[str], E]
    all_of: Callable[[E, E], E]
    any_of: Callable[[E, E], E]


@dataclasses.dataclass(frozen=True)
class Visibility:
    """Which tickets a caller sees: those of ``product_ids`` (None: every ticket), plus the
    product-less tickets it created itself (``creator``, matched against created_by)."""

    product_ids: tuple[int, ...] | None
    creator: str | None = None
    # Soft-deleted tickets too (the ITSM list's ?include_deleted=true): the scope still holds.
    include_deleted: bool = False

    def _render(self, terms: _Terms[E]) -> E | None:
        """The rule itself, the only place it is written. None: no condition."""
        live = None if self.include_deleted else terms.live
        if self.product_ids is None:
            return live
        in_scope = terms.in_products(self.product_ids)
        if self.creator:
            in_scope = terms.any_of(in_scope, terms.productless_by(self.creator))
        return in_scope if live is None else terms.all_of(live, in_scope)

    def clause(self) -> ColumnElement[bool]:
        """The rule over the ``Ticket`` model."""
        rendered = self._render(
            _Terms[ColumnElement[bool]](
                live=Ticket.deleted_at.is_(None),
                in_products=lambda ids: Ticket.product_id.in_(ids),
                productless_by=lambda creator: and_(
                    Ticket.product_id.is_(None), Ticket.created_by == creator
                ),
                all_of=lambda a, b: and_(a, b),
                any_of=lambda a, b: or_(a, b),
            )
        )
        return true() if rendered is None else rendered

    def sql(self, params: Params) -> str:
        """The rule in SQL over ``tickets t``."""
        terms = _sql_terms(params, "t.", "created_by", live="t.deleted_at IS NULL")
        rendered = self._render(terms)
        return "1 = 1" if rendered is None else rendered

    def counts_sql(self, params: Params) -> str | None:
        """The rule in SQL over ``ticket_counts`` (live tickets only); None: every row."""
        return self._render(_sql_terms(params, "", "owner", live=None))


def _sql_terms(
    params: Params, prefix: str, creator_column: str, *, live: str | None
) -> _Terms[str]:
    def in_products(ids: Sequence[int]) -> str:
        if not ids:
            return "1 = 0"
        return f"{prefix}product_id IN ({', '.join(params(i) for i in ids)})"

    def productless_by(creator: str) -> str:
        return f"({prefix}product_id IS NULL AND {prefix}{creator_column} = {params(creator)})"

    return _Terms[str](
        live=live,
        in_products=in_products,
        productless_by=productless_by,
        all_of=lambda a, b: f"{a} AND {b}",
        any_of=lambda a, b: f"({a} OR {b})",
    )
