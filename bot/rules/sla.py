"""SLA rules: which promise governs a ticket, when each clock ends, and how it stands.

Seed 003's words: a policy sets a *response* and a *resolution* target per priority; the
response clock runs from creation to the first non-internal staff comment (or, if the
policy says so, the first status change by staff); the resolution clock runs until the
ticket is marked resolved. TinyDesk adds what the anchors lack: business hours
(``bot.rules.business_time``), pauses while a ticket is pending, and cycles (a reopened
ticket starts a new resolution clock; the earlier cycles stay in the history).

The seeds' levels: seed 003's ``critical`` is seed 001's ``urgent`` (one level); the desk
API keeps ``urgent``.

Pure: ``evaluate`` takes a ticket's SLA facts and the time, and says per target its due
time, state (``running``, ``paused``, ``met``, ``breached``), business minutes used and
minutes left (negative: overdue). ``deadlines`` says which instants to store so that the
breach and warning lists are plain indexed range queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from enum import StrEnum

from bot.rules import business_time
from bot.rules.business_time import Calendar, Span


class Level(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Seed 001's desk priorities and seed 003's levels: only the top one is named differently.
LEVEL_OF_PRIORITY = {
    "urgent": Level.CRITICAL,
    "high": Level.HIGH,
    "medium": Level.MEDIUM,
    "low": Level.LOW,
}
LEVEL_LABELS = {
    Level.CRITICAL: "Critical (urgent)",
    Level.HIGH: "High",
    Level.MEDIUM: "Medium",
    Level.LOW: "Low",
}


def level_of(priority: str) -> Level:
    """The SLA level of a desk priority (``urgent`` is ``critical``)."""
    return LEVEL_OF_PRIORITY[priority]


@dataclasses.dataclass(frozen=True)
class Target:
    response_minutes: int
    resolution_minutes: int


# Seed 003's "Default SLA Times", exactly.
DEFAULT_TARGETS: Mapping[Level, Target] = {
    Level.CRITICAL: Target(response_minutes=30, resolution_minutes=4 * 60),
    Level.HIGH: Target(response_minutes=2 * 60, resolution_minutes=8 * 60),
    Level.MEDIUM: Target(response_minutes=8 * 60, resolution_minutes=48 * 60),
    Level.LOW: Target(response_minutes=24 * 60, resolution_minutes=7 * 24 * 60),
}


class ResponseEnds(StrEnum):
    """What ends the response clock (seed 003: "the first non-internal comment or status
    change"); a policy may count staff comments only."""

    COMMENT = "comment"
    COMMENT_OR_STATUS = "comment_or_status"


class Clock(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class State(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@dataclasses.dataclass(frozen=True)
class Policy:
    name: str
    targets: Mapping[Level, Target] = dataclasses.field(default_factory=lambda: DEFAULT_TARGETS)
    calendar: Calendar | None = None  # None: wall-clock time, 24x7
    response_ends: ResponseEnds = ResponseEnds.COMMENT_OR_STATUS
    # How long before a breach TinyDesk warns (business minutes).
    warn_minutes: int = 30


DEFAULT_POLICY = Policy(name="Default")


@dataclasses.dataclass(frozen=True)
class Cycle:
    """One run of the resolution clock: from creation (or a reopen) to resolved."""

    started_at: dt.datetime
    resolved_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the SLA of one ticket depends on, all in UTC."""

    created_at: dt.datetime
    priority: str  # the desk's word (urgent, high, medium, low)
    first_staff_comment_at: dt.datetime | None = None  # non-internal comments only
    first_staff_status_change_at: dt.datetime | None = None
    pauses: Sequence[Span] = ()  # closed pending intervals
    paused_since: dt.datetime | None = None  # pending now, since then
    cycles: Sequence[Cycle] = ()  # empty: one cycle from creation, not resolved

    def resolution_cycles(self) -> Sequence[Cycle]:
        return self.cycles or (Cycle(self.created_at),)


@dataclasses.dataclass(frozen=True)
class Status:
    clock: Clock
    state: State
    started_at: dt.datetime
    # When the target falls due: for a paused clock, if work resumed now.
    due_at: dt.datetime
    ended_at: dt.datetime | None
    target_minutes: int
    used_minutes: float  # business minutes, pauses left out
    left_minutes: float  # negative: overdue by that much

    @property
    def breached(self) -> bool:
        return self.state is State.BREACHED


@dataclasses.dataclass(frozen=True)
class Deadline:
    """What is stored of one clock so that the breach and warning lists are plain indexed
    range queries: a running clock's ``due_at`` (breached once it has passed) and
    ``warn_at``; a stopped clock (ended, or paused) has neither, since it cannot breach
    while stopped, and keeps ``breached_at`` (its due time) if it broke its promise."""

    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class Deadlines:
    response: Deadline
    resolution: Deadline


def response_ended_at(policy: Policy, facts: Facts) -> dt.datetime | None:
    candidates = [facts.first_staff_comment_at]
    if policy.response_ends is ResponseEnds.COMMENT_OR_STATUS:
        candidates.append(facts.first_staff_status_change_at)
    known = [c for c in candidates if c is not None]
    return min(known) if known else None


def evaluate(policy: Policy, facts: Facts, now: dt.datetime) -> tuple[Status, Status]:
    """(response, resolution) as they stand at ``now``; the resolution status is the
    current cycle's."""
    target = policy.targets[level_of(facts.priority)]
    response = _clock(
        policy,
        facts,
        Clock.RESPONSE,
        facts.created_at,
        response_ended_at(policy, facts),
        target.response_minutes,
        now,
    )
    cycle = facts.resolution_cycles()[-1]
    resolution = _clock(
        policy,
        facts,
        Clock.RESOLUTION,
        cycle.started_at,
        cycle.resolved_at,
        target.resolution_minutes,
        now,
    )
    return response, resolution


def cycle_history(policy: Policy, facts: Facts, now: dt.datetime) -> list[Status]:
    """Every resolution cycle's status, earliest first (a reopen keeps the earlier one)."""
    target = policy.targets[level_of(facts.priority)].resolution_minutes
    return [
        _clock(policy, facts, Clock.RESOLUTION, c.started_at, c.resolved_at, target, now)
        for c in facts.resolution_cycles()
    ]


def _clock(
    policy: Policy,
    facts: Facts,
    clock: Clock,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    minutes: int,
    now: dt.datetime,
) -> Status:
    cal = policy.calendar
    until = ended_at if ended_at is not None else now
    paused_now = ended_at is None and facts.paused_since is not None
    pauses = list(facts.pauses)
    if paused_now:
        assert facts.paused_since is not None
        pauses.append((facts.paused_since, max(now, facts.paused_since)))
    used = max(0.0, business_time.business_minutes(cal, started_at, until, pauses))
    # While paused, the pause is counted up to now: the due time if work resumed now (or,
    # if the clock ran out before the pause began, the real instant it did).
    due = business_time.add_business_minutes(cal, started_at, minutes, pauses)
    left = minutes - used
    # Breached once the due instant has passed (17:01 after a 17:00 due time, though no
    # business minute has passed since: overdue by 0 minutes until the next opening). A
    # paused clock stands where it stopped: paused at its due instant exactly, it is late
    # only if work resumes (as ``deadlines`` stores it).
    stood_at = facts.paused_since if paused_now else until
    assert stood_at is not None
    if stood_at > due:
        state = State.BREACHED
    elif ended_at is not None:
        state = State.MET
    elif paused_now:
        state = State.PAUSED
    else:
        state = State.RUNNING
    return Status(
        clock=clock,
        state=state,
        started_at=started_at,
        due_at=due,
        ended_at=ended_at,
        target_minutes=minutes,
        used_minutes=used,
        left_minutes=left,
    )


def deadlines(policy: Policy, facts: Facts) -> Deadlines:
    """What to store on the ticket, recomputed whenever its facts change (a comment, a
    status change, a pause, a priority or policy change, a reopen): no time passing alone
    changes it."""
    target = policy.targets[level_of(facts.priority)]
    cycle = facts.resolution_cycles()[-1]
    return Deadlines(
        response=_deadline(
            policy,
            facts,
            facts.created_at,
            response_ended_at(policy, facts),
            target.response_minutes,
        ),
        resolution=_deadline(
            policy, facts, cycle.started_at, cycle.resolved_at, target.resolution_minutes
        ),
    )


def _deadline(
    policy: Policy,
    facts: Facts,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    minutes: int,
) -> Deadline:
    cal = policy.calendar
    due = business_time.add_business_minutes(cal, started_at, minutes, facts.pauses)
    stopped_at = ended_at if ended_at is not None else facts.paused_since
    if stopped_at is not None:
        return Deadline(breached_at=due if stopped_at > due else None)
    lead = max(0, minutes - policy.warn_minutes)
    warn = business_time.add_business_minutes(cal, started_at, lead, facts.pauses)
    return Deadline(due_at=due, warn_at=warn)


def violated(response: Status, resolution: Status) -> str | None:
    """Seed 003's word for what a breach broke: ``response``, ``resolve`` or ``both``."""
    if response.breached and resolution.breached:
        return "both"
    if response.breached:
        return "response"
    if resolution.breached:
        return "resolve"
    return None
