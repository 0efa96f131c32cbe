"""Tolerant readers of webhook payloads: GitHub's shapes vary by event, age and repository
(fields missing, null, or of another type), so every handler reads them through these."""

from __future__ import annotations

from typing import Any

# Re-exported: handlers read every field through this module.
from bot.rules.timestamps import parse_time as parse_time


def sender_login(data: dict[str, Any]) -> str | None:
    sender = data.get("sender")
    return sender.get("login") if isinstance(sender, dict) else None


def repository_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """(owner, name) of the event's repository; payloads differ in which fields they carry."""
    repo = data.get("repository")
    if not isinstance(repo, dict):
        return None
    owner = repo.get("owner")
    owner_login = owner.get("login") or owner.get("name") if isinstance(owner, dict) else None
    name = repo.get("name")
    if owner_login and name:
        return str(owner_login), str(name)
    full_name = repo.get("full_name")
    if isinstance(full_name, str) and full_name.count("/") >= 1:
        owner_login, name = full_name.rsplit("/", 2)[-2:]
        return owner_login, name
    return None


def installation_id_of(data: dict[str, Any]) -> int | None:
    installation = data.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return installation["id"]
    return None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pr_state(pr: dict[str, Any]) -> str:
    """``merged``, ``closed`` or ``open``: a merged PR is also closed, and says so two ways."""
    if pr.get("merged") is True or (pr.get("merged_at") and pr.get("state") == "closed"):
        return "merged"
    return "closed" if str(pr.get("state", "open")).lower() == "closed" else "open"
