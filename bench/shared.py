"""The checkout's shared data for the benchmark (``../shared``): GitHub's response shapes.

The fake GitHub reads no ``shared/`` itself; the benchmark hands it GitHub's response
schemas so that its answers carry every required field, as GitHub's do (the bot parses
answers of GitHub's size). Requests and answers are not validated here: that is the tests'
job (tests/fakes.py), and the benchmark measures TinyDesk.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any


def shared_dir() -> Path:
    """The ``shared`` folder next to the checkout, else ``$TINYDESK_SHARED_DIR``."""
    beside = Path(__file__).resolve().parents[1] / ".." / "shared"
    if beside.is_dir():
        return beside.resolve()
    env = os.environ.get("TINYDESK_SHARED_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    raise FileNotFoundError(f"no shared data at {beside}; set TINYDESK_SHARED_DIR")


@functools.cache
def _operations() -> dict[str, Any]:
    path = shared_dir() / "github-openapi" / "operations.deref.json"
    return json.loads(path.read_text(encoding="utf-8"))


class ResponseShapes:
    """An ``OpenAPIContract`` that only gives response schemas (checks nothing)."""

    def check_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        return None

    def response_problems(self, operation: str, status: int, payload: Any) -> list[str]:
        return []

    def response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        return (_operations()[operation]["responses"].get(str(status)) or {}).get("schema")


def response_shapes() -> ResponseShapes | None:
    """The shapes when ``shared/github-openapi`` is there, else None (answers as modelled)."""
    try:
        _operations()
    except (FileNotFoundError, OSError):
        return None
    return ResponseShapes()
