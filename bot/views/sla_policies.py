"""How the admin API, the desk API and the CLI show SLA policies: the stored document
(``bot.rules.sla_policy``, camelCase) with its id, whether it is the default, and (for
admins) the products it governs. Every level is shown, seed 003's default filling a level
the stored targets leave out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.rules.sla import LEVEL_LABELS, Level
from bot.rules.sla_policy import default_targets_doc
from bot.views.timefmt import iso_ms
from storage.models import SlaPolicy


def targets_of(row: SlaPolicy) -> dict[str, dict[str, int]]:
    """Response and resolution minutes of every level, critical first."""
    targets = default_targets_doc()
    for level, target in (row.targets or {}).items():
        targets[Level.CRITICAL.value if level == "urgent" else level] = {
            "response": int(target["response"]),
            "resolution": int(target["resolution"]),
        }
    return {level.value: targets[level.value] for level in Level}


def policy_view(row: SlaPolicy, products: Sequence[str] | None = None) -> dict[str, Any]:
    """The policy; ``products`` (admins only): the slugs of the products it governs."""
    view: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "default": row.is_default,
        "targets": targets_of(row),
        "calendar": row.calendar,
        "responseEnds": row.response_ends,
        "warnMinutes": row.warn_minutes,
        "createdAt": iso_ms(row.created_at),
        "updatedAt": iso_ms(row.updated_at),
    }
    if products is not None:
        view["products"] = list(products)
    return view


def minutes_text(minutes: int) -> str:
    """As seed 003's table says them: ``30 min``, ``2 h``, ``48 h``, ``7 days``, ``1 h 30 min``
    (whole days from a week up)."""
    if minutes >= 7 * 24 * 60 and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} days"
    hours, mins = divmod(minutes, 60)
    return " ".join(([f"{hours} h"] if hours else []) + ([f"{mins} min"] if mins else []))


def level_label(level: str) -> str:
    """``Critical (urgent)``, ``High``, ...: seed 003's level with seed 001's word beside it."""
    return LEVEL_LABELS[Level(level)]
