"""The one fake GitHub (``bot.sim.fakegithub``, which the demo and the benchmark use too) held
to GitHub's OpenAPI description, and as a fixture that fails the test on any unexpected call,
misuse, off-spec answer or unused injected failure.

The product package reads no ``shared/`` and needs no jsonschema: the ``OpenAPI`` contract
here is built from ``shared/github-openapi/operations.deref.json`` and injected.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sim.fakegithub import (  # noqa: F401  (what the tests import from here)
    APP_ID,
    OPERATIONS,
    SECONDARY_RATE_LIMIT_MESSAGE,
    Call,
    FakeGitHub,
    OpenAPIContract,
    RequestRejected,
    generate_app_key,
    make_app_jwt,
)
from tests.shared import shared_dir


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


# Operations the bot calls that the shared subset of GitHub's description lacks, and where
# in the subset the same object's schema is: GET /repos/{owner}/{repo} answers a full
# repository, of which a pull request's head.repo (the "repository" schema) is the core.
STAND_INS = {
    "GET /repos/{owner}/{repo}": (
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        ("head", "repo"),
    ),
}
NO_PARAMETERS: dict[str, Any] = {"parameters": [], "responses": {}}


def operation_entry(operation: str) -> dict[str, Any]:
    """An operation's description; a stand-in's has its 200 schema borrowed (see STAND_INS)."""
    if operation not in STAND_INS:
        return openapi_operations()[operation]
    source, path = STAND_INS[operation]
    schema = openapi_operations()[source]["responses"]["200"]["schema"]
    for name in path:
        schema = schema["properties"][name]
    return {**NO_PARAMETERS, "responses": {"200": {"schema": schema}}}


@functools.cache
def _validator(operation: str, part: str) -> Any:
    """A cached jsonschema validator for an operation's request body or a response status."""
    import jsonschema

    entry = operation_entry(operation)
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


class OpenAPI:
    """GitHub's OpenAPI description as the fake's ``OpenAPIContract`` (checked with jsonschema)."""

    def check_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        entry = operation_entry(operation)
        for param in entry["parameters"]:
            if param["in"] != "query" or param["name"] not in query:
                continue
            schema, value = param.get("schema", {}), query[param["name"]]
            if schema.get("type") == "integer" and not value.isdigit():
                raise RequestRejected(
                    422,
                    f"Invalid value for parameter {param['name']}",
                    f"query {param['name']}={value!r} not integer",
                )
            if "enum" in schema and value not in schema["enum"]:
                raise RequestRejected(
                    422,
                    "Validation Failed",
                    f"query {param['name']}={value!r} not in {schema['enum']}",
                )
        request_body = entry.get("requestBody")
        if request_body is None:
            return
        if isinstance(body, str) or (raw_body and body is None):
            raise RequestRejected(400, "Problems parsing JSON", "body is not JSON")
        if body is None:
            if request_body.get("required"):
                raise RequestRejected(400, "Problems parsing JSON", "body required")
            return
        validator = _validator(operation, "request")
        errors = _schema_errors(validator, body) if validator else []
        if errors:
            raise RequestRejected(
                422,
                "Invalid request.\n\n" + "\n".join(errors),
                f"body invalid: {'; '.join(errors)}",
                status="422",
            )

    def response_problems(self, operation: str, status: int, payload: Any) -> list[str]:
        validator = _validator(operation, str(status))
        return _schema_errors(validator, payload) if validator is not None else []

    def response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        return (operation_entry(operation)["responses"].get(str(status)) or {}).get("schema")


OPENAPI: OpenAPIContract = OpenAPI()


def checked_fake(**options: Any) -> FakeGitHub:
    """A FakeGitHub (app id ``APP_ID``, the session key pair) held to GitHub's OpenAPI.
    Without ``../shared`` the calling test is skipped here (``tests.shared``), not when the
    fake first checks a request."""
    shared_dir()
    options.setdefault("app_id", APP_ID)
    options.setdefault("public_key_pem", generate_app_key()[1])
    return FakeGitHub(openapi=OPENAPI, **options)


@pytest.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    """A started, OpenAPI-checked FakeGitHub; must be clean at teardown."""
    fake = checked_fake()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    fake.assert_clean()
