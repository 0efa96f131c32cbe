"""The desk status (open, pending, resolved, closed) that follows a ticket's pipeline stage."""

from __future__ import annotations


def status_for_stage_change(current_status: str, new_stage: str) -> str:
    """DEPLOYED resolves, CLOSED closes, a move back reopens; otherwise staff's status stays."""
    if new_stage == "CLOSED":
        return "closed"
    if new_stage == "DEPLOYED":
        return "resolved"
    if current_status in ("resolved", "closed"):
        return "open"
    return current_status
