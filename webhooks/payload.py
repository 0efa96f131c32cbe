"""Tolerant readers of webhook payloads: GitHub's shapes vary by event, age and repository
(fields missing, null, or of another type), so every handler reads them through these."""

from __future__ import annotations

from typing import Any

# Re-exported: handlers read every field through this module.
from bot.rules.timestamps import parse_time as parse_time


def sender_login(data: dict[str, Any]) -> str | None:
    sender = data.get("sender")
    return as_text(sender.get("login"), 200) if isinstance(sender, dict) else None


def repository_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """(owner, name) of the event's repository; payloads differ in which fields they carry."""
    repo = data.get("repository")
    if not isinstance(repo, dict):
        return None
    owner = repo.get("owner")
    owner_login = (
        as_text(owner.get("login"), 100) or as_text(owner.get("name"), 100)
        if isinstance(owner, dict)
        else None
    )
    name = as_text(repo.get("name"), 100)
    if owner_login and name:
        return owner_login, name
    full_name = as_text(repo.get("full_name"), 201)
    if full_name is not None and full_name.count("/") >= 1:
        owner_login, name = full_name.rsplit("/", 2)[-2:]
        return (owner_login, name) if owner_login and name else None
    return None


def installation_id_of(data: dict[str, Any]) -> int | None:
    installation = data.get("installation")
    return as_int(installation.get("id")) if isinstance(installation, dict) else None


# The database's integers (BIGINT on PostgreSQL, INTEGER on SQLite) are signed 64-bit; GitHub's
# ids and numbers fit. A number beyond that is no id at all (``python -m fuzz readers``).
INT64 = range(-(2**63), 2**63)


# Issue and pull request numbers are stored as 32-bit INTEGERs (GitHub's are far below).
NUMBERS = range(1, 2**31)


def as_int(value: Any) -> int | None:
    """An integer the database can hold, else None (booleans are not numbers here)."""
    if isinstance(value, int) and not isinstance(value, bool) and value in INT64:
        return value
    return None


def as_number(value: Any) -> int | None:
    """An issue or pull request number (positive, 32-bit), else None."""
    number = as_int(value)
    return number if number is not None and number in NUMBERS else None


def as_text(value: Any, max_length: int) -> str | None:
    """A non-empty string of at most ``max_length`` characters (the column's size) that both
    databases can store (no NUL, no lone surrogate), else None: not what GitHub sends in
    that field (a login, a repository name, a SHA, an environment, an action)."""
    if not isinstance(value, str) or not 0 < len(value) <= max_length or "\x00" in value:
        return None
    try:
        value.encode("utf-8")  # a lone surrogate (from a header's undecodable bytes) fails
    except UnicodeEncodeError:
        return None
    return value


def pr_state(pr: dict[str, Any]) -> str:
    """``merged``, ``closed`` or ``open``: a merged PR is also closed, and says so two ways."""
    if pr.get("merged") is True or (pr.get("merged_at") and pr.get("state") == "closed"):
        return "merged"
    return "closed" if str(pr.get("state", "open")).lower() == "closed" else "open"
