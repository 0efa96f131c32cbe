"""The desk API's JSON shapes (seed 001, plus publicId, the stage and seed 002's ITSM fields),
from an ORM ticket or from the plain-SQL records of storage.reads.desk_reads alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.rules import ids
from bot.rules.desk_input import PRIORITIES
from bot.rules.desk_status import DESK_STATUSES
from bot.tickets.sla_clock import Standing
from bot.views import sla as sla_views
from bot.views.timefmt import iso_ms
from storage.models import Comment, Ticket
from storage.reads import desk_reads, sla_stats
from storage.reads.attachment_reads import AttachmentRecord
from storage.reads.sla_events import SlaEventRecord
from storage.reads.time_reads import TicketTime


def comment_view(comment: Comment | desk_reads.DeskComment) -> dict[str, Any]:
    return {
        "id": comment.desk_id,
        "body": comment.body,
        "internal": comment.internal,
        "author": comment.author,
        "createdAt": iso_ms(comment.created_at),
    }


def attachment_view(attachment: AttachmentRecord) -> dict[str, Any]:
    """A file that came with the ticket (by mail); its bytes: GET …/attachments/{id}."""
    return {
        "id": attachment.desk_id,
        "filename": attachment.filename,
        "contentType": attachment.content_type,
        "size": attachment.size,
        "createdAt": iso_ms(attachment.created_at),
    }


def ticket_summary(ticket: Ticket | desk_reads.TicketSummary) -> dict[str, Any]:
    """A ticket in the list: seed 001's list fields plus ``publicId``."""
    return {
        "id": ticket.desk_id,
        "publicId": ids.public_id(ticket.id),
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "email": ticket.submitter_email,
        "tags": [t.tag for t in ticket.tags],
        "assignee": ticket.assignee,
        "createdAt": iso_ms(ticket.created_at),
    }


def ticket_view(
    ticket: Ticket | desk_reads.DeskTicket,
    comments: Sequence[Comment | desk_reads.DeskComment] | None = None,
    standing: Standing | None = None,
    sla_events: Sequence[SlaEventRecord] | None = None,
    time: TicketTime | None = None,
    attachments: Sequence[AttachmentRecord] | None = None,
) -> dict[str, Any]:
    """The staff view: seed 001's fields, ``publicId``, the pipeline stage, seed 002's ITSM
    fields under their own snake_case names (``sla_policy`` and the due times from the SLA
    ``standing``, with the ``sla`` block: bot.views.sla); ``comments`` (notes included) and
    ``slaEvents`` (the SLA warnings and breaches told) and ``time`` (the minutes logged, billable
    and not) if given."""
    view: dict[str, Any] = {
        "id": ticket.desk_id,
        "publicId": ids.public_id(ticket.id),
        "subject": ticket.subject,
        "body": ticket.body,
        "priority": ticket.priority,
        "status": ticket.status,
        "email": ticket.submitter_email,
        "tags": [t.tag for t in ticket.tags],
        "assignee": ticket.assignee,
        "createdAt": iso_ms(ticket.created_at),
        "updatedAt": iso_ms(ticket.updated_at),
        "productSlug": ticket.product.slug if ticket.product else None,
        "stage": ticket.stage,
        "type": ticket.type,
        "category": ticket.category,
        "source_type": ticket.source_type,
        "first_response_at": iso_ms(ticket.first_response_at),
        "resolved_at": iso_ms(ticket.resolved_at),
        "due_at": iso_ms(ticket.due_at),
        "created_by": ticket.created_by,
        "updated_by": ticket.updated_by,
        "is_test": ticket.is_test,
    }
    if standing is not None:
        view["sla_policy"] = standing.policy.name
        view["first_response_due_at"] = iso_ms(standing.response.due_at)
        view["due_at"] = iso_ms(standing.resolution.due_at)
    else:
        view["sla_policy"] = None
        view["first_response_due_at"] = None
    view["sla"] = sla_views.ticket_sla(standing)
    if comments is not None:
        view["comments"] = [comment_view(c) for c in comments]
    if attachments is not None:
        view["attachments"] = [attachment_view(a) for a in attachments]
    if sla_events is not None:
        view["slaEvents"] = [sla_event_view(e) for e in sla_events]
    if time is not None:
        view["time"] = {
            "entries": time.entries,
            "minutes": time.minutes,
            "billableMinutes": time.billable_minutes,
            "nonBillableMinutes": time.non_billable_minutes,
        }
    return view


def sla_event_view(event: SlaEventRecord) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "clock": event.clock,
        "dueAt": iso_ms(event.due_at),
        "at": iso_ms(event.at),
    }


def stats_view(
    by_status: dict[str, int], avg_seconds: float | None, figures: sla_stats.SlaStats
) -> dict[str, Any]:
    """Seed 001's stats, unchanged, beside the SLA figures and the business-hours mean."""
    counts = {status: by_status.get(status, 0) for status in DESK_STATUSES}
    hours = round(avg_seconds / 3600, 1) if avg_seconds is not None else 0
    business = figures.avg_resolution_business_minutes
    return {
        "byStatus": counts,
        "avgResolutionTimeHours": hours,
        "totalTickets": sum(counts.values()),
        "avgResolutionBusinessHours": round(business / 60, 1) if business is not None else 0,
        "sla": sla_view(figures),
    }


def sla_view(figures: sla_stats.SlaStats) -> dict[str, Any]:
    """Per target, and per priority and target: met, breached (decided, or running and
    overdue now) and the percentage met (null when none is decided or overdue); the tickets
    overdue now, and those at risk (a running clock due within the next hour)."""

    def target(pairs: list[sla_stats.ClockFigures]) -> dict[str, Any]:
        met, breached = sum(f.met for f in pairs), sum(f.breached for f in pairs)
        decided = met + breached
        return {
            "met": met,
            "breached": breached,
            "percentMet": round(met / decided * 100, 1) if decided else None,
        }

    def of(clock: str, priority: str | None = None) -> dict[str, Any]:
        return target(
            [
                found
                for (p, c), found in figures.clocks.items()
                if c == clock and priority in (None, p)
            ]
        )

    return {
        **{clock: of(clock) for clock in sla_stats.CLOCKS},
        "byPriority": {
            priority: {clock: of(clock, priority) for clock in sla_stats.CLOCKS}
            for priority in PRIORITIES
        },
        "breached": figures.overdue_tickets,
        "atRisk": figures.at_risk_tickets,
    }
