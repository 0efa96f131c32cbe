"""Billing periods of a contract: months, quarters or years counted from its start date (a
contract starting on 31 January has periods from 31 Jan, 28 Feb, 31 Mar, ...), or one period
for a one-off. Dates are the contract's local dates; ``local_date`` says which local date an
instant falls on. Pure.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator
from zoneinfo import ZoneInfo


class Period(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ONE_OFF = "one_off"


MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}


@dataclasses.dataclass(frozen=True)
class Span:
    """Local dates ``start`` (first day) to ``end`` (first day after), and the period's index."""

    index: int
    start: dt.date
    end: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end


def add_months(anchor: dt.date, months: int) -> dt.date:
    """``anchor`` moved by whole months, its day clamped to the month's last (31 Jan + 1 = 28
    or 29 Feb; + 2 = 31 Mar: always from the anchor, so the day never drifts)."""
    year, month0 = divmod(anchor.month - 1 + months, 12)
    year += anchor.year
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.date(year, month0 + 1, day)


def span(starts_on: dt.date, period: Period, index: int) -> Span:
    if period is Period.ONE_OFF:
        if index != 0:
            raise ValueError("a one-off contract has one period")
        return Span(0, starts_on, dt.date.max)
    months = MONTHS[period]
    start = add_months(starts_on, index * months)
    return Span(index, start, add_months(starts_on, (index + 1) * months))


def spans(starts_on: dt.date, period: Period, ends_on: dt.date | None) -> Iterator[Span]:
    """Every period from the first, while it starts on or before ``ends_on`` (None: forever;
    the caller stops)."""
    index = 0
    while True:
        current = span(starts_on, period, index)
        if ends_on is not None and current.start > ends_on:
            return
        yield current
        if period is Period.ONE_OFF:
            return
        index += 1


def span_of(starts_on: dt.date, period: Period, day: dt.date) -> Span | None:
    """The period holding ``day`` (None before the start)."""
    if day < starts_on:
        return None
    if period is Period.ONE_OFF:
        return span(starts_on, period, 0)
    months = MONTHS[period]
    guess = ((day.year - starts_on.year) * 12 + day.month - starts_on.month) // months
    for index in (guess - 1, guess, guess + 1):
        if index >= 0 and day in (candidate := span(starts_on, period, index)):
            return candidate
    raise AssertionError("unreachable: the guess is within one period")  # pragma: no cover


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    """The date on the wall calendar of ``zone`` at an aware instant."""
    return instant.astimezone(ZoneInfo(zone)).date()
