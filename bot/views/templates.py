"""How the desk API, the admin API and the CLI show a ticket template (camelCase, as the
desk API's other fields)."""

from __future__ import annotations

from typing import Any

from bot.views.timefmt import iso_ms
from storage.models import TicketTemplate


def template_view(template: TicketTemplate) -> dict[str, Any]:
    return {
        "id": template.desk_id,
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "priority": template.priority,
        "type": template.type,
        "category": template.category,
        "tags": list(template.tags),
        "productSlug": template.product.slug if template.product else None,
        "createdAt": iso_ms(template.created_at),
        "updatedAt": iso_ms(template.updated_at),
        "createdBy": template.created_by,
        "updatedBy": template.updated_by,
    }
