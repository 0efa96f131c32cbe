"""Business-time arithmetic (bot/rules/business_time.py): due times written out by hand for
the cases people get wrong (Friday afternoons, holidays, daylight-saving changes, pauses
across a night), and a property test against a minute-by-minute walk of the calendar."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules import business_time as bt

NINE_TO_FIVE = (((540, 1020),),) * 5 + ((), ())
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local(zone: ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone).astimezone(dt.UTC)


def office(zone: str = "Europe/Berlin", **extra) -> bt.Calendar:
    return bt.calendar(zone, NINE_TO_FIVE, **extra)


# ----------------------------------------------------------------- by hand


def test_a_critical_ticket_at_ten_to_five_on_friday_is_answered_by_monday_0920():
    friday = local(BERLIN, 2026, 12, 4, 16, 50)  # a Friday
    cal = office()
    assert bt.add_business_minutes(cal, friday, 30) == local(BERLIN, 2026, 12, 7, 9, 20)
    # Resolution in 4 business hours: 10 minutes on Friday, 3 h 50 on Monday.
    assert bt.add_business_minutes(cal, friday, 240) == local(BERLIN, 2026, 12, 7, 12, 50)


def test_a_holiday_on_monday_moves_the_due_time_to_tuesday():
    friday = local(BERLIN, 2026, 12, 4, 16, 50)
    cal = office(holidays=[dt.date(2026, 12, 7)])
    assert bt.add_business_minutes(cal, friday, 30) == local(BERLIN, 2026, 12, 8, 9, 20)


def test_a_countrys_public_holidays_count():
    # Easter Monday 2026 is 6 April, a public holiday in Germany: Thursday 2 April 16:00
    # plus 2 business hours is Tuesday 7 April 10:00 (Good Friday is one too).
    thursday = local(BERLIN, 2026, 4, 2, 16, 0)
    cal = office(holiday_country="DE")
    assert bt.add_business_minutes(cal, thursday, 120) == local(BERLIN, 2026, 4, 7, 10, 0)


def test_the_day_berlin_springs_forward_is_still_eight_working_hours():
    # Sunday 29 March 2026, 02:00 CET -> 03:00 CEST. Round the clock in Berlin, 5 business
    # hours from Saturday 23:00 are 5 real hours: Sunday 05:00 CEST (not 04:00).
    every_hour = bt.calendar("Europe/Berlin", (((0, 1440),),) * 7)
    saturday_night = local(BERLIN, 2026, 3, 28, 23, 0)
    assert bt.add_business_minutes(every_hour, saturday_night, 300) == local(
        BERLIN, 2026, 3, 29, 5, 0
    )
    assert local(BERLIN, 2026, 3, 29, 5, 0) - saturday_night == dt.timedelta(hours=5)
    # 9-17 on the Monday after is unaffected; Friday 16:00 + 2 h is Monday 10:00 CEST.
    friday = local(BERLIN, 2026, 3, 27, 16, 0)
    assert bt.add_business_minutes(office(), friday, 120) == local(BERLIN, 2026, 3, 30, 10, 0)
    assert local(BERLIN, 2026, 3, 30, 10, 0).hour == 8  # 10:00 CEST is 08:00 UTC


def test_an_interval_across_the_skipped_hour_is_an_hour_shorter():
    # 01:00-04:00 on the night clocks spring forward holds two real hours.
    night = bt.calendar("Europe/Berlin", (((60, 240),),) * 7)
    start = local(BERLIN, 2026, 3, 29, 0, 0)
    end = local(BERLIN, 2026, 3, 29, 12, 0)
    assert bt.business_minutes(night, start, end) == 120


def test_the_repeated_hour_in_new_york_counts_twice():
    # Sunday 1 November 2026, 02:00 EDT -> 01:00 EST: 00:00-04:00 local is five real hours.
    night = bt.calendar("America/New_York", (((0, 240),),) * 7)
    start = local(NEW_YORK, 2026, 11, 1, 0, 0)
    assert bt.business_minutes(night, start, start + dt.timedelta(hours=12)) == 300
    assert bt.add_business_minutes(night, start, 300) == start + dt.timedelta(hours=5)


def test_new_york_office_hours_follow_local_time_across_the_change():
    # Friday 30 October 2026 16:00 EDT + 2 business hours = Monday 2 November 10:00 EST.
    cal = office("America/New_York")
    friday = local(NEW_YORK, 2026, 10, 30, 16, 0)
    due = bt.add_business_minutes(cal, friday, 120)
    assert due == local(NEW_YORK, 2026, 11, 2, 10, 0)
    assert due.hour == 15  # EST is UTC-5


def test_a_pause_across_the_night_moves_the_due_time_by_the_paused_business_time():
    cal = office()
    created = local(BERLIN, 2026, 12, 1, 15, 0)  # Tuesday
    # Waiting on the submitter from 16:30 Tuesday to 10:15 Wednesday: 30 + 75 business
    # minutes paused, the night in between was no business time anyway.
    pause = (local(BERLIN, 2026, 12, 1, 16, 30), local(BERLIN, 2026, 12, 2, 10, 15))
    unpaused = bt.add_business_minutes(cal, created, 240)
    assert unpaused == local(BERLIN, 2026, 12, 2, 11, 0)
    paused = bt.add_business_minutes(cal, created, 240, [pause])
    assert paused == local(BERLIN, 2026, 12, 2, 12, 45)
    assert bt.business_minutes(cal, created, paused, [pause]) == 240


def test_wall_clock_time_counts_every_minute():
    start = dt.datetime(2026, 12, 4, 16, 50, tzinfo=dt.UTC)
    assert bt.add_business_minutes(None, start, 7 * 24 * 60) == start + dt.timedelta(days=7)
    assert bt.business_minutes(None, start, start + dt.timedelta(hours=2)) == 120


def test_work_that_ends_with_the_day_is_due_at_closing_time():
    start = local(BERLIN, 2026, 12, 4, 16, 0)
    assert bt.add_business_minutes(office(), start, 60) == local(BERLIN, 2026, 12, 4, 17, 0)


def test_time_before_opening_counts_from_opening():
    start = local(BERLIN, 2026, 12, 5, 3, 0)  # Saturday night
    assert bt.add_business_minutes(office(), start, 1) == local(BERLIN, 2026, 12, 7, 9, 1)


def test_overdue_time_is_negative():
    cal = office()
    a, b = local(BERLIN, 2026, 12, 7, 9, 0), local(BERLIN, 2026, 12, 7, 10, 0)
    assert bt.business_minutes(cal, b, a) == -60


def test_a_calendar_without_working_time_in_reach_has_no_due_time():
    cal = bt.Calendar("UTC", ((),) * 7)  # built around the checks on purpose
    with pytest.raises(bt.NoWorkingTime):
        bt.add_business_minutes(cal, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1)


@pytest.mark.parametrize(
    ("zone", "week", "country", "field"),
    [
        ("Mars/Olympus", NINE_TO_FIVE, None, "timeZone"),
        ("UTC", (((600, 540),),) + ((),) * 6, None, "hours.monday"),
        ("UTC", (((540, 700), (600, 800)),) + ((),) * 6, None, "hours.monday"),
        ("UTC", (((0, 1441),),) + ((),) * 6, None, "hours.monday"),
        ("UTC", ((),) * 7, None, "hours"),
        ("UTC", NINE_TO_FIVE[:5], None, "hours"),
        ("UTC", NINE_TO_FIVE, "XX", "holidayCountry"),
    ],
)
def test_unsound_calendars_are_refused_by_field(zone, week, country, field):
    found = bt.problems(zone, week, country)
    assert field in found, found
    with pytest.raises(ValueError):
        bt.calendar(zone, week, holiday_country=country)


# ----------------------------------------------------------------- against a brute-force walk

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute daylight-saving change
    "Asia/Kolkata",
    "Pacific/Chatham",  # a 12:45 offset
    "America/Sao_Paulo",
]
MINUTE = dt.timedelta(minutes=1)


def _working(cal: bt.Calendar, instant: dt.datetime) -> bool:
    wall = instant.astimezone(cal.tz)
    minute_of_day = wall.hour * 60 + wall.minute
    return any(s <= minute_of_day < e for s, e in cal.intervals_on(wall.date()))


def _paused(instant: dt.datetime, pauses) -> bool:
    return any(a <= instant < b for a, b in pauses)


def walk_due(cal, start, minutes, pauses):
    """Minute by minute: the end of the minute in which the count reaches ``minutes``."""
    count, instant = 0, start
    while True:
        if _working(cal, instant) and not _paused(instant, pauses):
            count += 1
            if count == minutes:
                return instant + MINUTE
        instant += MINUTE


def walk_used(cal, start, end, pauses):
    count, instant = 0, start
    while instant < end:
        if _working(cal, instant) and not _paused(instant, pauses):
            count += 1
        instant += MINUTE
    return count


@functools.cache
def _clock_changes(zone: str) -> list[dt.datetime]:
    """The hours of 2026 and 2027 in which the zone's UTC offset changes."""
    tz, hour = ZoneInfo(zone), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    changes = []
    while hour.year < 2028:
        later = hour + dt.timedelta(hours=1)
        if hour.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            changes.append(later)
        hour = later
    return changes


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    week = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        if len(cuts) % 2:
            cuts = cuts[:-1]
        week.append(tuple((cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts), 2)))
    if not any(week):
        week[draw(st.integers(0, 6))] = ((540, 1020),)
    anywhere = st.datetimes(
        min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)
    ).map(lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC))
    # Half the starts fall within two days before one of the zone's clock changes.
    near_a_change = st.tuples(
        st.sampled_from(_clock_changes(zone) or [dt.datetime(2026, 6, 1, tzinfo=dt.UTC)]),
        st.integers(0, 2 * 1440),
    ).map(lambda pair: pair[0] - dt.timedelta(minutes=pair[1]))
    start = draw(st.one_of(anywhere, near_a_change))
    holidays = draw(
        st.sets(st.integers(0, 12).map(lambda n: start.date() + dt.timedelta(days=n)), max_size=3)
    )
    return bt.calendar(zone, week, holidays), start


@st.composite
def pauses_after(draw, start):
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        a = start + dt.timedelta(minutes=draw(st.integers(0, 4 * 1440)))
        spans.append((a, a + dt.timedelta(minutes=draw(st.integers(1, 1440)))))
    return spans


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_due_times_match_a_minute_by_minute_walk(data):
    cal, start = data.draw(calendars())
    pauses = data.draw(pauses_after(start))
    minutes = data.draw(st.integers(1, 1500))
    due = bt.add_business_minutes(cal, start, minutes, pauses)
    assert due == walk_due(cal, start, minutes, pauses)
    assert bt.business_minutes(cal, start, due, pauses) == minutes


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_minutes_used_match_a_minute_by_minute_walk(data):
    cal, start = data.draw(calendars())
    pauses = data.draw(pauses_after(start))
    end = start + dt.timedelta(minutes=data.draw(st.integers(0, 5 * 1440)))
    assert bt.business_minutes(cal, start, end, pauses) == walk_used(cal, start, end, pauses)
