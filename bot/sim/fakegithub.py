"""The one fake GitHub: a stateful aiohttp server on loopback that speaks the REST subset
TinyDesk may call (PRODUCT.md), checks auth like GitHub, validates request bodies against
GitHub's OpenAPI description (when ``shared/github-openapi`` is beside the checkout), logs
every call and can inject failures.

It ships in the package because ``tinydesk demo`` and the benchmark play GitHub with it;
the tests use it through the ``fake_github`` fixture (tests/fakes.py), or::

    async with FakeGitHub(app_id=APP_ID, public_key_pem=generate_app_key()[1]) as fake:
        fake.add_installation(7, "octo-org", {"octo-org/my-saas-app"})
        base_url = fake.base_url          # give it to the bot as GITHUB_API_URL
        ...
        fake.assert_clean()
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
import hashlib
import json
import os
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = 424242
APP_SLUG = "tinydesk"
WEB_URL = "https://github.com"
DOCS_URL = "https://docs.github.com/rest"
RATE_LIMIT = 5000
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
DEFAULT_LABEL_COLOR = "ededed"
MAX_PER_PAGE = 100

# Operations the bot may call (PRODUCT.md); keys are those of operations.deref.json.
# Anything else, including other operations of the OpenAPI subset, is an unexpected call.
_ROUTES: list[tuple[str, str, str]] = [
    (
        "POST",
        r"/app/installations/(?P<installation_id>\d+)/access_tokens",
        "POST /app/installations/{installation_id}/access_tokens",
    ),
    ("GET", r"/app", "GET /app"),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/installation",
        "GET /repos/{owner}/{repo}/installation",
    ),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues", "GET /repos/{owner}/{repo}/issues"),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues",
        "POST /repos/{owner}/{repo}/issues",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)",
        "GET /repos/{owner}/{repo}/issues/{issue_number}",
    ),
    (
        "PATCH",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)",
        "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/comments",
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/comments",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "PATCH",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/comments/(?P<comment_id>\d+)",
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/labels",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    ),
    (
        "DELETE",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<issue_number>\d+)/labels/(?P<name>[^/]+)",
        "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    ),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/labels", "GET /repos/{owner}/{repo}/labels"),
    (
        "POST",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/labels",
        "POST /repos/{owner}/{repo}/labels",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<pull_number>\d+)",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<pull_number>\d+)/commits",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/compare/(?P<basehead>.+)",
        "GET /repos/{owner}/{repo}/compare/{basehead}",
    ),
    (
        "GET",
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/commits/(?P<ref>.+)",
        "GET /repos/{owner}/{repo}/commits/{ref}",
    ),
]
OPERATIONS: tuple[str, ...] = tuple(key for _, _, key in _ROUTES)
_COMPILED = [(method, re.compile(pattern + r"/?"), key) for method, pattern, key in _ROUTES]
# GitHub wants the App's JWT here, not an installation token.
_JWT_OPERATIONS = {
    "GET /app",
    "POST /app/installations/{installation_id}/access_tokens",
    "GET /repos/{owner}/{repo}/installation",
}


# --------------------------------------------------------------------------- shared data


def shared_dir() -> Path:
    """The ``shared`` folder next to the checkout, else ``$TINYDESK_SHARED_DIR``."""
    beside = Path(__file__).resolve().parents[2] / ".." / "shared"
    if beside.is_dir():
        return beside.resolve()
    env = os.environ.get("TINYDESK_SHARED_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    raise FileNotFoundError(f"no shared data at {beside}; set TINYDESK_SHARED_DIR")


@functools.cache
def spec_available() -> bool:
    """Whether requests can be checked against GitHub's OpenAPI description here (an
    installed package without the checkout's ``shared/`` folder, or without jsonschema,
    still serves every endpoint, unchecked)."""
    try:
        import jsonschema  # noqa: F401

        return (shared_dir() / "github-openapi" / "operations.deref.json").is_file()
    except (ImportError, FileNotFoundError):
        return False


@functools.cache
def openapi_operations() -> dict[str, Any]:
    """``operations.deref.json``: per ``"METHOD /path"`` its parameters, body and responses."""
    path = shared_dir() / "github-openapi" / "operations.deref.json"
    return json.loads(path.read_text(encoding="utf-8"))


def to_json_schema(schema: Any) -> Any:
    """Turn an OpenAPI 3.0 schema into JSON Schema: ``nullable: true`` also admits ``null``."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: to_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.cache
def _validator(operation: str, part: str) -> Any:
    """A cached jsonschema validator for an operation's request body or a response status."""
    import jsonschema

    entry = openapi_operations()[operation]
    if part == "request":
        schema = (entry.get("requestBody") or {}).get("schema")
    else:
        schema = (entry["responses"].get(part) or {}).get("schema")
    if schema is None:
        return None
    return jsonschema.Draft7Validator(to_json_schema(schema))


def _schema_errors(validator: Any, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:200]}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    ][:5]


