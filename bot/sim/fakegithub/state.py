"""The fake GitHub's world: installations, repositories, issues, comments, labels, tokens.

``State`` holds it and offers the set-up calls a test makes as a person would on GitHub
(``add_installation``, ``add_issue``, ``close_issue`` ...); commits and pull requests are in
``history.py``, the JSON shapes in ``render.py``, the HTTP side in ``server.py``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.sim.fakegithub.contract import OpenAPIContract
from bot.sim.fakegithub.keys import APP_ID, generate_app_key

APP_SLUG = "tinydesk"
WEB_URL = "https://github.com"
DOCS_URL = "https://docs.github.com/rest"
RATE_LIMIT = 5000
DEFAULT_LABEL_COLOR = "ededed"
MAX_PER_PAGE = 100


@dataclass
class Token:
    installation_id: int
    expires_at: float
    repos: set[str] | None  # lower-case full names, None = all of the installation's


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    next_number: int = 1
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # by comment id
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-case name
    deleted: set[int] = field(default_factory=set)  # issue numbers deleted (410 Gone)
    parents: dict[str, str | None] = field(default_factory=dict)  # sha -> parent sha
    messages: dict[str, str] = field(default_factory=dict)  # sha -> commit message
    order: list[str] = field(default_factory=list)  # shas in the order they were added
    branches: dict[str, str] = field(default_factory=dict)  # branch -> tip sha
    tip: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class Reply(Exception):
    """Raised by handlers to answer with a status and a GitHub-style error body."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = code
        self.body = {"message": message, "documentation_url": DOCS_URL, **extra}


