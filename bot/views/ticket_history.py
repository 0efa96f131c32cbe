"""A ticket's history for staff (issue 19, item 3): one chronological list of its stage
changes with their causes (internal ones too: the webhook delivery, the GitHub login, the
pull request), its audit entries (who changed what) and its SLA warnings and breaches. The
desk API's ``GET /desk/tickets/{id}/history`` answers it as JSON; the ticket page draws the
same items. Never for a public view: causes name people and deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.rules.pipeline import STAGE_TITLES, Stage
from bot.views.timefmt import iso_ms
from storage.models import StageTransition, TicketAuditEntry
from storage.reads.sla_events import SlaEventRecord

# At the same instant: the stage change first, then who changed what, then the SLA's word.
_KIND_ORDER = {"stage": 0, "change": 1, "sla": 2}


class _Referenced(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def desk_id(self) -> str: ...


def ticket_ref(ticket: _Referenced) -> dict[str, Any]:
    """A ticket named in an answer: its desk id and publicId, nothing else of it."""
    return {"id": ticket.desk_id, "publicId": ids.public_id(ticket.id)}


def _title(stage: str | None) -> str:
    return STAGE_TITLES[Stage(stage)] if stage else "—"


def cause_text(step: StageTransition) -> str:
    """The internal cause of a stage change, e.g. "pull_request.opened by octocat via
    delivery 72d3…, pull request #12"."""
    parts = [step.cause]
    if step.actor:
        parts.append(f"by {step.actor}")
    if step.delivery_id:
        parts.append(f"via delivery {step.delivery_id}")
    text = " ".join(parts)
    if step.pr_number is not None:
        text += f", pull request #{step.pr_number}"
    if step.deployment_id is not None:
        text += f", deployment {step.deployment_id}"
    if step.reason:
        text += f", closed as {step.reason}"
    return text


def stage_item(step: StageTransition) -> dict[str, Any]:
    return {
        "kind": "stage",
        "at": iso_ms(step.at),
        "from": step.from_stage,
        "to": step.to_stage,
        "description": step.description,
        "cause": step.cause,
        "actor": step.actor,
        "deliveryId": step.delivery_id,
        "pullRequest": step.pr_number,
        "deploymentId": step.deployment_id,
        "closedReason": step.reason,
        "text": f"{_title(step.from_stage)} → {_title(step.to_stage)}: {step.description}",
        "causeText": cause_text(step),
    }


def change_item(entry: TicketAuditEntry) -> dict[str, Any]:
    return {
        "kind": "change",
        "at": iso_ms(entry.at),
        "actor": {"id": entry.actor_id, "name": entry.actor_name},
        "field": entry.field,
        "from": entry.old_value,
        "to": entry.new_value,
        "text": audit_rules.describe(
            audit_rules.Entry(entry.field, entry.old_value, entry.new_value)
        ),
    }


def sla_item(event: SlaEventRecord) -> dict[str, Any]:
    what = "breached" if event.kind == "breach" else "about to breach"
    return {
        "kind": "sla",
        "at": iso_ms(event.at),
        "clock": event.clock,
        "event": event.kind,
        "dueAt": iso_ms(event.due_at),
        "text": f"The {event.clock} target is {what}",
    }


def timeline(
    steps: Sequence[StageTransition],
    entries: Sequence[TicketAuditEntry],
    sla_events: Sequence[SlaEventRecord],
) -> list[dict[str, Any]]:
    """Every item, oldest first (each source is already in its own order, which ties keep)."""
    timed: list[tuple[dt.datetime, int, int, dict[str, Any]]] = []
    for index, step in enumerate(steps):
        timed.append((step.at, _KIND_ORDER["stage"], index, stage_item(step)))
    for index, entry in enumerate(entries):
        timed.append((entry.at, _KIND_ORDER["change"], index, change_item(entry)))
    for index, event in enumerate(sla_events):
        timed.append((event.at, _KIND_ORDER["sla"], index, sla_item(event)))
    timed.sort(key=lambda item: item[:3])
    return [item for *_, item in timed]
