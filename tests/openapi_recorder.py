"""Records every JSON response the app sends during a test and checks it against the
OpenAPI document (bot/api/openapi/), so the spec cannot drift from what the code answers."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.api.openapi import SPEC
from bot.http.middleware import is_json_path

SPEC_URI = "urn:tinydesk:openapi"
_PARAM = re.compile(r"\{[^}]*\}")


def template_key(path: str) -> str:
    """``/api/tickets/{public_id}`` and ``/api/tickets/{publicId}`` are the same path."""
    return _PARAM.sub("{}", path)


def _pointer_part(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


class ResponseRecorder:
    def __init__(self, spec: dict[str, Any] = SPEC) -> None:
        self.spec = spec
        self.paths = {template_key(p): p for p in spec["paths"]}
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self.seen: list[tuple[str, str, int, Any]] = []

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        """``on_response_prepare`` hook: keep the routed JSON responses."""
        resource = request.match_info.route.resource
        if resource is None or request.method == "HEAD":
            return  # no route matched: aiohttp's own 404/405
        if not is_json_path(request.path):
            return  # a page (its refusals of unstorable input are JSON, but it has no spec)
        if response.content_type != "application/json" or not isinstance(response, web.Response):
            return
        raw = response.body
        body = json.loads(raw) if isinstance(raw, bytes | bytearray) and raw else None
        self.seen.append((request.method.lower(), resource.canonical, response.status, body))

    def problems(self) -> list[str]:
        found = []
        for method, path, status, body in self.seen:
            where = f"{method.upper()} {path} -> {status}"
            spec_path = self.paths.get(template_key(path))
            operation = self.spec["paths"].get(spec_path, {}).get(method)
            if operation is None:
                found.append(f"{where}: operation not in the OpenAPI document")
                continue
            response = operation["responses"].get(str(status))
            if response is None:
                found.append(f"{where}: status not documented")
                continue
            if "content" not in response:
                found.append(f"{where}: documented without a JSON body")
                continue
            pointer = "/".join(
                _pointer_part(p)
                for p in (
                    "paths",
                    spec_path,
                    method,
                    "responses",
                    str(status),
                    "content",
                    "application/json",
                    "schema",
                )
            )
            validator = Draft202012Validator(
                {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self.registry
            )
            for error in validator.iter_errors(body):
                found.append(f"{where}: {error.message} at {list(error.absolute_path)}")
        return found

    def assert_valid(self) -> None:
        problems = self.problems()
        assert not problems, "responses that do not match the OpenAPI document:\n" + "\n".join(
            problems
        )
