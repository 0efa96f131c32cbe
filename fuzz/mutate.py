"""Structure-aware mutations of JSON payloads, driven by a seeded ``random.Random``.

A mutation picks a few places in the payload and replaces, removes or reshapes what is
there with what GitHub's shapes (or an attacker) might put: the other JSON types, null,
integers beyond 64 bits, deep nesting, odd Unicode (lone surrogates, NUL, bidi marks,
combining characters), closing keywords with absurd numbers, dates that are not dates,
and pieces of other payloads (splicing).
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

EVENTS = (
    "issues",
    "pull_request",
    "pull_request_review",
    "deployment_status",
    "installation",
    "installation_repositories",
    "ping",
    "issue_comment",
    "push",
)
ACTIONS = (
    "opened",
    "closed",
    "reopened",
    "assigned",
    "unassigned",
    "labeled",
    "edited",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
    "submitted",
    "dismissed",
    "created",
    "deleted",
    "suspend",
    "unsuspend",
    "new_permissions_accepted",
    "added",
    "removed",
)
INTS = (
    0,
    -1,
    1,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
    -(10**30),
)
STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udbcby",
    "\udc00\ud800",
    "e\u0301",
    "\u202eevil\u202c",
    "\ufeff",
    "\U0001f389",
    "\u0000\u0001\u001f",
    "Fixes #99999999999999999999",
    "closes octo-org/fuzzed-app#18446744073709551616",
    "fixes #9223372036854775808 and fixes #1",
    "Resolves #0, fixes #-1, closes #1e9",
    "fixes https://github.com/octo-org/fuzzed-app/issues/9223372036854775807",
    "2026-13-45T99:99:99Z",
    "not a date",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "+275760-09-13T00:00:00Z",
    "2026-01-01T00:00:00+99:00",
    "1e400",
    "9" * 400,
    "production",
    "PRODUCTION",
    "success",
    "merged",
    "closed",
    "open",
    "completed",
    "not_planned",
    "approved",
    "CHANGES_REQUESTED",
    "octo-org/fuzzed-app",
    "/",
    "a/b/c",
    "Fixing",
    "<!-- tinydesk:ticket 1 -->",
    "<!-- tinydesk:ticket 99999999999999999999999 -->",
)
# What PostgreSQL, UTF-8 or a regex may choke on inside an otherwise good value.
ODD_CHARACTERS = ("\x00", "\ud800", "\udfff", "\u202e", "\u0301", "\ufeff", "\n", "#", "/")
SCALARS = (None, True, False, 0.5, -0.0, 1e308, *INTS, *STRINGS)
# The fields the readers and handlers look at (webhooks/*.py): a third of the mutations aim
# here, the rest anywhere (a random place is mostly a URL no one reads).
FOCUS = (
    ("action",),
    ("sender", "login"),
    ("installation",),
    ("installation", "id"),
    ("repository",),
    ("repository", "name"),
    ("repository", "full_name"),
    ("repository", "owner", "login"),
    ("repositories", 0, "full_name"),
    ("repositories_added", 0, "full_name"),
    ("repositories_removed", 0, "full_name"),
    ("issue",),
    ("issue", "number"),
    ("issue", "body"),
    ("issue", "state"),
    ("issue", "state_reason"),
    ("issue", "assignees"),
    ("issue", "assignee"),
    ("issue", "pull_request"),
    ("issue", "created_at"),
    ("issue", "updated_at"),
    ("issue", "closed_at"),
    ("label",),
    ("label", "name"),
    ("pull_request",),
    ("pull_request", "number"),
    ("pull_request", "title"),
    ("pull_request", "body"),
    ("pull_request", "state"),
    ("pull_request", "merged"),
    ("pull_request", "merged_at"),
    ("pull_request", "merge_commit_sha"),
    ("pull_request", "draft"),
    ("pull_request", "updated_at"),
    ("review",),
    ("review", "state"),
    ("review", "id"),
    ("review", "user", "login"),
    ("review", "submitted_at"),
    ("deployment",),
    ("deployment", "sha"),
    ("deployment", "id"),
    ("deployment", "environment"),
    ("deployment", "production_environment"),
    ("deployment_status", "state"),
    ("deployment_status", "environment"),
    ("deployment_status", "created_at"),
)


def _slots(value: Any, out: list[tuple[Any, Any]], limit: int = 4000) -> None:
    """Every (container, key) of ``value``, breadth first, at most ``limit``."""
    queue = [value]
    while queue and len(out) < limit:
        node = queue.pop(0)
        if isinstance(node, dict):
            for key, item in node.items():
                out.append((node, key))
                queue.append(item)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                out.append((node, index))
                queue.append(item)


def _odd_string(rng: random.Random, current: Any) -> str:
    base = current if isinstance(current, str) else rng.choice(STRINGS)
    odd = rng.choice(STRINGS)
    where = rng.randint(0, len(base))
    choice = rng.randrange(5)
    if choice == 0:
        return base[:where] + odd + base[where:]
    if choice == 1:
        return base[:where]
    if choice == 2:
        return base * rng.randint(2, 50)
    if choice == 3:
        return base.upper()
    return odd


def _swap_type(rng: random.Random, current: Any) -> Any:
    if isinstance(current, bool):
        return rng.choice([str(current).lower(), int(current), None])
    if isinstance(current, int):
        return rng.choice([str(current), float(current), [current], {"id": current}, True])
    if isinstance(current, str):
        as_hex = current.encode("utf-8", "surrogatepass").hex()
        return rng.choice([len(current), [current], {"name": current}, False, as_hex])
    if isinstance(current, dict):
        return rng.choice([list(current.values()), list(current), json.dumps(current)[:200], 1])
    if isinstance(current, list):
        return rng.choice([dict(enumerate(current)), "[]", len(current), None])
    return rng.choice(SCALARS)


def _nest(rng: random.Random, current: Any) -> Any:
    depth = rng.choice([2, 10, 100, 300])
    for _ in range(depth):
        current = [current] if rng.random() < 0.5 else {"a": current}
    return current


class Mutator:
    """Mutations of corpus payloads; ``splice_from`` gives pieces of other payloads."""

    def __init__(self, splice_from: list[Any]) -> None:
        self.splice_from = splice_from

    def replacement(self, rng: random.Random, current: Any) -> Any:
        choice = rng.randrange(10)
        if choice == 0:
            return None
        if choice == 1:
            return _swap_type(rng, current)
        if choice == 2:
            return rng.choice(INTS) if rng.random() < 0.8 else rng.randint(-(2**70), 2**70)
        if choice == 3:
            return _odd_string(rng, current)
        if choice == 4:
            return _nest(rng, current)
        if choice == 5:
            return rng.choice([{}, [], "", 0])
        if choice == 6 and self.splice_from:
            other: list[tuple[Any, Any]] = []
            _slots(rng.choice(self.splice_from), other, limit=500)
            if other:
                container, key = rng.choice(other)
                return copy.deepcopy(container[key])
        if choice == 7 and isinstance(current, int) and not isinstance(current, bool):
            return current + rng.choice([-1, 1, 2**32, 2**63])
        if choice in (7, 8) and isinstance(current, str):
            where = rng.randint(0, len(current))
            return current[:where] + rng.choice(ODD_CHARACTERS) + current[where:]
        return rng.choice(SCALARS)

    def focused(self, rng: random.Random, payload: Any) -> bool:
        """Change one of the ``FOCUS`` fields, if the payload has it; whether it did."""
        path = rng.choice(FOCUS)
        container = payload
        for step in path[:-1]:
            try:
                container = container[step]
            except (KeyError, IndexError, TypeError):
                return False
        key = path[-1]
        if isinstance(container, dict) and (key in container or rng.random() < 0.3):
            if key in container and rng.random() < 0.15:
                del container[key]
            else:
                container[key] = self.replacement(rng, container.get(key))
            return True
        if isinstance(container, list) and isinstance(key, int) and key < len(container):
            container[key] = self.replacement(rng, container[key])
            return True
        return False

    def mutate_payload(self, rng: random.Random, payload: Any) -> Any:
        """A mutated copy of ``payload`` (1 to 4 changes)."""
        payload = copy.deepcopy(payload)
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.5 and self.focused(rng, payload):
                continue
            slots: list[tuple[Any, Any]] = []
            _slots(payload, slots)
            if not slots or rng.random() < 0.03:
                payload = self.replacement(rng, payload)
                continue
            # Shallow places matter most: the readers look at the top two levels.
            slots.sort(key=lambda slot: 0 if slot[0] is payload else 1)
            container, key = slots[min(int(rng.expovariate(0.05)), len(slots) - 1)]
            if isinstance(container, dict) and rng.random() < 0.2:
                del container[key]
            elif isinstance(container, dict) and key == "action" and rng.random() < 0.5:
                container[key] = rng.choice(ACTIONS)
            else:
                container[key] = self.replacement(rng, container[key])
        return payload

    def mutate_event(self, rng: random.Random, event: str) -> str:
        if rng.random() < 0.9:
            return event
        return rng.choice([*EVENTS, "", "x" * 100, "issues\x00", "ISSUES"])


def dumps(value: Any, rng: random.Random | None = None) -> str:
    """JSON text as GitHub (or something else) might write it: ASCII escapes or raw text."""
    ensure_ascii = rng.random() < 0.5 if rng is not None else True
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii)
    except (ValueError, RecursionError):
        return json.dumps(value, ensure_ascii=True, check_circular=False)
