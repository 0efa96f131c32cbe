"""Which SLA alerts (warnings and breaches) are due for a ticket at an instant, and when the
next one falls due. Pure: the sweeper (``bot.tickets.sla_alerts``) records each alert once.

- A *warning* is due once a running clock has passed its warn instant (``warn_minutes``
  business minutes before its due time) and has not yet breached: once the breach is due as
  well, the breach alone is told (a warning after the fact says nothing more).
- A *breach* is due once a running clock is past its due instant, or when a clock stopped
  (met late, or paused) after its due instant: a late first reply still broke the promise,
  though the sweep may only see it after the clock stopped.
- A finished ticket (resolved or closed) is told only of the breaches of its stopped clocks:
  a clock that still runs on it (the response clock of a policy that counts comments only)
  is not chased.

An alert is identified by (clock, kind, due instant): a due time that moves (a priority
change, a pause) is a new promise, with its own warning and breach.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum

from bot.rules import sla
from bot.rules.sla import Clock, Deadline


class AlertKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


# The webhook's X-TinyDesk-Event for each kind.
EVENT_NAMES = {AlertKind.WARNING: "sla.warning", AlertKind.BREACH: "sla.breach"}


# A clock breaches at the first instant after its due time (the stored precision).
FIRST_INSTANT_AFTER = dt.timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True)
class Alert:
    clock: Clock
    kind: AlertKind
    due_at: dt.datetime  # the due time of the promise it is about (part of its identity)


def alerts_due(
    policy: sla.Policy, facts: sla.Facts, now: dt.datetime, *, finished: bool = False
) -> list[Alert]:
    """The alerts due at ``now``, response clock first."""
    stored = sla.deadlines(policy, facts)
    due: list[Alert] = []
    clocks = ((Clock.RESPONSE, stored.response), (Clock.RESOLUTION, stored.resolution))
    for clock, deadline in clocks:
        alert = _due(clock, deadline, now, finished=finished)
        if alert is not None:
            due.append(alert)
    return due


def _due(clock: Clock, deadline: Deadline, now: dt.datetime, *, finished: bool) -> Alert | None:
    if deadline.breached_at is not None:
        return Alert(clock, AlertKind.BREACH, deadline.breached_at)
    if deadline.due_at is None or finished:
        return None
    # Breached once the due instant has passed, as bot.rules.sla.evaluate says.
    if now > deadline.due_at:
        return Alert(clock, AlertKind.BREACH, deadline.due_at)
    if deadline.warn_at is not None and now >= deadline.warn_at:
        return Alert(clock, AlertKind.WARNING, deadline.due_at)
    return None


def next_alert_at(
    policy: sla.Policy, facts: sla.Facts, now: dt.datetime, *, finished: bool = False
) -> dt.datetime | None:
    """When the next alert after those due at ``now`` falls due (None: none will, unless the
    ticket's facts change, and then ``bot.tickets.sla_clock`` sets the instant again)."""
    if finished:
        return None
    stored = sla.deadlines(policy, facts)
    upcoming: list[dt.datetime] = []
    for deadline in (stored.response, stored.resolution):
        if deadline.due_at is None:
            continue
        if deadline.warn_at is not None and deadline.warn_at > now:
            upcoming.append(deadline.warn_at)
        # At the due instant itself the clock has not breached yet: the instant after.
        breaches_at = deadline.due_at + FIRST_INSTANT_AFTER
        if breaches_at > now:
            upcoming.append(breaches_at)
    return min(upcoming) if upcoming else None
