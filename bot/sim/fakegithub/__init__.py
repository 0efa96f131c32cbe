"""The one fake GitHub: a stateful aiohttp server on loopback that speaks the REST subset
TinyDesk may call (PRODUCT.md), checks auth like GitHub, logs every call and can inject
failures. Given an ``OpenAPIContract`` (tests/fakes.py makes one from GitHub's description)
it also holds requests and its own answers to GitHub's OpenAPI schemas.

It ships in the package because ``tinydesk demo`` and the benchmark play GitHub with it;
the tests use it through the ``fake_github`` fixture (tests/fakes.py), or::

    async with FakeGitHub(app_id=APP_ID, public_key_pem=generate_app_key()[1]) as fake:
        fake.add_installation(7, "octo-org", {"octo-org/my-saas-app"})
        base_url = fake.base_url          # give it to the bot as GITHUB_API_URL
        ...
        fake.assert_clean()

The layers, each a module: ``state`` (the world) < ``history`` (commits, pull requests) <
``render`` (GitHub's JSON) < ``handlers`` (the operations) < ``failures`` (injection) <
``server`` (HTTP, auth, call log) < ``apps`` (the manifest flow's pages and conversion, App
installation) < ``FakeGitHub`` here (what a test reads back).
"""

from __future__ import annotations

from typing import Any

from bot.sim.fakegithub.contract import OpenAPIContract, RequestRejected
from bot.sim.fakegithub.failures import SECONDARY_RATE_LIMIT_MESSAGE
from bot.sim.fakegithub.keys import APP_ID, generate_app_key, make_app_jwt
from bot.sim.fakegithub.oauth import UserOAuth
from bot.sim.fakegithub.routes import OPERATIONS
from bot.sim.fakegithub.server import Call
from bot.sim.fakegithub.state import (
    APP_SLUG,
    DEFAULT_LABEL_COLOR,
    DOCS_URL,
    MAX_PER_PAGE,
    RATE_LIMIT,
    WEB_URL,
)

__all__ = [
    "APP_ID",
    "APP_SLUG",
    "DEFAULT_LABEL_COLOR",
    "DOCS_URL",
    "MAX_PER_PAGE",
    "OPERATIONS",
    "RATE_LIMIT",
    "SECONDARY_RATE_LIMIT_MESSAGE",
    "WEB_URL",
    "Call",
    "FakeGitHub",
    "OpenAPIContract",
    "RequestRejected",
    "generate_app_key",
    "make_app_jwt",
]


class FakeGitHub(UserOAuth):
    """A stateful fake of GitHub's REST API on 127.0.0.1 (see the module docstring)."""

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
