"""What the fake may be given to hold it to GitHub's OpenAPI description (it reads none itself).

The product package ships no copy of GitHub's description and does not depend on jsonschema:
tests/fakes.py builds an ``OpenAPIContract`` from ``shared/github-openapi`` and injects it.
Without one the fake serves every endpoint unchecked, with the fields it models.
"""

from __future__ import annotations

from typing import Any, Protocol


class RequestRejected(Exception):
    """Raised by ``OpenAPIContract.check_request``: GitHub would refuse this request."""

    def __init__(self, code: int, message: str, violation: str, **extra: Any) -> None:
        super().__init__(violation)
        self.status = code
        self.message = message
        self.violation = violation  # what the caller did wrong, for ``FakeGitHub.violations``
        self.extra = extra  # more fields of the error body


class OpenAPIContract(Protocol):
    """GitHub's description of the operations the fake serves, keyed ``"METHOD /path"``."""

    def check_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        """Raise ``RequestRejected`` when the query or body breaks the operation's schema."""

    def response_problems(self, operation: str, status: int, payload: Any) -> list[str]:
        """Why the fake's own answer breaks the response schema (empty when it does not)."""

    def response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        """The (OpenAPI 3.0) schema of an answer, used to fill in fields the fake lacks."""
