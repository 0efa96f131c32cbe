"""Webhook deliveries for tests, built from the real payload files in ``../shared``.

``make_event("pull_request.closed", merged=True, pr_number=7, repo="octo-org/my-saas-app")``
is the one payload builder (``bot.sim.payloads``) reading every example of
``shared/github-payloads``; this module adds their schemas and the real captures.
``sign`` and ``delivery_headers`` make the HTTP side of a delivery as GitHub's Hookshot does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT7

from bot.cli.receive import delivery_headers as delivery_headers_of
from bot.cli.receive import signature
from bot.sim import hookshot
from bot.sim.payloads import DEFAULT_REPO, PayloadBuilder, encode  # noqa: F401  (re-exported)
from tests.shared import shared_dir

_NOT_PAYLOADS = {"_schemas", "_licenses"}


def payloads_dir() -> Path:
    """``shared/github-payloads`` (octokit examples and their schemas)."""
    return shared_dir() / "github-payloads"


def real_payloads_dir() -> Path:
    """``shared/github-payloads-real`` (captures from other projects; validate nothing there)."""
    return shared_dir() / "github-payloads-real"


# --------------------------------------------------------------------------- files


def all_payload_files() -> Iterator[tuple[str, Path]]:
    """Every example and real capture as ``(event_name, path)``, sorted, schemas excluded."""
    for root in (payloads_dir(), real_payloads_dir()):
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name in _NOT_PAYLOADS:
                continue
            for path in sorted(folder.glob("*.json")):
                yield folder.name, path


def payload_file(event: str, action: str | None, variant: str | None = None) -> Path:
    """The example for an event/action: the ``.with-installation`` one when there is one."""
    return _builder().file(event, action, variant)


def load_payload(path: Path) -> dict[str, Any]:
    """A fresh copy of a payload file."""
    return PayloadBuilder.load(path)


@functools.cache
def _builder() -> PayloadBuilder:
    return PayloadBuilder(payloads_dir())


# --------------------------------------------------------------------------- schemas


@functools.cache
def schema_registry() -> Registry:
    """Every schema of ``_schemas`` (draft-07) under its ``$id``; ``common/<file>`` refs resolve."""
    resources = []
    for path in sorted((payloads_dir() / "_schemas").rglob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], DRAFT7.create_resource(contents)))
    return Registry().with_resources(resources)


def schema_for(event: str, action: str | None) -> dict[str, Any]:
    """The JSON schema of an event/action (``event.schema.json`` for push and ping)."""
    name = "event" if action is None else action
    path = payloads_dir() / "_schemas" / event / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema_errors(event: str, payload: dict[str, Any]) -> list[str]:
    """Why ``payload`` does not validate against its event/action schema (empty when it does)."""
    import jsonschema

    schema = schema_for(event, payload.get("action"))
    validator = jsonschema.Draft7Validator(schema, registry=schema_registry())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
        for error in validator.iter_errors(payload)
    ]


# --------------------------------------------------------------------------- make_event


def make_event(
    name: str, *, variant: str | None = None, **overrides: Any
) -> tuple[str, dict[str, Any]]:
    """``bot.sim.payloads.PayloadBuilder.make_event`` over every example of ``shared/``."""
    return _builder().make_event(name, variant=variant, **overrides)


# --------------------------------------------------------------------------- HTTP side


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends: ``sha256=<hex HMAC of the body>``."""
    return signature(body, secret)


def delivery_headers(
    event_name: str, body: bytes, secret: str, delivery_id: str | None = None
) -> dict[str, str]:
    """The headers of a webhook delivery, signed with ``secret``, with a new delivery id."""
    return delivery_headers_of(
        event_name,
        body,
        secret,
        delivery_id=delivery_id or hookshot.new_delivery_id(),
        agent="GitHub-Hookshot/a1b2c3d",
    )
