"""Staff roles and what each may do (issue 19), and what an invitation or a change of a staff
account may hold. Pure: the one table every server-side check reads (``allows``).

- ``admin``: everything, staff accounts and settings included;
- ``agent``: tickets, comments, time and templates;
- ``viewer``: reads only.

A staff member's ``products`` scope means what a desk key's does (storage.visibility).
"""

from __future__ import annotations

import enum
import re
from typing import Any

from bot.rules.validation import MAX_EMAIL, FieldErrors, is_email


class Role(enum.StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class Action(enum.StrEnum):
    READ = "read"  # tickets, comments, time, SLA, billing views
    WRITE_TICKETS = "write_tickets"  # create, edit, comment, log time, link issues
    WRITE_TEMPLATES = "write_templates"
    MANAGE = "manage"  # staff accounts, products, keys, SLA policies, billing settings


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.AGENT: frozenset({Action.READ, Action.WRITE_TICKETS, Action.WRITE_TEMPLATES}),
    Role.VIEWER: frozenset({Action.READ}),
}

MAX_DISPLAY_NAME = 100
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes anything; a bound keeps a request's cost bounded
INVITE_DAYS = 7


def allows(role: str, action: Action) -> bool:
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False  # an unknown role may do nothing


def for_method(method: str) -> Action:
    """What an HTTP request on the desk API does: a read, or a ticket write."""
    return Action.READ if method in ("GET", "HEAD", "OPTIONS") else Action.WRITE_TICKETS


def _role(errors: FieldErrors, data: dict[str, Any], default: str | None) -> str | None:
    value = data.get("role", default)
    if not isinstance(value, str) or value not in {r.value for r in Role}:
        errors.add("role", "role must be admin, agent or viewer")
        return None
    return str(value)


def validate_invite(data: dict[str, Any]) -> dict[str, Any]:
    """An admin's invitation: ``email``, ``name`` (shown to submitters), ``role``
    (default agent), ``products`` (slugs; empty: all)."""
    errors = FieldErrors()
    email = errors.required_text(data, "email", max_chars=MAX_EMAIL)
    if email is not None and not is_email(email):
        errors.add("email", "Invalid email address")
    name = errors.required_text(data, "name", max_chars=MAX_DISPLAY_NAME)
    role = _role(errors, data, Role.AGENT.value)
    products = _products(errors, data)
    github = _github_login(errors, data)
    errors.raise_if_any("Send email, name and role (admin, agent or viewer).")
    assert email and name and role
    return {
        "email": email.lower(),
        "display_name": name,
        "role": role,
        "products": products,
        "github_login": github,
    }


GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _github_login(errors: FieldErrors, data: dict[str, Any]) -> str | None:
    """The person's GitHub login, for sign-in with GitHub (linked to their id the first time)."""
    value = data.get("github")
    if value is None:
        return None
    if not isinstance(value, str) or not GITHUB_LOGIN.match(value):
        errors.add("github", "github must be a GitHub login (letters, digits, single dashes)")
        return None
    return value


CHANGEABLE = ("name", "role", "products", "github", "enabled")


def validate_change(data: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    for field in data:
        if field not in CHANGEABLE:
            errors.add(field, f"{field} cannot be changed; changeable: {', '.join(CHANGEABLE)}")
    if "name" in data:
        changes["display_name"] = errors.required_text(data, "name", max_chars=MAX_DISPLAY_NAME)
    if "role" in data:
        changes["role"] = _role(errors, data, None)
    if "products" in data:
        changes["products"] = _products(errors, data)
    if "github" in data:
        # A new login unlinks the old GitHub id: the next GitHub sign-in links the new one.
        changes["github_login"] = _github_login(errors, data)
        changes["github_id"] = None
    if "enabled" in data:
        # true lets a disabled account in again; false disables it (as DELETE does).
        if not isinstance(data["enabled"], bool):
            errors.add("enabled", "enabled must be true or false")
        else:
            changes["enabled"] = data["enabled"]
    if not data:
        errors.add("body", "send name, role or products")
    errors.raise_if_any("Fix the fields listed in `fields`.")
    return changes


def _products(errors: FieldErrors, data: dict[str, Any]) -> list[str]:
    value = data.get("products")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        errors.add("products", "products must be an array of product slugs")
        return []
    return list(dict.fromkeys(p.strip() for p in value))


def password_problem(password: object) -> str | None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long."
    if "\x00" in password:
        return "The password cannot hold a NUL character."
    return None
