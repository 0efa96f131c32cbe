"""SLA rules (bot/rules/sla.py): seed 003's default table, what ends each clock, pauses,
priority changes, reopened cycles, and the stored deadlines agreeing with the live state."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import business_time as bt
from bot.rules import sla

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = bt.calendar("Europe/Berlin", (((540, 1020),),) * 5 + ((), ()))
OFFICE_POLICY = sla.Policy(name="Office hours", calendar=OFFICE)


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=BERLIN).astimezone(dt.UTC)


def test_the_default_table_is_seed_003s():
    minutes = {
        level: (t.response_minutes, t.resolution_minutes)
        for level, t in sla.DEFAULT_TARGETS.items()
    }
    assert minutes == {
        "critical": (30, 240),
        "high": (120, 480),
        "medium": (480, 2880),
        "low": (1440, 10080),
    }
    assert sla.DEFAULT_POLICY.calendar is None  # 24x7 out of the box


def test_urgent_is_critical_and_critical_is_no_desk_priority():
    assert sla.level_of("urgent") is sla.Level.CRITICAL
    with pytest.raises(KeyError):
        sla.level_of("critical")


def test_a_critical_ticket_on_friday_afternoon_is_due_on_monday_morning():
    facts = sla.Facts(created_at=local(2026, 12, 4, 16, 50), priority="urgent")
    response, resolution = sla.evaluate(OFFICE_POLICY, facts, local(2026, 12, 5, 12, 0))
    assert response.due_at == local(2026, 12, 7, 9, 20)
    assert resolution.due_at == local(2026, 12, 7, 12, 50)
    assert response.state is sla.State.RUNNING and response.used_minutes == 10
    assert response.left_minutes == 20


def test_the_first_public_staff_comment_ends_the_response_clock():
    created = local(2026, 12, 7, 9, 0)
    facts = sla.Facts(
        created_at=created, priority="high", first_staff_comment_at=local(2026, 12, 7, 10, 0)
    )
    response, _ = sla.evaluate(OFFICE_POLICY, facts, local(2026, 12, 8, 9, 0))
    assert response.state is sla.State.MET and response.used_minutes == 60


def test_a_status_change_counts_unless_the_policy_says_comments_only():
    facts = sla.Facts(
        created_at=local(2026, 12, 7, 9, 0),
        priority="urgent",
        first_staff_status_change_at=local(2026, 12, 7, 9, 10),
        first_staff_comment_at=local(2026, 12, 7, 11, 0),
    )
    now = local(2026, 12, 7, 12, 0)
    either, _ = sla.evaluate(OFFICE_POLICY, facts, now)
    assert either.state is sla.State.MET and either.ended_at == local(2026, 12, 7, 9, 10)
    comments_only = sla.Policy(
        name="Comments", calendar=OFFICE, response_ends=sla.ResponseEnds.COMMENT
    )
    strict, _ = sla.evaluate(comments_only, facts, now)
    assert strict.state is sla.State.BREACHED and strict.left_minutes == -90
    assert sla.violated(strict, either) == "response"


def test_an_unanswered_ticket_past_its_due_time_is_breached_by_the_overdue_minutes():
    facts = sla.Facts(created_at=local(2026, 12, 7, 9, 0), priority="urgent")
    response, resolution = sla.evaluate(OFFICE_POLICY, facts, local(2026, 12, 7, 14, 0))
    assert response.state is sla.State.BREACHED and response.left_minutes == -270
    assert resolution.state is sla.State.BREACHED and resolution.left_minutes == -60
    assert sla.violated(response, resolution) == "both"


def test_a_pending_ticket_stops_both_clocks_and_shifts_its_due_times():
    created = local(2026, 12, 1, 15, 0)
    paused_since = local(2026, 12, 1, 16, 30)
    facts = sla.Facts(created_at=created, priority="medium", paused_since=paused_since)
    now = local(2026, 12, 2, 10, 15)
    _, resolution = sla.evaluate(OFFICE_POLICY, facts, now)
    assert resolution.state is sla.State.PAUSED
    assert resolution.used_minutes == 90  # 15:00-16:30; the clock stopped there
    # Work resuming now: 48 business hours minus the 90 minutes used, from 10:15.
    assert resolution.due_at == bt.add_business_minutes(OFFICE, now, 48 * 60 - 90)
    # Stored deadlines: none while paused (a stopped clock cannot breach).
    stored = sla.deadlines(OFFICE_POLICY, facts)
    assert stored.resolution == sla.Deadline() and stored.response == sla.Deadline()
    resumed = sla.Facts(created_at=created, priority="medium", pauses=[(paused_since, now)])
    after = sla.deadlines(OFFICE_POLICY, resumed)
    assert after.resolution.due_at == resolution.due_at


def test_a_breach_before_the_pause_stays_a_breach():
    created = local(2026, 12, 7, 9, 0)
    facts = sla.Facts(created_at=created, priority="urgent", paused_since=local(2026, 12, 7, 10, 0))
    response, _ = sla.evaluate(OFFICE_POLICY, facts, local(2026, 12, 8, 10, 0))
    assert response.state is sla.State.BREACHED
    assert response.due_at == local(2026, 12, 7, 9, 30) and response.left_minutes == -30
    stored = sla.deadlines(OFFICE_POLICY, facts).response
    assert stored == sla.Deadline(breached_at=local(2026, 12, 7, 9, 30))


def test_a_clock_paused_at_its_due_instant_exactly_is_paused_not_breached():
    """Not late yet when it stopped: late only if work resumes (evaluate and the stored
    deadlines agree; Hypothesis found them apart)."""
    created = local(2026, 12, 7, 9, 0)
    facts = sla.Facts(created_at=created, priority="urgent", paused_since=local(2026, 12, 7, 9, 30))
    response, _ = sla.evaluate(OFFICE_POLICY, facts, local(2026, 12, 7, 11, 0))
    assert response.state is sla.State.PAUSED
    assert sla.deadlines(OFFICE_POLICY, facts).response == sla.Deadline()


def test_a_priority_change_recomputes_from_creation():
    created = local(2026, 12, 7, 9, 0)
    low = sla.deadlines(OFFICE_POLICY, sla.Facts(created_at=created, priority="low"))
    high = sla.deadlines(OFFICE_POLICY, sla.Facts(created_at=created, priority="high"))
    # 24 business hours: three working days, due at Wednesday's closing time.
    assert low.response.due_at == local(2026, 12, 9, 17, 0)
    assert high.response.due_at == local(2026, 12, 7, 11, 0)


def test_a_reopen_starts_a_new_resolution_cycle_and_keeps_the_first():
    created = local(2026, 12, 7, 9, 0)
    facts = sla.Facts(
        created_at=created,
        priority="urgent",
        first_staff_comment_at=local(2026, 12, 7, 9, 5),
        cycles=[
            sla.Cycle(created, resolved_at=local(2026, 12, 7, 12, 0)),
            sla.Cycle(local(2026, 12, 8, 9, 0)),
        ],
    )
    now = local(2026, 12, 8, 14, 0)
    response, resolution = sla.evaluate(OFFICE_POLICY, facts, now)
    assert response.state is sla.State.MET
    assert resolution.started_at == local(2026, 12, 8, 9, 0)
    assert resolution.due_at == local(2026, 12, 8, 13, 0)
    assert resolution.state is sla.State.BREACHED
    first, second = sla.cycle_history(OFFICE_POLICY, facts, now)
    assert first.state is sla.State.MET and first.used_minutes == 180
    assert second == resolution


def test_the_warning_comes_the_policys_lead_time_before_the_due_time():
    facts = sla.Facts(created_at=local(2026, 12, 7, 9, 0), priority="high")
    stored = sla.deadlines(OFFICE_POLICY, facts).response
    assert stored.warn_at == local(2026, 12, 7, 10, 30)
    assert stored.due_at == local(2026, 12, 7, 11, 0)


def _maybe_after(draw, start: dt.datetime) -> dt.datetime | None:
    if draw(st.booleans()):
        return None
    return start + dt.timedelta(minutes=draw(st.integers(0, 6000)))


@st.composite
def tickets(draw):
    """A ticket's SLA facts and a moment after all of them."""
    created = dt.datetime(2026, 12, 1, tzinfo=dt.UTC) + dt.timedelta(
        minutes=draw(st.integers(0, 14 * 1440))
    )
    pauses, at = [], created
    for _ in range(draw(st.integers(0, 3))):
        start = at + dt.timedelta(minutes=draw(st.integers(1, 2000)))
        at = start + dt.timedelta(minutes=draw(st.integers(1, 2000)))
        pauses.append((start, at))
    paused_since = _maybe_after(draw, at)
    comment = _maybe_after(draw, created)
    status_change = _maybe_after(draw, created)
    cycles = [sla.Cycle(created, _maybe_after(draw, created))]
    if cycles[0].resolved_at is not None and draw(st.booleans()):
        reopened = cycles[0].resolved_at + dt.timedelta(minutes=draw(st.integers(1, 3000)))
        cycles.append(sla.Cycle(reopened, _maybe_after(draw, reopened)))
    facts = sla.Facts(
        created_at=created,
        priority=draw(st.sampled_from(sorted(sla.LEVEL_OF_PRIORITY))),
        first_staff_comment_at=comment,
        first_staff_status_change_at=status_change,
        pauses=pauses,
        paused_since=paused_since,
        cycles=cycles,
    )
    known = [t for t in (paused_since, comment, status_change, at) if t is not None]
    known += [t for c in cycles for t in (c.started_at, c.resolved_at) if t is not None]
    return facts, max(known)


