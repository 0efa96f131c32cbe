"""JSON in and out: request bodies read safely (JSON only, bounded, always an object), and
``json_response`` for the hot read paths (orjson, not the standard library's encoder)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web

from bot.errors import ApiError

MAX_JSON_BODY = 256 * 1024


async def read_json_object(request: web.Request, *, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The body as a JSON object, or an ApiError: 415 not JSON, 413 too big, 400 malformed."""
    content_type = request.content_type.lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(
            415,
            "Unsupported media type",
            "Send the body as JSON with the header Content-Type: application/json.",
        )
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    raw = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        raw.extend(chunk)
        if len(raw) > limit:
            raise _too_large(limit)
    if not raw.strip():
        raise ApiError(400, "Request body is empty", "Send a JSON object.")
    try:
        value = json.loads(raw.decode("utf-8-sig"))  # some clients (PowerShell) send a BOM
    except UnicodeDecodeError:
        raise ApiError(400, "Malformed JSON", "The body must be UTF-8 encoded JSON.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        hint = getattr(exc, "msg", "too deeply nested")
        pos = getattr(exc, "pos", None)
        where = f" at character {pos}" if pos is not None else ""
        raise ApiError(
            400, "Malformed JSON", f"The body is not valid JSON: {hint}{where}."
        ) from None
    if not isinstance(value, dict):
        raise ApiError(400, "Malformed JSON", "The body must be a JSON object ({...}).")
    return value


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "Request body too large", f"The body may be at most {limit // 1024} KiB.")


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """``web.json_response`` with orjson, for the hot reads (bench/README.md, "Reads")."""
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )
