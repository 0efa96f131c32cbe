"""Business time: the working instants of a calendar, and time counted only in them.

A ``Calendar`` is an IANA time zone, working intervals per weekday (in minutes after local
midnight, so 9:00-17:00 is ``(540, 1020)`` and an interval may end at 24:00 = 1440) and
holidays (local dates, typed in or a country's public holidays from the ``holidays``
package). An instant is working time when its *local* wall-clock time falls in one of its
*local* date's intervals and that date is no holiday. ``None`` for a calendar means
wall-clock time, 24x7.

Daylight-saving changes need no special rule: the UTC day is cut where the zone's offset
changes, and within each piece local time is UTC plus one offset. So a 9-17 day is 8 hours
on the days clocks change, an interval inside a skipped hour has no working time, and one
covering a repeated hour counts it twice (the instants really are working time twice).

Paused intervals (a ticket waiting on its submitter) are UTC spans taken out of the
working time: the clock stops in them, and a due time moves by exactly the paused
business time.

Everything here is pure: the SLA rules (``bot.rules.sla``) call it, the tests compare it
with a minute-by-minute walk (tests/test_business_time.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead a due time is looked for: a calendar with no working time in reach (every
# day a holiday) has no due time, rather than a loop without end.
HORIZON = dt.timedelta(days=3 * 366)

Span = tuple[dt.datetime, dt.datetime]  # [start, end) in UTC, aware
Interval = tuple[int, int]  # [start, end) in minutes after local midnight


class NoWorkingTime(ValueError):
    """The calendar has no working time within ``HORIZON`` of the start."""


@dataclasses.dataclass(frozen=True)
class Calendar:
    zone: str
    # Monday first; each weekday's intervals sorted and not overlapping (``problems``).
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[dt.date] = frozenset()
    # Public holidays of a country (ISO 3166 code, e.g. "DE"), and optionally a region of
    # it (e.g. "BY"), from the ``holidays`` package, on top of ``holidays``.
    holiday_country: str | None = None
    holiday_subdivision: str | None = None

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_holiday(self, day: dt.date) -> bool:
        if day in self.holidays:
            return True
        if self.holiday_country is None:
            return False
        return day in public_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def intervals_on(self, day: dt.date) -> tuple[Interval, ...]:
        if self.is_holiday(day):
            return ()
        return self.week[day.weekday()]


@functools.lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    import holidays  # imported when a calendar asks: a large package most runs never need

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def problems(
    zone: str,
    week: Sequence[Sequence[Interval]],
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
) -> dict[str, str]:
    """What is wrong with a calendar's parts, by field (``{}`` when it is sound)."""
    found: dict[str, str] = {}
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        found["timeZone"] = f"{zone!r} is not an IANA time zone (such as Europe/Berlin)"
    if len(week) != 7:
        found["hours"] = "give the working intervals of all seven weekdays, Monday first"
        return found
    for name, intervals in zip(WEEKDAYS, week, strict=True):
        previous_end = -1
        for start, end in sorted(intervals):
            if not (0 <= start < end <= MINUTES_PER_DAY):
                found[f"hours.{name}"] = (
                    "each interval starts before it ends, within the day (00:00 to 24:00)"
                )
                break
            if start < previous_end:
                found[f"hours.{name}"] = "intervals overlap"
                break
            previous_end = end
    if not found and not any(week):
        found["hours"] = "a calendar needs working time on at least one weekday"
    if holiday_country is not None:
        import holidays

        # Only the package's own codes: country_holidays also takes its class names
        # ("Germany"), markets ("NYSE") and, for some module names, raises TypeError.
        supported = holidays.list_supported_countries()
        try:
            if holiday_subdivision not in (None, *supported.get(holiday_country, ())):
                raise NotImplementedError(holiday_subdivision)
            if holiday_country not in supported:
                raise NotImplementedError(holiday_country)
            holidays.country_holidays(holiday_country, subdiv=holiday_subdivision, years=2026)
        except NotImplementedError:
            found["holidayCountry"] = (
                f"no public holidays known for {holiday_country!r}"
                + (f" / {holiday_subdivision!r}" if holiday_subdivision else "")
                + " (an ISO 3166 country code such as DE, US or FR)"
            )
    return found


def calendar(
    zone: str,
    week: Sequence[Sequence[Interval]],
    holidays: Iterable[dt.date] = (),
    *,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
) -> Calendar:
    """A Calendar from checked parts (raises ValueError naming the problems)."""
    found = problems(zone, week, holiday_country, holiday_subdivision)
    if found:
        raise ValueError("; ".join(f"{field}: {why}" for field, why in found.items()))
    return Calendar(
        zone=zone,
        week=tuple(tuple(sorted((int(s), int(e)) for s, e in day)) for day in week),
        holidays=frozenset(holidays),
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )


