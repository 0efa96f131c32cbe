"""The hour bank of a time-based contract as a ledger: a pure function of the contract's terms
and the time drawn on it, so the balance at any date is a sum anyone can read back.

Each period is its own bank. In order, on its dates:

- ``rollover`` (+): what the previous period carried in (at most the cap; none when rollover
  is off), on the period's first day;
- ``purchase`` (+): the hours the contract buys each period, on its first day;
- ``draw`` (-): a time entry's billed minutes, as far as the balance covers them, in the order
  the work was done (day, then entry);
- ``overage`` (0): the part of an entry the balance did not cover, billed at the overage rate
  (it changes no balance: a bank never goes below zero);
- ``expiry`` (-): at the close of a period (its last day, once the next has begun), all that
  is left leaves it; the next period's ``rollover`` takes back what may be carried.

So within a period: balance = rollovers + purchases - draws - expiries, never negative; a
closed period ends at zero; each period's unused minutes are its expiry, of which
``min(unused, cap)`` (rollover on) reappears as the next period's rollover. Minutes are whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Sequence

from bot.rules.billing_periods import Period, Span, span_of, spans


class Kind(enum.StrEnum):
    ROLLOVER = "rollover"
    PURCHASE = "purchase"
    DRAW = "draw"
    OVERAGE = "overage"
    EXPIRY = "expiry"


@dataclasses.dataclass(frozen=True)
class BankTerms:
    starts_on: dt.date
    ends_on: dt.date | None
    period: Period
    minutes_per_period: int
    rollover: bool = False
    # At most this many unused minutes carry into the next period (None: no cap).
    rollover_cap: int | None = None


@dataclasses.dataclass(frozen=True)
class Draw:
    """Billed minutes of one time entry, on its local date."""

    entry_id: int
    day: dt.date
    minutes: int


@dataclasses.dataclass(frozen=True)
class Entry:
    kind: Kind
    day: dt.date
    period: Span
    # The change to the period's balance (overage: 0) and the minutes the entry is about.
    change: int
    minutes: int
    balance: int
    entry_id: int | None = None


@dataclasses.dataclass(frozen=True)
class PeriodTotals:
    period: Span
    rolled_in: int
    purchased: int
    drawn: int
    overage: int
    expired: int
    closed: bool
    balance: int


class DrawOutsideContract(ValueError):
    """A draw dated before the contract starts or after its last period."""


def ledger(terms: BankTerms, draws: Iterable[Draw], through: dt.date) -> list[Entry]:
    """Every ledger entry up to and including ``through``."""
    by_period: dict[int, list[Draw]] = {}
    for draw in draws:
        found = span_of(terms.starts_on, terms.period, draw.day)
        if found is None or (terms.ends_on is not None and found.start > terms.ends_on):
            raise DrawOutsideContract(
                f"entry {draw.entry_id} on {draw.day} is outside the contract"
            )
        by_period.setdefault(found.index, []).append(draw)
    entries: list[Entry] = []
    carried = 0
    for period in spans(terms.starts_on, terms.period, terms.ends_on):
        if period.start > through:
            break
        book = _Book(period)
        if carried:
            book.add(Kind.ROLLOVER, period.start, carried, carried)
        book.add(Kind.PURCHASE, period.start, terms.minutes_per_period, terms.minutes_per_period)
        for draw in sorted(by_period.get(period.index, ()), key=lambda d: (d.day, d.entry_id)):
            if draw.day > through:
                continue
            covered = min(draw.minutes, book.balance)
            if covered:
                book.add(Kind.DRAW, draw.day, -covered, covered, draw.entry_id)
            if draw.minutes > covered:
                book.add(Kind.OVERAGE, draw.day, 0, draw.minutes - covered, draw.entry_id)
        entries.extend(book.entries)
        if period.end > through:
            break  # still open: nothing expires or carries yet
        left = book.balance
        is_last = terms.ends_on is not None and period.end > terms.ends_on
        carried = 0
        if terms.rollover and not is_last:
            carried = left if terms.rollover_cap is None else min(left, terms.rollover_cap)
        if left:
            entries.append(Entry(Kind.EXPIRY, period.last_day, period, -left, left, 0))
    return entries


class _Book:
    """One period's entries as they are written, with the running balance."""

    def __init__(self, period: Span) -> None:
        self.period = period
        self.balance = 0
        self.entries: list[Entry] = []

    def add(
        self, kind: Kind, day: dt.date, change: int, minutes: int, entry: int | None = None
    ) -> None:
        self.balance += change
        self.entries.append(Entry(kind, day, self.period, change, minutes, self.balance, entry))


def totals(entries: Sequence[Entry], through: dt.date) -> list[PeriodTotals]:
    """Per period: what came in, went out and is left (``closed``: its end is past)."""
    result: dict[int, dict[Kind, int]] = {}
    spans_seen: dict[int, Span] = {}
    balances: dict[int, int] = {}
    for entry in entries:
        sums = result.setdefault(entry.period.index, dict.fromkeys(Kind, 0))
        sums[entry.kind] += entry.minutes
        spans_seen[entry.period.index] = entry.period
        balances[entry.period.index] = entry.balance
    return [
        PeriodTotals(
            period=spans_seen[index],
            rolled_in=sums[Kind.ROLLOVER],
            purchased=sums[Kind.PURCHASE],
            drawn=sums[Kind.DRAW],
            overage=sums[Kind.OVERAGE],
            expired=sums[Kind.EXPIRY],
            closed=spans_seen[index].end <= through,
            balance=balances[index],
        )
        for index, sums in sorted(result.items())
    ]


def balance_on(entries: Sequence[Entry], day: dt.date) -> int:
    """The balance of the period holding ``day``, after every entry dated on or before it."""
    balance = 0
    for entry in entries:
        if entry.period.start <= day < entry.period.end and entry.day <= day:
            balance = entry.balance
    return balance


def used_fraction(entries: Sequence[Entry], period: Span) -> tuple[int, int]:
    """(used, available) minutes of one period: draws plus overage against rollover plus
    purchase, for the 80 % and 95 % warnings."""
    used = available = 0
    for entry in entries:
        if entry.period.index != period.index:
            continue
        if entry.kind in (Kind.ROLLOVER, Kind.PURCHASE):
            available += entry.minutes
        elif entry.kind in (Kind.DRAW, Kind.OVERAGE):
            used += entry.minutes
    return used, available
