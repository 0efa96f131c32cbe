"""Applying a template to an existing ticket (the ticket page's "Apply template"): it fills
only what the ticket leaves empty, as a PATCH would send it, so the desk's own validation
and use case make the change. A ticket's subject, message and priority are never empty;
its type, category and tags may be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The ticket fields a template may fill, as PATCH names them.
FILLABLE = ("type", "category", "tags")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def fill_empty(ticket: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that give the ticket's empty fillable fields the template's values
    (``template``: ``bot.tickets.templates.request_fields``); none when nothing is empty or
    the template has nothing for it."""
    return {
        field: list(template[field]) if field == "tags" else template[field]
        for field in FILLABLE
        if _empty(ticket.get(field)) and not _empty(template.get(field))
    }