# --------------------------------------------------------------------------- working spans


def working_spans(cal: Calendar | None, start: dt.datetime, until: dt.datetime) -> Iterator[Span]:
    """The calendar's working time from ``start`` on, as UTC spans in order (they may
    touch), the last one beginning before ``until``. Wall-clock time (``None``) is one
    span, ``[start, until)``."""
    start, until = _utc(start), _utc(until)
    if cal is None:
        if start < until:
            yield start, until
        return
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < until:
        for piece_start, piece_end, offset in _constant_offset_pieces(cal.tz, day):
            for span_start, span_end in _spans_in_piece(cal, piece_start, piece_end, offset):
                if span_end <= start or span_start >= until:
                    continue
                yield max(span_start, start), span_end
        day += dt.timedelta(days=1)


def _constant_offset_pieces(
    tz: ZoneInfo, day: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """The UTC day ``[day, day + 24h)`` cut where the zone's UTC offset changes."""
    end = day + dt.timedelta(days=1)
    while day < end:
        offset = _offset(tz, day)
        if _offset(tz, end - dt.timedelta(seconds=1)) == offset:
            yield day, end, offset
            return
        # The first second with another offset (zones change at whole seconds).
        low, high = day, end - dt.timedelta(seconds=1)
        while high - low > dt.timedelta(seconds=1):
            middle = low + (high - low) / 2
            middle = middle.replace(microsecond=0)
            if _offset(tz, middle) == offset:
                low = middle
            else:
                high = middle
        yield day, high, offset
        day = high


def _offset(tz: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _spans_in_piece(
    cal: Calendar, piece_start: dt.datetime, piece_end: dt.datetime, offset: dt.timedelta
) -> Iterator[Span]:
    """Working spans within a piece of constant offset: local time is UTC + offset there."""
    local_start = (piece_start + offset).replace(tzinfo=None)
    local_end = (piece_end + offset).replace(tzinfo=None)
    date = local_start.date()
    while dt.datetime.combine(date, dt.time()) < local_end:
        midnight = dt.datetime.combine(date, dt.time())
        for begin, finish in cal.intervals_on(date):
            a = max(midnight + dt.timedelta(minutes=begin), local_start)
            b = min(midnight + dt.timedelta(minutes=finish), local_end)
            if a < b:
                yield (a - offset).replace(tzinfo=dt.UTC), (b - offset).replace(tzinfo=dt.UTC)
        date += dt.timedelta(days=1)


def _without_pauses(spans: Iterable[Span], pauses: Sequence[Span]) -> Iterator[Span]:
    """``spans`` (in order) less the paused spans."""
    ordered = sorted((_utc(a), _utc(b)) for a, b in pauses if _utc(a) < _utc(b))
    for start, end in spans:
        for pause_start, pause_end in ordered:
            if pause_end <= start or pause_start >= end:
                continue
            if pause_start > start:
                yield start, pause_start
            start = max(start, pause_end)
            if start >= end:
                break
        if start < end:
            yield start, end


# --------------------------------------------------------------------------- questions


def add_business_minutes(
    cal: Calendar | None,
    start: dt.datetime,
    minutes: float,
    pauses: Sequence[Span] = (),
) -> dt.datetime:
    """The instant at which ``minutes`` of working time (outside ``pauses``) have passed
    since ``start``. Work that ends exactly at a span's end is due then (Friday 17:00, not
    Monday 9:00)."""
    start = _utc(start)
    left = dt.timedelta(minutes=minutes)
    if left <= dt.timedelta(0):
        return start
    if cal is None and not pauses:  # wall-clock time: plain arithmetic (the common case)
        return start + left
    for span_start, span_end in _without_pauses(working_spans(cal, start, start + HORIZON), pauses):
        length = span_end - span_start
        if left <= length:
            return span_start + left
        left -= length
    raise NoWorkingTime(f"no working time in the calendar within {HORIZON.days} days")


def business_minutes(
    cal: Calendar | None,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Sequence[Span] = (),
) -> float:
    """The working time (outside ``pauses``) between ``start`` and ``end``, in minutes;
    negative when ``end`` comes first."""
    start, end = _utc(start), _utc(end)
    if end < start:
        return -business_minutes(cal, end, start, pauses)
    if cal is None and not pauses:
        return (end - start) / dt.timedelta(minutes=1)
    total = dt.timedelta(0)
    for span_start, span_end in _without_pauses(working_spans(cal, start, end), pauses):
        if span_start >= end:
            break
        total += min(span_end, end) - span_start
    return total / dt.timedelta(minutes=1)


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.UTC)  # storage hands naive UTC on SQLite
    return instant.astimezone(dt.UTC)