def iso(moment: float | None = None) -> str:
    moment = time.time() if moment is None else moment
    return dt.datetime.fromtimestamp(int(moment), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    return f"{kind}_kw{number:08d}"


class State:
    """The fake's world and its bookkeeping; the layers above render and serve it."""

    def __init__(
        self,
        app_id: int = APP_ID,
        public_key_pem: str | None = None,
        *,
        app_slug: str = APP_SLUG,
        validate_responses: bool = True,
        openapi: OpenAPIContract | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.public_key_pem = public_key_pem or generate_app_key()[1]
        self.validate_responses = validate_responses
        self.openapi = openapi
        self.base_url = ""
        self.installations: dict[int, dict[str, Any]] = {}
        self._repos: dict[str, Repo] = {}
        self._tokens: dict[str, Token] = {}
        self._ids = iter(range(1_000_001, 10**12))
        self._users: dict[str, int] = {}
        self._rate_remaining = RATE_LIMIT
        self._rate_reset = int(time.time()) + 3600
        self.bot_login = f"{app_slug}[bot]"

    # ----------------------------------------------------------------- world set-up

    def add_installation(self, installation_id: int, account: str, repos: Iterable[str]) -> None:
        """Install the App on ``account`` for the repositories ``"owner/name"`` (created if new)."""
        names = set(repos)
        self.installations[installation_id] = {"account": account, "repos": names}
        for full_name in names:
            self.add_repo(full_name)

    def add_repo(self, full_name: str, *, private: bool = False) -> None:
        """Create a repository (idempotent); owner and name are case-insensitive like GitHub."""
        key = full_name.lower()
        if key not in self._repos:
            owner, name = full_name.split("/")
            self._repos[key] = Repo(owner=owner, name=name, id=self._next_id(), private=private)

    def set_private(self, full_name: str, private: bool = True) -> None:
        """Make a repository private (or public again), as its admin would in its settings."""
        owner, name = full_name.split("/")
        self._repo(owner, name).private = private

    def add_issue(
        self,
        owner: str,
        repo: str,
        title: str,
        body: str | None = "",
        *,
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
        user: str = "octocat",
        state: str = "open",
        state_reason: str | None = None,
    ) -> int:
        """Open an issue as a person would on GitHub; returns its number."""
        r = self._repo(owner, repo)
        issue = self._new_issue(r, title, body, self._user(user), labels, assignees)
        if state == "closed":
            self._set_state(issue, "closed", state_reason or "completed")
        return issue["number"]

    def add_comment(
        self,
        owner: str,
        repo: str,
        number: int,
        body: str,
        *,
        user: str = "octocat",
        user_type: str = "User",
    ) -> int:
        """Comment on an issue or PR as someone else; returns the comment id."""
        r = self._repo(owner, repo)
        return self._new_comment(r, self._issue(r, number), body, self._user(user, user_type))["id"]

    def close_issue(
        self, owner: str, repo: str, number: int, state_reason: str = "completed"
    ) -> None:
        """Close an issue as a person would (``completed`` / ``not_planned`` / ``duplicate``)."""
        self._set_state(self._issue(self._repo(owner, repo), number), "closed", state_reason)

    def assign_issue(self, owner: str, repo: str, number: int, login: str) -> None:
        """Assign someone to an issue as a person would (no-op if already assigned)."""
        issue = self._issue(self._repo(owner, repo), number)
        if login not in issue["assignees"]:
            issue["assignees"].append(login)
            issue["updated_at"] = iso()

    def reopen_issue(self, owner: str, repo: str, number: int) -> None:
        """Reopen an issue as a person would."""
        self._set_state(self._issue(self._repo(owner, repo), number), "open", "reopened")

    def delete_issue(self, owner: str, repo: str, number: int) -> None:
        """Delete an issue as a repository admin would: GitHub then answers 410 Gone for it."""
        r = self._repo(owner, repo)
        self._issue(r, number)
        r.deleted.add(number)

    def add_label(
        self,
        owner: str,
        repo: str,
        name: str,
        color: str = DEFAULT_LABEL_COLOR,
        description: str | None = None,
    ) -> None:
        """Create a repository label (no-op when it exists)."""
        self._ensure_label(self._repo(owner, repo), name, color, description)

    def expire_tokens(self) -> None:
        """Make every installation token issued so far expired (GitHub answers 401)."""
        for token in self._tokens.values():
            token.expires_at = time.time() - 1

    def set_rate_limit(self, remaining: int, reset_at: int | None = None) -> None:
        """Set ``x-ratelimit-remaining``; at 0, repository calls get GitHub's primary rate-limit
        403 until ``reset_at`` (epoch seconds, default now + 60) passes."""
        self._rate_remaining = remaining
        self._rate_reset = int(time.time()) + 60 if reset_at is None else reset_at

    # ----------------------------------------------------------------- state helpers

    def _next_id(self) -> int:
        return next(self._ids)

    def _repo(self, owner: str, repo: str, *, reply: bool = False) -> Repo:
        found = self._repos.get(f"{owner}/{repo}".lower())
        if found is None:
            if reply:
                raise Reply(404, "Not Found")
            raise KeyError(f"no repository {owner}/{repo} in the fake")
        return found

    def _issue(self, r: Repo, number: int, *, reply: bool = False) -> dict[str, Any]:
        issue = r.issues.get(number)
        if reply and number in r.deleted:
            raise Reply(410, "This issue was deleted")
        if issue is None:
            if reply:
                raise Reply(404, "Not Found")
            raise KeyError(f"no issue #{number} in {r.full_name}")
        return issue

    def _user(self, login: str, user_type: str = "User") -> dict[str, Any]:
        return {"login": login, "type": user_type}

    def _bot_user(self) -> dict[str, Any]:
        return self._user(self.bot_login, "Bot")

    def _new_issue(
        self,
        r: Repo,
        title: str,
        body: str | None,
        user: dict[str, Any],
        labels: Iterable[str],
        assignees: Iterable[str],
        *,
        number: int | None = None,
    ) -> dict[str, Any]:
        if number is None:
            number = r.next_number
        r.next_number = max(r.next_number, number + 1)
        now = iso()
        issue: dict[str, Any] = {
            "id": self._next_id(),
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "labels": [],
            "assignees": list(dict.fromkeys(assignees)),
            "user": user,
            "locked": False,
            "html_url": f"{WEB_URL}/{r.full_name}/issues/{number}",
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        r.issues[number] = issue
        self._add_labels(r, issue, labels)
        return issue

    def _new_comment(
        self, r: Repo, issue: dict[str, Any], body: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        now = iso()
        comment = {
            "id": self._next_id(),
            "number": issue["number"],
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
        }
        r.comments[comment["id"]] = comment
        issue["updated_at"] = now
        return comment

    def _ensure_label(
        self, r: Repo, name: str, color: str = DEFAULT_LABEL_COLOR, description: str | None = None
    ) -> dict[str, Any]:
        key = name.lower()
        if key not in r.labels:
            r.labels[key] = {
                "id": self._next_id(),
                "name": name,
                "color": color,
                "description": description,
            }
        return r.labels[key]

    def _add_labels(self, r: Repo, issue: dict[str, Any], names: Iterable[str]) -> None:
        present = {n.lower() for n in issue["labels"]}
        for name in names:
            label = self._ensure_label(r, name)  # GitHub creates unknown labels on the fly
            if name.lower() not in present:
                issue["labels"].append(label["name"])
                present.add(name.lower())

    def _set_state(self, issue: dict[str, Any], state: str, reason: str | None) -> None:
        issue["state"] = state
        issue["state_reason"] = reason
        issue["closed_at"] = iso() if state == "closed" else None
        issue["updated_at"] = iso()

    def _assignee_matches(self, issue: dict[str, Any], wanted: str) -> bool:
        logins = {login.lower() for login in issue["assignees"]}
        if wanted == "none":
            return not logins
        return (wanted == "*" and bool(logins)) or wanted.lower() in logins

    def _comment_count(self, r: Repo, number: int) -> int:
        return sum(1 for c in r.comments.values() if c["number"] == number)

    def _repo_api(self, r: Repo) -> str:
        return f"{self.base_url}/repos/{r.full_name}"
