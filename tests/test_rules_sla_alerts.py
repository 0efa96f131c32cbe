"""Which SLA alerts are due and when the next one is (bot/rules/sla_alerts.py): warnings and
breaches of running clocks, late stops, finished tickets, and the sweeper's next instant never
skipping an alert (property-tested against a walk over time)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import business_time as bt
from bot.rules import sla
from bot.rules.sla import Clock
from bot.rules.sla_alerts import FIRST_INSTANT_AFTER, Alert, AlertKind, alerts_due, next_alert_at

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = bt.calendar("Europe/Berlin", (((540, 1020),),) * 5 + ((), ()))
WALL = sla.Policy(name="Default")  # seed 003's table, 24x7, warn 30 minutes ahead
LEAD_10 = sla.Policy(name="Ten minutes ahead", warn_minutes=10)


def at(hour: int, minute: int, day: int = 4) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=UTC)


URGENT_1650 = sla.Facts(created_at=at(16, 50), priority="urgent")  # response 17:20, resolve 20:50


def test_nothing_is_due_before_the_warn_instant():
    # Protects: no alert before the lead time (10 minutes before 17:20).
    assert alerts_due(LEAD_10, URGENT_1650, at(17, 9)) == []
    assert next_alert_at(LEAD_10, URGENT_1650, at(17, 9)) == at(17, 10)


def test_a_warning_is_due_from_the_warn_instant_until_the_breach():
    # Protects: the warning names the promise (its due time) it is about.
    warning = Alert(Clock.RESPONSE, AlertKind.WARNING, at(17, 20))
    assert alerts_due(LEAD_10, URGENT_1650, at(17, 10)) == [warning]
    assert alerts_due(LEAD_10, URGENT_1650, at(17, 20)) == [warning]  # due, not yet breached
    assert next_alert_at(LEAD_10, URGENT_1650, at(17, 10)) == at(17, 20) + FIRST_INSTANT_AFTER


def test_a_30_minute_target_with_a_30_minute_lead_warns_at_once():
    # Protects: seed 003's critical response (30 min) under the default 30-minute lead.
    assert alerts_due(WALL, URGENT_1650, at(16, 50)) == [
        Alert(Clock.RESPONSE, AlertKind.WARNING, at(17, 20))
    ]


def test_a_breach_replaces_the_warning_once_the_due_instant_has_passed():
    # Protects: a late sweep tells the breach, not a stale warning.
    later = at(17, 20) + FIRST_INSTANT_AFTER
    assert alerts_due(LEAD_10, URGENT_1650, later) == [
        Alert(Clock.RESPONSE, AlertKind.BREACH, at(17, 20))
    ]
    # Next: the resolution clock's warning, 10 minutes before 20:50.
    assert next_alert_at(LEAD_10, URGENT_1650, later) == at(20, 40)


def test_both_clocks_breached_give_two_breaches_response_first():
    # Protects: each clock's promise is its own event; nothing is due after both broke.
    assert alerts_due(LEAD_10, URGENT_1650, at(21, 0)) == [
        Alert(Clock.RESPONSE, AlertKind.BREACH, at(17, 20)),
        Alert(Clock.RESOLUTION, AlertKind.BREACH, at(20, 50)),
    ]
    assert next_alert_at(LEAD_10, URGENT_1650, at(21, 0)) is None


def test_a_clock_stopped_in_time_is_never_breached():
    # Protects: a reply at 17:05 (before 17:20) leaves no response alert, ever.
    facts = sla.Facts(created_at=at(16, 50), priority="urgent", first_staff_comment_at=at(17, 5))
    assert alerts_due(LEAD_10, facts, at(17, 30)) == []
    assert alerts_due(LEAD_10, facts, at(20, 45)) == [
        Alert(Clock.RESOLUTION, AlertKind.WARNING, at(20, 50))
    ]


def test_a_clock_stopped_late_is_a_breach_though_no_sweep_saw_it_running():
    # Protects: the first reply came at 17:25; the sweep at 17:26 still tells the breach.
    facts = sla.Facts(created_at=at(16, 50), priority="urgent", first_staff_comment_at=at(17, 25))
    assert alerts_due(LEAD_10, facts, at(17, 26)) == [
        Alert(Clock.RESPONSE, AlertKind.BREACH, at(17, 20))
    ]
    assert next_alert_at(LEAD_10, facts, at(17, 26)) == at(20, 40)


def test_a_paused_clock_is_not_warned_and_its_due_time_moves():
    # Protects: pending stops the clocks; after the pause the promise (and its key) is new.
    paused = sla.Facts(created_at=at(16, 50), priority="urgent", paused_since=at(17, 0))
    assert alerts_due(LEAD_10, paused, at(17, 15)) == []
    assert next_alert_at(LEAD_10, paused, at(17, 15)) is None
    resumed = sla.Facts(created_at=at(16, 50), priority="urgent", pauses=((at(17, 0), at(18, 0)),))
    assert alerts_due(LEAD_10, resumed, at(18, 10)) == [
        Alert(Clock.RESPONSE, AlertKind.WARNING, at(18, 20))
    ]


def test_a_finished_ticket_is_told_only_of_late_stops():
    # Protects: a closed ticket whose response clock still runs (comment-only policy) is
    # not chased; a resolution met late is still a breach.
    comment_only = sla.Policy(name="Comments", response_ends=sla.ResponseEnds.COMMENT)
    facts = sla.Facts(
        created_at=at(16, 50),
        priority="urgent",
        first_staff_status_change_at=at(17, 0),
        cycles=(sla.Cycle(at(16, 50), resolved_at=at(21, 0)),),
    )
    assert alerts_due(comment_only, facts, at(22, 0), finished=True) == [
        Alert(Clock.RESOLUTION, AlertKind.BREACH, at(20, 50))
    ]
    assert next_alert_at(comment_only, facts, at(22, 0), finished=True) is None


def test_business_hours_move_the_warning_to_monday():
    # Protects: the lead time is business minutes on the policy's calendar. A critical
    # ticket at 16:50 on a Friday, 9-17 Mon-Fri in Berlin: due Monday 09:20, so with a
    # 10-minute lead the warning falls due Monday 09:10 (Berlin), not Friday night.
    office = sla.Policy(name="Office", calendar=OFFICE, warn_minutes=10)
    created = dt.datetime(2026, 12, 4, 16, 50, tzinfo=BERLIN).astimezone(UTC)
    facts = sla.Facts(created_at=created, priority="urgent")
    saturday = dt.datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    monday_0910 = dt.datetime(2026, 12, 7, 9, 10, tzinfo=BERLIN)
    assert alerts_due(office, facts, saturday) == []
    assert next_alert_at(office, facts, saturday) == monday_0910
    assert alerts_due(office, facts, monday_0910) == [
        Alert(Clock.RESPONSE, AlertKind.WARNING, dt.datetime(2026, 12, 7, 9, 20, tzinfo=BERLIN))
    ]


START = at(9, 0, day=7)
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def tickets(draw):
    created = START + dt.timedelta(minutes=draw(minutes))
    offset = lambda: dt.timedelta(minutes=draw(minutes))  # noqa: E731
    comment = created + offset() if draw(st.booleans()) else None
    pauses: tuple[bt.Span, ...] = ()
    paused_since = None
    if draw(st.booleans()):
        start = created + offset()
        pauses = ((start, start + offset()),)
    if draw(st.booleans()):
        paused_since = created + offset() + (pauses[-1][1] - created if pauses else dt.timedelta())
    resolved = created + offset() if draw(st.booleans()) else None
    if paused_since is not None and resolved is not None:
        resolved = None  # pending tickets are not resolved
    facts = sla.Facts(
        created_at=created,
        priority=draw(st.sampled_from(["urgent", "high", "medium", "low"])),
        first_staff_comment_at=comment,
        pauses=pauses,
        paused_since=paused_since,
        cycles=(sla.Cycle(created, resolved),),
    )
    policy = sla.Policy(
        name="p",
        calendar=draw(st.sampled_from([None, OFFICE])),
        warn_minutes=draw(st.integers(min_value=0, max_value=600)),
    )
    return policy, facts


@settings(max_examples=300, deadline=None)
@given(tickets(), minutes, st.lists(minutes, min_size=1, max_size=20))
def test_nothing_new_falls_due_before_the_next_alert_instant(ticket, start, steps):
    """The sweeper's contract: between ``now`` and ``next_alert_at(now)`` no alert becomes
    due that was not due at ``now``, and at that instant something new is due."""
    policy, facts = ticket
    now = START + dt.timedelta(minutes=start)
    before = set(alerts_due(policy, facts, now))
    following = next_alert_at(policy, facts, now)
    assert following is None or following > now
    for step in steps:
        t = now + dt.timedelta(minutes=step)
        if following is not None and t >= following:
            continue
        assert set(alerts_due(policy, facts, t)) <= before
    if following is not None:
        assert set(alerts_due(policy, facts, following)) - before


@settings(max_examples=300, deadline=None)
@given(tickets(), st.lists(minutes, min_size=1, max_size=30))
def test_sweeping_at_the_stored_instants_tells_each_breach(ticket, offsets):
    """Sweeps at any times, each also at the next instant it asks for, record every breach
    that ``evaluate`` sees at the end, and warnings only of promises not yet broken then."""
    policy, facts = ticket
    told: set[Alert] = set()
    times = sorted(START + dt.timedelta(minutes=m) for m in offsets)
    now = times[0]
    end = times[-1]
    while now <= end:
        told |= set(alerts_due(policy, facts, now))
        following = next_alert_at(policy, facts, now)
        pending = [t for t in times if t > now]
        candidates = [t for t in (following, *pending[:1]) if t is not None]
        if not candidates:
            break
        now = min(candidates)
    response, resolution = sla.evaluate(policy, facts, end)
    for status in (response, resolution):
        breach = Alert(status.clock, AlertKind.BREACH, status.due_at)
        assert (breach in told) == status.breached or (
            # A clock paused after its due time is breached by the stored rule though
            # evaluate counts the pause to now; never the other way round.
            breach in told and facts.paused_since is not None
        )