def _listed_as_breached(stored: sla.Deadline, now: dt.datetime) -> bool:
    """What the breach list's query asks of one clock."""
    return stored.breached_at is not None or (stored.due_at is not None and stored.due_at < now)


def _listed_as_due_soon(stored: sla.Deadline, now: dt.datetime, lead: int) -> bool:
    return stored.due_at is not None and now <= stored.due_at <= now + dt.timedelta(minutes=lead)


POLICIES = [
    sla.DEFAULT_POLICY,
    OFFICE_POLICY,
    sla.Policy(name="Comments", calendar=OFFICE, response_ends=sla.ResponseEnds.COMMENT),
]


@settings(max_examples=300, deadline=None)
@given(ticket=tickets(), after=st.integers(0, 20_000), policy=st.sampled_from(POLICIES))
def test_the_stored_deadlines_say_what_evaluate_says(ticket, after, policy):
    """A breach list that compares stored times with now lists exactly the clocks that
    ``evaluate`` calls breached; the warning list those running within the lead time."""
    facts, latest = ticket
    now = latest + dt.timedelta(minutes=after)
    statuses = sla.evaluate(policy, facts, now)
    stored = sla.deadlines(policy, facts)
    for status, deadline in zip(statuses, (stored.response, stored.resolution), strict=True):
        assert _listed_as_breached(deadline, now) == status.breached, (status, deadline)
        stopped = status.ended_at is not None or facts.paused_since is not None
        if stopped:
            assert deadline.due_at is None and deadline.warn_at is None
            continue
        assert deadline.due_at == status.due_at
        if not status.breached:
            soon = status.due_at - now <= dt.timedelta(hours=1)
            assert _listed_as_due_soon(deadline, now, 60) == soon
        assert (now >= deadline.warn_at) == (status.left_minutes <= policy.warn_minutes)
