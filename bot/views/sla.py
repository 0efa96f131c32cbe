"""The SLA's JSON shapes for staff (the desk API and the admin pages; never the public ones):
a ticket's ``sla`` block, and the entries of the breach and "breaching within" lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.rules import ids, sla
from bot.tickets.sla_clock import Standing
from bot.views.timefmt import iso_ms
from storage.reads.sla_reads import Entry

# Seed 003's words for what a breach broke; the resolution clock is "resolve" there.
TARGET_WORDS = {sla.Clock.RESPONSE: "response", sla.Clock.RESOLUTION: "resolve"}


def minutes(value: float) -> float:
    return round(value, 1)


def clock_view(status: sla.Status) -> dict[str, Any]:
    left = minutes(status.left_minutes)
    return {
        "state": status.state.value,
        "startedAt": iso_ms(status.started_at),
        "dueAt": iso_ms(status.due_at),
        "endedAt": iso_ms(status.ended_at),
        "targetMinutes": status.target_minutes,
        "usedMinutes": minutes(status.used_minutes),
        "leftMinutes": max(left, 0.0),
        "overdueMinutes": max(-left, 0.0),
    }


def ticket_sla(standing: Standing | None) -> dict[str, Any] | None:
    """A ticket's ``sla``: the policy, both clocks as they stand, pauses and earlier cycles
    (None when the policy's calendar has no working time ahead)."""
    if standing is None:
        return None
    resolution = clock_view(standing.resolution)
    resolution["cycle"] = len(standing.earlier_cycles) + 1
    return {
        "policy": standing.policy.name,
        "violated": standing.violated,
        "response": clock_view(standing.response),
        "resolution": resolution,
        "pausedSince": iso_ms(standing.paused_since),
        "pauses": [{"from": iso_ms(a), "until": iso_ms(b)} for a, b in standing.pauses],
        "earlierCycles": [
            {
                "startedAt": iso_ms(c.started_at),
                "endedAt": iso_ms(c.ended_at),
                "dueAt": iso_ms(c.due_at),
                "breached": c.breached,
            }
            for c in standing.earlier_cycles
        ],
    }


def list_entry(
    entry: Entry, standing: Standing, *, until: dt.datetime | None = None
) -> dict[str, Any]:
    """One ticket of the breach list (``violated``: which promise is broken, since when and
    by how many business minutes) or, with ``until``, of the ``dueWithin`` list
    (``atRisk``: which will be by then, and how many business minutes are left)."""
    t = entry.ticket
    clocks = [standing.response, standing.resolution]
    if until is not None:
        chosen = [c for c in clocks if c.state is sla.State.RUNNING and c.due_at <= until]
    else:
        chosen = [c for c in clocks if c.breached]
    chosen.sort(key=lambda c: c.due_at)
    first = chosen[0] if chosen else standing.resolution
    return {
        "id": t.desk_id,
        "publicId": ids.public_id(t.id),
        "subject": t.subject,
        "priority": t.priority,
        "status": t.status,
        "assignee": t.assignee,
        "productSlug": t.product_slug,
        "policy": standing.policy.name,
        "violated": standing.violated if until is None else None,
        "atRisk": _word(chosen) if until is not None else None,
        "dueAt": iso_ms(first.due_at),
        "overdueMinutes": max(minutes(-first.left_minutes), 0.0),
        "leftMinutes": max(minutes(first.left_minutes), 0.0),
        "response": clock_view(standing.response),
        "resolution": clock_view(standing.resolution),
    }


def _word(clocks: list[sla.Status]) -> str | None:
    if len(clocks) == 2:
        return "both"
    return TARGET_WORDS[clocks[0].clock] if clocks else None