def _skeleton(schema: dict[str, Any]) -> Any:
    """A minimal value valid for an OpenAPI schema (for required fields the fake does not model)."""
    if schema.get("nullable"):
        return None
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return _skeleton(schema[combinator][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _skeleton(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "string":
        return "1970-01-01T00:00:00Z" if schema.get("format") == "date-time" else ""
    return None


def _complete(schema: dict[str, Any], value: Any) -> Any:
    """Fill in, recursively, the required fields that ``value`` lacks (mutates and returns it)."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches and isinstance(value, dict):
        objects = [b for b in branches if b.get("type") == "object"]
        if objects:
            schema = max(objects, key=lambda b: len(set(b.get("properties", {})) & set(value)))
    if isinstance(value, dict) and schema.get("type") == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                value[name] = _skeleton(props.get(name, {}))
        for name, item in value.items():
            if name in props and item is not None:
                _complete(props[name], item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            if item is not None:
                _complete(schema["items"], item)
    return value


def _response_schema(operation: str, status: int) -> dict[str, Any] | None:
    """GitHub's schema for an answer, used to fill in fields the fake does not model."""
    if not spec_available():
        return None
    return (openapi_operations()[operation]["responses"].get(str(status)) or {}).get("schema")


# --------------------------------------------------------------------------- keys


@functools.cache
def generate_app_key() -> tuple[str, str]:
    """A fresh RSA key pair for the App, once per process: ``(private_pem, public_pem)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def make_app_jwt(
    private_pem: str | None = None,
    app_id: int = APP_ID,
    *,
    iat: int | None = None,
    lifetime: int = 540,
    issuer: Any = None,
) -> str:
    """An App JWT as GitHub wants it (RS256, ``iat`` back-dated 60 s); for tests of the fake."""
    now = int(time.time())
    issued = now - 60 if iat is None else iat
    claims = {
        "iat": issued,
        "exp": issued + lifetime,
        "iss": str(app_id) if issuer is None else issuer,
    }
    # pyjwt refuses to encode a non-string ``iss``; other clients send an integer, so sign by hand.
    return jwt.api_jws.encode(
        json.dumps(claims).encode(),
        private_pem or generate_app_key()[0],
        algorithm="RS256",
        headers={"typ": "JWT"},
    )


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    operation: str | None  # "POST /repos/{owner}/{repo}/issues", None when unexpected
    auth: str  # "jwt", "token", "none" or "invalid"
    body: Any = None
    installation_id: int | None = None
    injected: str | None = None  # why the answer was a made-up failure, if it was


@dataclass
class _Failure:
    operation: str | None
    status: int | None
    times: int
    retry_after: float | None
    delay: float | None
    body: Any
    apply_then_fail: bool
    rate_limit_reset: int | None


@dataclass
class _Token:
    installation_id: int
    expires_at: float
    repos: set[str] | None  # lower-case full names, None = all of the installation's


@dataclass
class _Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    next_number: int = 1
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # by comment id
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-case name
    parents: dict[str, str | None] = field(default_factory=dict)  # sha -> parent sha
    messages: dict[str, str] = field(default_factory=dict)  # sha -> commit message
    order: list[str] = field(default_factory=list)  # shas in the order they were added
    branches: dict[str, str] = field(default_factory=dict)  # branch -> tip sha
    tip: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class _Reply(Exception):
    """Raised by handlers to answer with a status and a GitHub-style error body."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = code
        self.body = {"message": message, "documentation_url": DOCS_URL, **extra}


def _iso(moment: float | None = None) -> str:
    moment = time.time() if moment is None else moment
    return dt.datetime.fromtimestamp(int(moment), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, number: int) -> str:
    return f"{kind}_kw{number:08d}"


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A stateful fake of GitHub's REST API on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        app_id: int = APP_ID,
        public_key_pem: str | None = None,
        *,
        app_slug: str = APP_SLUG,
        validate_responses: bool = True,
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.public_key_pem = public_key_pem or generate_app_key()[1]
        self.validate_responses = validate_responses
        self.base_url = ""
        self.calls: list[Call] = []
        self.unexpected: list[Call] = []
        self.violations: list[str] = []
        self.response_errors: list[str] = []
        self.installations: dict[int, dict[str, Any]] = {}
        self._repos: dict[str, _Repo] = {}
        self._tokens: dict[str, _Token] = {}
        self._failures: list[_Failure] = []
        self._failure_rate = 0.0
        self._failure_statuses: tuple[int, ...] = ()
        self._failure_retry_after: float | None = 0
        self._random = random.Random(0)
        self._ids = iter(range(1_000_001, 10**12))
        self._users: dict[str, int] = {}
        self._rate_remaining = RATE_LIMIT
        self._rate_reset = int(time.time()) + 3600
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.bot_login = f"{app_slug}[bot]"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Listen on a random loopback port; returns the base URL (use as GITHUB_API_URL)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        """Stop the server; delayed (timeout-simulating) answers are cut short."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitHub:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

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
            self._repos[key] = _Repo(owner=owner, name=name, id=self._next_id(), private=private)

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
            issue["updated_at"] = _iso()

    def reopen_issue(self, owner: str, repo: str, number: int) -> None:
        """Reopen an issue as a person would."""
        self._set_state(self._issue(self._repo(owner, repo), number), "open", "reopened")

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

    def add_commits(
        self,
        owner: str,
        repo: str,
        shas_in_order: Iterable[str | tuple[str, str]],
        *,
        parent: str | None = None,
        branch: str | None = "main",
    ) -> None:
        """Append commits (oldest first; items are shas or ``(sha, message)``) to a linear chain.

        The chain continues from ``parent`` when given, else from the tip of the previous
        ``add_commits``; start a second chain from an older ``parent`` to make histories diverge.
        ``branch`` (if any) then points at the last commit.
        """
        r = self._repo(owner, repo)
        previous = parent if parent is not None else r.tip
        if parent is not None and parent not in r.parents:
            raise ValueError(f"unknown parent commit {parent}")
        previous = self._chain(r, shas_in_order, previous)
        r.tip = previous
        if branch and previous:
            r.branches[branch] = previous

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int | None = None,
        head_sha: str | None = None,
        *,
        merge_commit_sha: str | None = None,
        merged: bool = False,
        draft: bool = False,
        body: str | None = "",
        title: str = "A change",
        commits: Iterable[str] = (),
        state: str | None = None,
        user: str = "octocat",
        head_ref: str = "feature",
        base_ref: str = "main",
        labels: Iterable[str] = (),
    ) -> int:
        """Create a pull request (sharing the issue number counter); returns its number.

        ``commits`` (oldest first) are what ``pulls/{n}/commits`` lists; unknown ones are added
        as their own chain (without moving the main tip). ``head_sha`` defaults to the last.
        """
        r = self._repo(owner, repo)
        shas = list(commits)
        unknown = [sha for sha in shas if sha not in r.parents]
        if unknown:
            start = r.parents.get(shas[0]) if shas[0] in r.parents else None
            self._chain(r, unknown, start)
        head = head_sha or (shas[-1] if shas else secrets.token_hex(20))
        if head not in r.parents:
            self._chain(r, [head], None)
        if number is not None and number in r.issues:
            raise ValueError(f"#{number} already exists in {r.full_name}")
        author = self._user(user)
        issue = self._new_issue(r, title, body, author, labels, (), number=number)
        issue["pull_request"] = {
            "url": f"{self._repo_api(r)}/pulls/{issue['number']}",
            "html_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}",
            "diff_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}.diff",
            "patch_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}.patch",
            "merged_at": None,
        }
        issue["html_url"] = issue["pull_request"]["html_url"]
        r.pulls[issue["number"]] = {
            "number": issue["number"],
            "head_sha": head,
            "head_ref": head_ref,
            "base_ref": base_ref,
            "draft": draft,
            "merged": False,
            "merged_at": None,
            "merged_by": None,
            "merge_commit_sha": merge_commit_sha,
            "commits": shas,
        }
        if merged:
            self.merge_pull(owner, repo, issue["number"], merge_commit_sha=merge_commit_sha)
        elif state == "closed":
            self._set_state(issue, "closed", None)
        return issue["number"]

    def merge_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        merge_commit_sha: str | None = None,
        merged_by: str = "octocat",
    ) -> None:
        """Mark a pull request merged (and closed) as GitHub would after a merge."""
        r = self._repo(owner, repo)
        pull = r.pulls[number]
        pull.update(merged=True, merged_at=_iso(), merged_by=merged_by)
        if merge_commit_sha:
            pull["merge_commit_sha"] = merge_commit_sha
        issue = r.issues[number]
        self._set_state(issue, "closed", None)
        issue["pull_request"]["merged_at"] = pull["merged_at"]

    def update_pull(self, owner: str, repo: str, number: int, **fields: Any) -> None:
        """Change a PR: ``title``, ``body``, ``draft``, ``head_sha``, ``merge_commit_sha``..."""
        r = self._repo(owner, repo)
        for name in ("title", "body"):
            if name in fields:
                r.issues[number][name] = fields.pop(name)
        r.pulls[number].update(fields)

    def expire_tokens(self) -> None:
        """Make every installation token issued so far expired (GitHub answers 401)."""
        for token in self._tokens.values():
            token.expires_at = time.time() - 1

    def set_rate_limit(self, remaining: int, reset_at: int | None = None) -> None:
        """Set ``x-ratelimit-remaining``; at 0, repository calls get GitHub's primary rate-limit
        403 until ``reset_at`` (epoch seconds, default now + 60) passes."""
        self._rate_remaining = remaining
        self._rate_reset = int(time.time()) + 60 if reset_at is None else reset_at

    # ----------------------------------------------------------------- inspection

    def issue(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        """The issue (or PR's issue) as ``GET /repos/{o}/{r}/issues/{n}`` would answer it."""
        r = self._repo(owner, repo)
        return self._render_issue(r, self._issue(r, number))

    def issues(self, owner: str, repo: str) -> list[dict[str, Any]]:
        """Every issue and PR of the repository, oldest first, rendered."""
        r = self._repo(owner, repo)
        return [self._render_issue(r, issue) for issue in r.issues.values()]

    def comments_on(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Comments on an issue or PR, oldest first, rendered."""
        r = self._repo(owner, repo)
        self._issue(r, number)
        return [self._render_comment(r, c) for c in r.comments.values() if c["number"] == number]

    def labels(self, owner: str, repo: str) -> list[str]:
        """Names of the repository's labels."""
        return [label["name"] for label in self._repo(owner, repo).labels.values()]

    def count(self, operation: str) -> int:
        """How many calls reached ``operation`` (e.g. ``"POST /repos/{owner}/{repo}/issues"``)."""
        return sum(1 for call in self.calls if call.operation == operation)

    def calls_to(self, operation: str) -> list[Call]:
        """The calls that reached ``operation``, in order."""
        return [call for call in self.calls if call.operation == operation]

    def assert_clean(self) -> None:
        """Fail on unexpected calls, violations, bad fake responses or unused injected failures."""
        problems = [f"unexpected call: {c.method} {c.path}" for c in self.unexpected]
        problems += [f"violation: {v}" for v in self.violations]
        problems += [f"fake answered off-spec: {e}" for e in self.response_errors]
        problems += [
            f"unused failure injection: {f.operation or 'any'} -> {f.status} (x{f.times})"
            for f in self._failures
        ]
        if problems:
            raise AssertionError("fake GitHub saw problems:\n  " + "\n  ".join(problems))

    # ----------------------------------------------------------------- failure injection

    def fail_next(
        self,
        operation: str | None,
        status: int | None = 500,
        *,
        times: int = 1,
        retry_after: float | None = None,
        delay: float | None = None,
        body: Any = None,
        apply_then_fail: bool = False,
        rate_limit_reset: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``operation`` (None: any listed one) fail.

        ``status`` 500/502/503, 403 (secondary rate limit, or primary when ``rate_limit_reset``
        is given: remaining 0 and that reset) or 429; ``retry_after`` adds Retry-After;
        ``delay`` sleeps first (longer than the client timeout = a timeout) and with
        ``status=None`` then answers normally; ``apply_then_fail`` performs the effect and
        then answers ``status`` (the change happened but the reply was lost).
        """
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"not an operation the fake serves: {operation!r}")
        self._failures.append(
            _Failure(
                operation,
                status,
                times,
                retry_after,
                delay,
                body,
                apply_then_fail,
                rate_limit_reset,
            )
        )

    def set_failure_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        statuses: tuple[int, ...] = (500, 502, 403, 429),
        retry_after: float | None = 0,
    ) -> None:
        """Fail a fraction ``rate`` of repository calls at random (deterministic for a seed),
        before their effect, with a status drawn from ``statuses``; 0 switches it off."""
        self._failure_rate = rate
        self._failure_statuses = statuses
        self._failure_retry_after = retry_after
        self._random = random.Random(seed)

    # ----------------------------------------------------------------- HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        operation, params = self._match(request.method, path)
        query = dict(request.query)
        raw_body = await request.read()
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode(errors="replace")
        if operation is None:
            call = Call(request.method, path, query, 404, None, "none", body)
            self.unexpected.append(call)
            self.calls.append(call)
            return self._json(404, {"message": "Not Found", "documentation_url": DOCS_URL})

        auth, installation_id, auth_error = self._authenticate(request, operation, params)
        injected: str | None = None
        headers = self._rate_headers()
        try:
            if auth_error is not None:
                raise auth_error
            failure = self._take_failure(operation)
            if failure is None and self._rate_remaining <= 0 and operation not in _JWT_OPERATIONS:
                if time.time() >= self._rate_reset:
                    self._rate_remaining = RATE_LIMIT
                else:
                    injected = "primary rate limit"
                    raise _Reply(
                        403, f"API rate limit exceeded for installation ID {installation_id}."
                    )
            if failure is not None:
                injected = f"fail_next/rate {failure.status}"
                status, payload = await self._apply_failure(
                    failure, request, operation, params, query, body, headers
                )
            else:
                self._validate_request(operation, query, body, raw_body)
                status, payload = await self._handle(
                    operation, params, query, body, auth, headers, request
                )
                self._check_response(operation, status, payload)
        except _Reply as reply:
            status, payload = reply.status, reply.body
        except Exception as error:  # a bug of the fake: make it loud, not a silent 500
            self.response_errors.append(f"{operation}: fake crashed: {error!r}")
            status, payload = 500, {"message": f"fake crashed: {error!r}"}
        if operation not in _JWT_OPERATIONS and self._rate_remaining > 0:
            self._rate_remaining -= 1
        self.calls.append(
            Call(
                request.method,
                path,
                query,
                status,
                operation,
                auth,
                body,
                installation_id,
                injected,
            )
        )
        return self._json(status, payload, headers)

    def _match(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for route_method, pattern, key in _COMPILED:
            found = pattern.fullmatch(path)
            if found and route_method == method:
                return key, {k: unquote(v) for k, v in found.groupdict().items()}
        return None, {}

    def _json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 204 or payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    def _rate_headers(self) -> dict[str, str]:
        remaining = max(self._rate_remaining - 1, 0)
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(RATE_LIMIT - remaining),
            "x-ratelimit-resource": "core",
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": secrets.token_hex(8).upper(),
        }

    # ----------------------------------------------------------------- auth

    def _authenticate(
        self, request: web.Request, operation: str, params: dict[str, str]
    ) -> tuple[str, int | None, _Reply | None]:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        if not header:
            self.violations.append(f"{operation}: no Authorization header")
            return "none", None, _Reply(401, "Requires authentication")
        looks_like_jwt = credential.count(".") == 2
        if operation in _JWT_OPERATIONS:
            if scheme != "bearer" or not looks_like_jwt:
                self.violations.append(f"{operation}: needs the App JWT, got {scheme} credential")
                return "token", None, _Reply(401, "A JSON web token could not be decoded")
            problem = self._jwt_problem(credential)
            if problem:
                self.violations.append(f"{operation}: bad JWT: {problem}")
                return "invalid", None, _Reply(401, problem)
            return "jwt", None, None
        if scheme not in ("token", "bearer"):
            self.violations.append(f"{operation}: Authorization scheme {scheme!r}")
            return "invalid", None, _Reply(401, "Bad credentials")
        if looks_like_jwt:
            self.violations.append(
                f"{operation}: called with the App JWT, not an installation token"
            )
            return "jwt", None, _Reply(401, "A JSON web token could not be decoded")
        token = self._tokens.get(credential)
        if token is None:
            self.violations.append(f"{operation}: a token the fake never issued")
            return "invalid", None, _Reply(401, "Bad credentials")
        if token.expires_at <= time.time():
            return "token", token.installation_id, _Reply(401, "Bad credentials")
        repo_key = f"{params['owner']}/{params['repo']}".lower()
        installed = {name.lower() for name in self.installations[token.installation_id]["repos"]}
        allowed = installed if token.repos is None else installed & token.repos
        if repo_key not in allowed:
            return "token", token.installation_id, _Reply(404, "Not Found")
        return "token", token.installation_id, None

    def _jwt_problem(self, credential: str) -> str | None:
        try:
            claims = jwt.decode(
                credential,
                self.public_key_pem,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.PyJWTError as error:
            return f"A JSON web token could not be decoded ({error})"
        now = time.time()
        if str(claims["iss"]) != str(self.app_id):
            return f"'Issuer' claim ('iss') must be the App ID {self.app_id}"
        if not isinstance(claims["iat"], int) or claims["iat"] > now + 1:
            return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        if not isinstance(claims["exp"], int) or claims["exp"] - claims["iat"] > 600:
            return "'Expiration time' claim ('exp') is too far in the future"
        if claims["exp"] <= now:
            return (
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            )
        return None

    # ----------------------------------------------------------------- failures

    def _take_failure(self, operation: str) -> _Failure | None:
        for failure in self._failures:
            if failure.operation in (None, operation):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        if (
            self._failure_rate
            and operation not in _JWT_OPERATIONS
            and self._random.random() < self._failure_rate
        ):
            return _Failure(
                operation,
                self._random.choice(self._failure_statuses),
                1,
                self._failure_retry_after,
                None,
                None,
                False,
                None,
            )
        return None

    async def _apply_failure(
        self,
        failure: _Failure,
        request: web.Request,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        result: tuple[int, Any] | None = None
        if failure.apply_then_fail or failure.status is None:
            self._validate_request(operation, query, body, json.dumps(body).encode())
            result = await self._handle(operation, params, query, body, "token", headers, request)
        if failure.delay:
            try:
                await asyncio.wait_for(self._closing.wait(), failure.delay)
            except TimeoutError:
                pass
        if failure.status is None:
            assert result is not None
            return result
        if failure.retry_after is not None:
            headers["Retry-After"] = str(int(failure.retry_after))
        if failure.body is not None:
            return failure.status, failure.body
        if failure.status == 403 and failure.rate_limit_reset is not None:
            headers.update(
                {
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(failure.rate_limit_reset),
                    "x-ratelimit-used": str(RATE_LIMIT),
                }
            )
            return 403, {
                "message": "API rate limit exceeded for installation.",
                "documentation_url": DOCS_URL,
            }
        if failure.status in (403, 429):
            return failure.status, {
                "message": SECONDARY_RATE_LIMIT_MESSAGE,
                "documentation_url": DOCS_URL,
            }
        if failure.status == 502:
            return 502, {"message": "Server Error"}
        return failure.status, {
            "message": "Server Error" if failure.status >= 500 else "Failed",
            "documentation_url": DOCS_URL,
        }

    # ----------------------------------------------------------------- validation

    def _validate_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        if not spec_available():
            return
        entry = openapi_operations()[operation]
        for param in entry["parameters"]:
            if param["in"] != "query" or param["name"] not in query:
                continue
            schema, value = param.get("schema", {}), query[param["name"]]
            if schema.get("type") == "integer" and not value.isdigit():
                self.violations.append(f"{operation}: query {param['name']}={value!r} not integer")
                raise _Reply(422, f"Invalid value for parameter {param['name']}")
            if "enum" in schema and value not in schema["enum"]:
                self.violations.append(
                    f"{operation}: query {param['name']}={value!r} not in {schema['enum']}"
                )
                raise _Reply(422, "Validation Failed")
        request_body = entry.get("requestBody")
        if request_body is None:
            return
        if isinstance(body, str) or (raw_body and body is None):
            self.violations.append(f"{operation}: body is not JSON")
            raise _Reply(400, "Problems parsing JSON")
        if body is None:
            if request_body.get("required"):
                self.violations.append(f"{operation}: body required")
                raise _Reply(400, "Problems parsing JSON")
            return
        validator = _validator(operation, "request")
        errors = _schema_errors(validator, body) if validator else []
        if errors:
            self.violations.append(f"{operation}: body invalid: {'; '.join(errors)}")
            raise _Reply(422, "Invalid request.\n\n" + "\n".join(errors), status="422")

    def _check_response(self, operation: str, status: int, payload: Any) -> None:
        if not self.validate_responses or status >= 300 or not spec_available():
            return
        validator = _validator(operation, str(status))
        if validator is not None:
            errors = _schema_errors(validator, payload)
            if errors:
                self.response_errors.append(f"{operation} {status}: {'; '.join(errors)}")

    # ----------------------------------------------------------------- handlers

    async def _handle(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        auth: str,
        headers: dict[str, str],
        request: web.Request,
    ) -> tuple[int, Any]:
        handler: Callable[..., Awaitable[tuple[int, Any]]] = self._handlers[operation]
        return await handler(
            self, params=params, query=query, body=body or {}, headers=headers, request=request
        )

    async def _app(self, **_: Any) -> tuple[int, Any]:
        return 200, self._complete(
            "GET /app",
            200,
            {
                "id": self.app_id,
                "slug": self.app_slug,
                "node_id": _node_id("A", self.app_id),
                "client_id": f"Iv1.{self.app_id:016x}",
                "name": "TinyDesk",
                "owner": self._render_user("octo-org", "Organization"),
                "description": "Support tickets that follow their fix through GitHub.",
                "external_url": "https://tinydesk.example",
                "html_url": f"{WEB_URL}/apps/{self.app_slug}",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "permissions": {
                    "issues": "write",
                    "pull_requests": "read",
                    "metadata": "read",
                    "deployments": "read",
                    "contents": "read",
                },
                "events": [
                    "deployment_status",
                    "installation",
                    "installation_repositories",
                    "issues",
                    "pull_request",
                    "pull_request_review",
                ],
                "installations_count": len(self.installations),
            },
        )

    async def _access_token(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        installation_id = int(params["installation_id"])
        installation = self.installations.get(installation_id)
        if installation is None:
            raise _Reply(404, "Not Found")
        repos: set[str] | None = None
        if body.get("repositories"):
            account = installation["account"]
            repos = {f"{account}/{name}".lower() for name in body["repositories"]}
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires = time.time() + 3600
        self._tokens[token] = _Token(installation_id, expires, repos)
        return 201, {
            "token": token,
            "expires_at": _iso(expires),
            "permissions": {"issues": "write", "metadata": "read", "pull_requests": "read"},
            "repository_selection": "selected",
        }

    async def _repo_installation(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        key = f"{params['owner']}/{params['repo']}".lower()
        for installation_id, installation in self.installations.items():
            if key in {name.lower() for name in installation["repos"]}:
                return 200, self._render_installation(installation_id, installation)
        raise _Reply(404, "Not Found")

    async def _list_issues(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        state = query.get("state", "open")
        wanted_labels = {n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()}
        creator = query.get("creator", "").lower()
        assignee = query.get("assignee")
        issues = [
            issue
            for issue in r.issues.values()
            if (state == "all" or issue["state"] == state)
            and wanted_labels <= {name.lower() for name in issue["labels"]}
            and (not creator or issue["user"]["login"].lower() == creator)
            and (assignee is None or self._assignee_matches(issue, assignee))
        ]
        sort_key = {"created": "created_at", "updated": "updated_at"}.get(
            query.get("sort", "created"), "created_at"
        )
        if query.get("sort") == "comments":
            issues.sort(key=lambda i: (self._comment_count(r, i["number"]), i["number"]))
        else:
            issues.sort(key=lambda i: (i[sort_key], i["number"]))
        if query.get("direction", "desc") == "desc":
            issues.reverse()
        page = self._paginate(issues, query, headers, request)
        return 200, [self._render_issue(r, issue) for issue in page]

    async def _create_issue(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        labels = [
            item if isinstance(item, str) else item.get("name", "")
            for item in body.get("labels") or []
        ]
        assignees = list(body.get("assignees") or [])
        if body.get("assignee"):
            assignees.append(body["assignee"])
        issue = self._new_issue(
            r, str(body["title"]), body.get("body"), self._bot_user(), labels, assignees
        )
        return 201, self._render_issue(r, issue)

    async def _get_issue(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        return 200, self._render_issue(r, self._issue(r, int(params["issue_number"]), reply=True))

    async def _update_issue(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        if "title" in body and body["title"] is not None:
            issue["title"] = str(body["title"])
        if "body" in body:
            issue["body"] = body["body"]
        if "labels" in body:
            issue["labels"] = []
            self._add_labels(
                r,
                issue,
                [
                    item if isinstance(item, str) else item.get("name", "")
                    for item in body["labels"] or []
                ],
            )
        if "assignees" in body:
            issue["assignees"] = list(dict.fromkeys(body["assignees"] or []))
        if body.get("state") and body["state"] != issue["state"]:
            default_reason = "completed" if body["state"] == "closed" else "reopened"
            self._set_state(issue, body["state"], body.get("state_reason") or default_reason)
        elif body.get("state_reason") and issue["state"] == "closed":
            issue["state_reason"] = body["state_reason"]
        issue["updated_at"] = _iso()
        return 200, self._render_issue(r, issue)

    async def _list_comments(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["issue_number"])
        self._issue(r, number, reply=True)
        comments = [c for c in r.comments.values() if c["number"] == number]
        page = self._paginate(comments, query, headers, request)
        return 200, [self._render_comment(r, c) for c in page]

    async def _create_comment(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        comment = self._new_comment(r, issue, body["body"], self._bot_user())
        return 201, self._render_comment(r, comment)

    async def _update_comment(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        comment = r.comments.get(int(params["comment_id"]))
        if comment is None:
            raise _Reply(404, "Not Found")
        comment["body"] = body["body"]
        comment["updated_at"] = _iso()
        return 200, self._render_comment(r, comment)

    async def _add_issue_labels(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        items = body.get("labels", []) if isinstance(body, dict) else body
        names = [item if isinstance(item, str) else item.get("name", "") for item in items]
        self._add_labels(r, issue, names)
        issue["updated_at"] = _iso()
        return 200, [self._render_label(r, r.labels[n.lower()]) for n in issue["labels"]]

    async def _remove_issue_label(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        name = params["name"].lower()
        kept = [n for n in issue["labels"] if n.lower() != name]
        if len(kept) == len(issue["labels"]):
            raise _Reply(404, "Label does not exist")
        issue["labels"] = kept
        issue["updated_at"] = _iso()
        return 200, [self._render_label(r, r.labels[n.lower()]) for n in kept]

    async def _list_labels(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        page = self._paginate(list(r.labels.values()), query, headers, request)
        return 200, [self._render_label(r, label) for label in page]

    async def _create_label(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        if body["name"].lower() in r.labels:
            raise _Reply(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = self._ensure_label(
            r,
            body["name"],
            body.get("color", DEFAULT_LABEL_COLOR).lstrip("#"),
            body.get("description"),
        )
        return 201, self._render_label(r, label)

    async def _get_pull(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["pull_number"])
        if number not in r.pulls:
            raise _Reply(404, "Not Found")
        return 200, self._render_pull(r, number)

    async def _pull_commits(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["pull_number"])
        if number not in r.pulls:
            raise _Reply(404, "Not Found")
        page = self._paginate(r.pulls[number]["commits"], query, headers, request)
        return 200, [self._render_commit(r, sha) for sha in page]

    async def _compare(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        base_ref, sep, head_ref = params["basehead"].partition("...")
        if not sep:
            raise _Reply(404, "Not Found")
        base, head = self._resolve(r, base_ref), self._resolve(r, head_ref)
        if base is None or head is None:
            raise _Reply(404, "Not Found")
        head_line, base_line = self._ancestry(r, head), self._ancestry(r, base)
        base_set, head_set = set(base_line), set(head_line)
        merge_base = next((sha for sha in head_line if sha in base_set), None)
        ahead = [sha for sha in head_line if sha not in base_set]
        behind = [sha for sha in base_line if sha not in head_set]
        if merge_base is None:
            raise _Reply(404, f"No common ancestor between {base_ref} and {head_ref}.")
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        api, web = self._repo_api(r), f"{WEB_URL}/{r.full_name}"
        return 200, self._complete(
            "GET /repos/{owner}/{repo}/compare/{basehead}",
            200,
            {
                "url": f"{api}/compare/{base_ref}...{head_ref}",
                "html_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}",
                "permalink_url": f"{web}/compare/{r.owner}:{base}...{r.owner}:{head}",
                "diff_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}.diff",
                "patch_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}.patch",
                "base_commit": self._render_commit(r, base),
                "merge_base_commit": self._render_commit(r, merge_base),
                "status": status,
                "ahead_by": len(ahead),
                "behind_by": len(behind),
                "total_commits": len(ahead),
                "commits": [self._render_commit(r, sha) for sha in reversed(ahead)][:250],
                "files": [],
            },
        )

    async def _get_commit(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        sha = self._resolve(r, params["ref"])
        if sha is None:
            raise _Reply(422, f"No commit found for SHA: {params['ref']}")
        rendered = self._render_commit(r, sha)
        rendered.update(stats={"total": 0, "additions": 0, "deletions": 0}, files=[])
        return 200, rendered

    _handlers: dict[str, Callable[..., Awaitable[tuple[int, Any]]]] = {
        "GET /app": _app,
        "POST /app/installations/{installation_id}/access_tokens": _access_token,
        "GET /repos/{owner}/{repo}/installation": _repo_installation,
        "GET /repos/{owner}/{repo}/issues": _list_issues,
        "POST /repos/{owner}/{repo}/issues": _create_issue,
        "GET /repos/{owner}/{repo}/issues/{issue_number}": _get_issue,
        "PATCH /repos/{owner}/{repo}/issues/{issue_number}": _update_issue,
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": _list_comments,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": _create_comment,
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": _update_comment,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": _add_issue_labels,
        "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": _remove_issue_label,
        "GET /repos/{owner}/{repo}/labels": _list_labels,
        "POST /repos/{owner}/{repo}/labels": _create_label,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}": _get_pull,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits": _pull_commits,
        "GET /repos/{owner}/{repo}/compare/{basehead}": _compare,
        "GET /repos/{owner}/{repo}/commits/{ref}": _get_commit,
    }

    # ----------------------------------------------------------------- state helpers

    def _next_id(self) -> int:
        return next(self._ids)

    def _repo(self, owner: str, repo: str, *, reply: bool = False) -> _Repo:
        found = self._repos.get(f"{owner}/{repo}".lower())
        if found is None:
            if reply:
                raise _Reply(404, "Not Found")
            raise KeyError(f"no repository {owner}/{repo} in the fake")
        return found

    def _issue(self, r: _Repo, number: int, *, reply: bool = False) -> dict[str, Any]:
        issue = r.issues.get(number)
        if issue is None:
            if reply:
                raise _Reply(404, "Not Found")
            raise KeyError(f"no issue #{number} in {r.full_name}")
        return issue

    def _user(self, login: str, user_type: str = "User") -> dict[str, Any]:
        return {"login": login, "type": user_type}

    def _bot_user(self) -> dict[str, Any]:
        return self._user(self.bot_login, "Bot")

    def _new_issue(
        self,
        r: _Repo,
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
        now = _iso()
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
        self, r: _Repo, issue: dict[str, Any], body: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        now = _iso()
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
        self, r: _Repo, name: str, color: str = DEFAULT_LABEL_COLOR, description: str | None = None
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

    def _add_labels(self, r: _Repo, issue: dict[str, Any], names: Iterable[str]) -> None:
        present = {n.lower() for n in issue["labels"]}
        for name in names:
            label = self._ensure_label(r, name)  # GitHub creates unknown labels on the fly
            if name.lower() not in present:
                issue["labels"].append(label["name"])
                present.add(name.lower())

    def _set_state(self, issue: dict[str, Any], state: str, reason: str | None) -> None:
        issue["state"] = state
        issue["state_reason"] = reason
        issue["closed_at"] = _iso() if state == "closed" else None
        issue["updated_at"] = _iso()

    def _assignee_matches(self, issue: dict[str, Any], wanted: str) -> bool:
        logins = {login.lower() for login in issue["assignees"]}
        if wanted == "none":
            return not logins
        return (wanted == "*" and bool(logins)) or wanted.lower() in logins

    def _comment_count(self, r: _Repo, number: int) -> int:
        return sum(1 for c in r.comments.values() if c["number"] == number)

    def _chain(
        self, r: _Repo, items: Iterable[str | tuple[str, str]], parent: str | None
    ) -> str | None:
        for item in items:
            sha, message = (item, f"Commit {item[:7]}") if isinstance(item, str) else item
            if sha in r.parents:
                raise ValueError(f"commit {sha} already exists in {r.full_name}")
            r.parents[sha] = parent
            r.messages[sha] = message
            r.order.append(sha)
            parent = sha
        return parent

    def _resolve(self, r: _Repo, ref: str) -> str | None:
        if ref in r.parents:
            return ref
        if ref in r.branches:
            return r.branches[ref]
        if len(ref) >= 4:
            matches = [sha for sha in r.parents if sha.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
        return None

    def _ancestry(self, r: _Repo, sha: str) -> list[str]:
        line: list[str] = []
        current: str | None = sha
        while current is not None:
            line.append(current)
            current = r.parents[current]
        return line

    def _paginate(
        self, items: list[Any], query: dict[str, str], headers: dict[str, str], request: web.Request
    ) -> list[Any]:
        per_page = min(max(int(query.get("per_page", 30)), 1), MAX_PER_PAGE)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def url(number: int) -> str:
            return f"{self.base_url}{request.path}?{urlencode({**query, 'page': number})}"

        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links = [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"', *links]
        if links:
            headers["Link"] = ", ".join(links)
        return items[(page - 1) * per_page : page * per_page]

    # ----------------------------------------------------------------- rendering

    def _complete(self, operation: str, status: int, value: Any) -> Any:
        schema = _response_schema(operation, status)
        return _complete(schema, value) if schema else value

    def _repo_api(self, r: _Repo) -> str:
        return f"{self.base_url}/repos/{r.full_name}"

    def _user_id(self, login: str) -> int:
        if login not in self._users:
            digest = hashlib.sha256(login.encode()).digest()
            self._users[login] = int.from_bytes(digest[:3]) + 1000
        return self._users[login]

    def _render_user(self, login: str, user_type: str = "User") -> dict[str, Any]:
        api = f"{self.base_url}/users/{login}"
        user_id = self._user_id(login)
        return {
            "login": login,
            "id": user_id,
            "node_id": _node_id("U", user_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{WEB_URL}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user_type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _render_label(self, r: _Repo, label: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": label["id"],
            "node_id": _node_id("LA", label["id"]),
            "url": f"{self._repo_api(r)}/labels/{label['name']}",
            "name": label["name"],
            "description": label["description"],
            "color": label["color"],
            "default": False,
        }

    def _render_issue(self, r: _Repo, issue: dict[str, Any]) -> dict[str, Any]:
        api = f"{self._repo_api(r)}/issues/{issue['number']}"
        assignees = [self._render_user(login) for login in issue["assignees"]]
        rendered = {
            "id": issue["id"],
            "node_id": _node_id("I", issue["id"]),
            "url": api,
            "repository_url": self._repo_api(r),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": issue["html_url"],
            "number": issue["number"],
            "state": issue["state"],
            "state_reason": issue["state_reason"],
            "title": issue["title"],
            "body": issue["body"],
            "user": self._render_user(issue["user"]["login"], issue["user"]["type"]),
            "labels": [self._render_label(r, r.labels[name.lower()]) for name in issue["labels"]],
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "locked": issue["locked"],
            "active_lock_reason": None,
            "comments": self._comment_count(r, issue["number"]),
            "closed_at": issue["closed_at"],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_by": None,
            "author_association": "NONE" if issue["user"]["type"] == "Bot" else "MEMBER",
        }
        if "pull_request" in issue:
            rendered["pull_request"] = dict(issue["pull_request"])
        return copy.deepcopy(rendered)

    def _render_comment(self, r: _Repo, comment: dict[str, Any]) -> dict[str, Any]:
        number = comment["number"]
        return {
            "id": comment["id"],
            "node_id": _node_id("IC", comment["id"]),
            "url": f"{self._repo_api(r)}/issues/comments/{comment['id']}",
            "html_url": f"{r.issues[number]['html_url']}#issuecomment-{comment['id']}",
            "issue_url": f"{self._repo_api(r)}/issues/{number}",
            "body": comment["body"],
            "user": self._render_user(comment["user"]["login"], comment["user"]["type"]),
            "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
            "author_association": "NONE" if comment["user"]["type"] == "Bot" else "MEMBER",
        }

    def _render_repo(self, r: _Repo) -> dict[str, Any]:
        api = self._repo_api(r)
        rendered: dict[str, Any] = {
            "id": r.id,
            "node_id": _node_id("R", r.id),
            "name": r.name,
            "full_name": r.full_name,
            "owner": self._render_user(r.owner, "Organization"),
            "private": r.private,
            "html_url": f"{WEB_URL}/{r.full_name}",
            "url": api,
            "fork": False,
            "default_branch": "main",
            "description": None,
            "visibility": "private" if r.private else "public",
            "clone_url": f"{WEB_URL}/{r.full_name}.git",
            "git_url": f"git://github.com/{r.full_name}.git",
            "ssh_url": f"git@github.com:{r.full_name}.git",
            "svn_url": f"{WEB_URL}/{r.full_name}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "pushed_at": "2024-01-01T00:00:00Z",
            "has_issues": True,
        }
        for suffix in (
            "issues{/number}",
            "pulls{/number}",
            "labels{/name}",
            "commits{/sha}",
            "compare/{base}...{head}",
            "deployments",
        ):
            key = suffix.split("{")[0].split("/")[0] + "_url"
            rendered[key] = f"{api}/{suffix}"
        return self._complete_schema_at(rendered, ("head", "repo"))

    def _complete_schema_at(self, value: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        schema = _response_schema("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200) or {}
        for name in path:
            schema = schema["properties"][name]
        return _complete(schema, value)

    def _render_pull(self, r: _Repo, number: int) -> dict[str, Any]:
        issue, pull = r.issues[number], r.pulls[number]
        api = f"{self._repo_api(r)}/pulls/{number}"
        repo = self._render_repo(r)
        owner = self._render_user(r.owner, "Organization")
        rendered = {
            "url": api,
            "id": issue["id"],
            "node_id": _node_id("PR", issue["id"]),
            "html_url": issue["html_url"],
            "diff_url": f"{issue['html_url']}.diff",
            "patch_url": f"{issue['html_url']}.patch",
            "issue_url": f"{self._repo_api(r)}/issues/{number}",
            "number": number,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self._repo_api(r)}/pulls/comments{{/number}}",
            "comments_url": f"{self._repo_api(r)}/issues/{number}/comments",
            "statuses_url": f"{self._repo_api(r)}/statuses/{pull['head_sha']}",
            "state": issue["state"],
            "locked": False,
            "title": issue["title"],
            "body": issue["body"],
            "user": self._render_user(issue["user"]["login"], issue["user"]["type"]),
            "labels": [self._render_label(r, r.labels[n.lower()]) for n in issue["labels"]],
            "milestone": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"],
            "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"],
            "draft": pull["draft"],
            "head": {
                "label": f"{r.owner}:{pull['head_ref']}",
                "ref": pull["head_ref"],
                "sha": pull["head_sha"],
                "user": owner,
                "repo": repo,
            },
            "base": {
                "label": f"{r.owner}:{pull['base_ref']}",
                "ref": pull["base_ref"],
                "sha": r.branches.get(pull["base_ref"], pull["head_sha"]),
                "user": owner,
                "repo": repo,
            },
            "_links": {
                name: {"href": href}
                for name, href in {
                    "self": api,
                    "html": issue["html_url"],
                    "issue": f"{self._repo_api(r)}/issues/{number}",
                    "comments": f"{self._repo_api(r)}/issues/{number}/comments",
                    "review_comments": f"{api}/comments",
                    "review_comment": f"{self._repo_api(r)}/pulls/comments{{/number}}",
                    "commits": f"{api}/commits",
                    "statuses": f"{self._repo_api(r)}/statuses/{pull['head_sha']}",
                }.items()
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "active_lock_reason": None,
            "merged": pull["merged"],
            "mergeable": None if pull["merged"] else True,
            "mergeable_state": "unknown" if pull["merged"] else "clean",
            "merged_by": self._render_user(pull["merged_by"]) if pull["merged_by"] else None,
            "comments": self._comment_count(r, number),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pull["commits"]),
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }
        return self._complete("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, rendered)

    def _render_commit(self, r: _Repo, sha: str) -> dict[str, Any]:
        api = f"{self._repo_api(r)}/commits/{sha}"
        git_user = {
            "name": "Octo Cat",
            "email": "octocat@users.noreply.github.com",
            "date": "2024-01-01T00:00:00Z",
        }
        parent = r.parents.get(sha)
        return {
            "sha": sha,
            "node_id": _node_id("C", r.order.index(sha) if sha in r.order else 0),
            "url": api,
            "html_url": f"{WEB_URL}/{r.full_name}/commit/{sha}",
            "comments_url": f"{api}/comments",
            "commit": {
                "url": f"{self._repo_api(r)}/git/commits/{sha}",
                "author": git_user,
                "committer": git_user,
                "message": r.messages.get(sha, ""),
                "comment_count": 0,
                "tree": {
                    "sha": hashlib.sha1(sha.encode()).hexdigest(),
                    "url": f"{self._repo_api(r)}/git/trees/{sha}",
                },
            },
            "author": self._render_user("octocat"),
            "committer": self._render_user("web-flow"),
            "parents": []
            if parent is None
            else [
                {
                    "sha": parent,
                    "url": f"{self._repo_api(r)}/commits/{parent}",
                    "html_url": f"{WEB_URL}/{r.full_name}/commit/{parent}",
                }
            ],
        }

    def _render_installation(
        self, installation_id: int, installation: dict[str, Any]
    ) -> dict[str, Any]:
        return self._complete(
            "GET /repos/{owner}/{repo}/installation",
            200,
            {
                "id": installation_id,
                "app_id": self.app_id,
                "app_slug": self.app_slug,
                "account": self._render_user(installation["account"], "Organization"),
                "target_id": self._user_id(installation["account"]),
                "target_type": "Organization",
                "repository_selection": "selected",
                "single_file_name": None,
                "access_tokens_url": f"{self.base_url}/app/installations/{installation_id}"
                "/access_tokens",
                "repositories_url": f"{self.base_url}/installation/repositories",
                "html_url": f"{WEB_URL}/organizations/{installation['account']}/settings/"
                f"installations/{installation_id}",
                "events": ["issues", "pull_request"],
                "permissions": {"issues": "write"},
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "suspended_by": None,
                "suspended_at": None,
            },
        )


# --------------------------------------------------------------------------- fixture
