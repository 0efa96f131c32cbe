"""Seed 002's ticket document: the ITSM view of a ticket, field by field
(bot.rules.helpdesk.FIELDS in this order)."""

from __future__ import annotations

from typing import Any

from bot.rules import helpdesk, ids
from bot.views.timefmt import iso_ms
from storage.models import Team, Ticket
from storage.reads.itsm_reads import ItsmTicket


def ticket_doc(ticket: Ticket | ItsmTicket) -> dict[str, Any]:
    """``app_id`` is absent for a ticket no application made, as the seed has it. A
    ``Ticket`` (one ticket, after a change) or an ``ItsmTicket`` (a list's row) alike."""
    doc: dict[str, Any] = {
        "id": ticket.desk_id,
        "tenant_id": ticket.tenant_id,
        "created_at": iso_ms(ticket.created_at),
        "updated_at": iso_ms(ticket.updated_at),
        "created_by": ticket.created_by,
        "updated_by": ticket.updated_by,
        "source": ticket.source,
        "source_type": ticket.source_type,
        "is_deleted": ticket.deleted_at is not None,
        "deleted_at": iso_ms(ticket.deleted_at),
        "deleted_by": ticket.deleted_by,
        "schema_version": ticket.schema_version,
        "number": helpdesk.number(ticket.id),
        "title": ticket.subject,
        "description": ticket.body,
        "type": ticket.type,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "submitted_by_id": ids.person_id(ticket.submitter_email),
        "assigned_to_id": ids.person_id(ticket.assignee),
        "team_id": ticket.team_id,
        "sla_policy": helpdesk.policy_ref(ticket.sla_policy_id),
        "first_response_at": iso_ms(ticket.first_response_at),
        "resolved_at": iso_ms(ticket.resolved_at),
        "due_at": iso_ms(ticket.due_at),
        "related_asset_id": ticket.related_asset_id,
        "related_vulnerability_id": ticket.related_vulnerability_id,
        "tags": [t.tag for t in ticket.tags],
    }
    if ticket.app_id is not None:
        doc["app_id"] = ticket.app_id
    return {field: doc[field] for field in helpdesk.FIELDS if field in doc}


def team_view(team: Team) -> dict[str, Any]:
    return {
        "id": team.desk_id,
        "tenant_id": team.tenant_id,
        "name": team.name,
        "created_at": iso_ms(team.created_at),
    }
