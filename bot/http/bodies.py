"""Request bodies read safely, and ``json_response`` for the hot read paths (orjson, not the
standard library's encoder).

Every JSON body and every form post is read here, bounded, and refused as a whole (a 400
naming each field) when it holds what no database column can store: a NUL character
(PostgreSQL refuses it in text), a lone surrogate (JSON allows ``"\\udbcb"``; no UTF-8
encoder does), or a number outside 64 bits. Field rules come after, in ``bot/rules``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

import orjson
from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiDictProxy

from bot.errors import ApiError
from bot.rules.numbers import MAX_ROW_ID

MAX_JSON_BODY = 256 * 1024
MAX_FORM_BODY = 64 * 1024
MAX_FORM_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"
# More problems than this in one body are not worth listing.
MAX_LISTED = 20

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM = web.RequestKey("form", MultiDictProxy[str])

UNSTORABLE_HINT = (
    "Text must be Unicode characters other than NUL (a JSON string may not hold a lone "
    "surrogate escape such as \\udbcb), and numbers must fit in 64 bits."
)
FORM_HINT = "Form fields must be text without NUL characters (%00)."


def unstorable(text: str) -> str | None:
    """What in ``text`` no database can store, or None: ``"NUL characters"`` or the first lone
    surrogate (yarl, aiohttp's header decoding and ``json.loads`` all let them through)."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    char = match.group()
    return "NUL characters" if char == "\x00" else f"lone surrogates ({shown(char)})"


def shown(text: str) -> str:
    """``text`` with NUL and surrogates written as ``\\uXXXX``, safe to echo and to log."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def text_problem(name: str, text: str) -> str | None:
    """The message for ``name`` when ``text`` cannot be stored, or None."""
    problem = unstorable(text)
    return None if problem is None else f"{name} must not contain {problem}"


def unstorable_fields(value: Any) -> dict[str, str]:
    """Every string, key and number in a decoded JSON document that no column can hold, by
    its path (``subject``, ``tags[2]``, ``a.b``). Iterative: as deep as the parser allowed."""
    found: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(found) < MAX_LISTED:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = f"{where}.{shown(key)}" if where else shown(key)
                if problem := text_problem(f"the key {name}", key):
                    found[name] = problem
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))
        elif problem := _scalar_problem(where, item):
            found[where] = problem
    return found


def _scalar_problem(where: str, item: Any) -> str | None:
    if isinstance(item, str):
        return text_problem(where, item)
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, int) and not -MAX_ROW_ID - 1 <= item <= MAX_ROW_ID:
        return f"{where} must fit in 64 bits"
    if isinstance(item, float) and not math.isfinite(item):
        return f"{where} must be a finite number"
    if isinstance(item, float) and item.is_integer() and not -MAX_ROW_ID - 1 <= item <= MAX_ROW_ID:
        # 1e300 is a whole number to JSON Schema (and to the OpenAPI document's limit).
        return f"{where} must fit in 64 bits"
    return None


def unstorable_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The names and values of a form that no column can hold, by name."""
    found: dict[str, str] = {}
    for name, value in pairs:
        if problem := text_problem(shown(name), name) or text_problem(shown(name), value):
            found.setdefault(shown(name), problem)
    return found


def refuse_unstorable(problems: dict[str, str], hint: str = UNSTORABLE_HINT) -> None:
    """A 400 whose ``error`` is the first problem and whose ``fields`` lists them all."""
    if problems:
        raise ApiError(400, next(iter(problems.values())), hint, fields=problems)


async def read_json_object(request: web.Request, *, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The body as a JSON object, or an ApiError: 415 not JSON, 413 too big, 400 malformed or
    holding what cannot be stored."""
    content_type = request.content_type.lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(
            415,
            "Unsupported media type",
            "Send the body as JSON with the header Content-Type: application/json.",
        )
    raw = await _read_bounded(request, limit)
    if not raw.strip():
        raise ApiError(400, "Request body is empty", "Send a JSON object.")
    try:
        # some clients (PowerShell) send a BOM
        value = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "Malformed JSON", "The body must be UTF-8 encoded JSON.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        hint = getattr(exc, "msg", "too deeply nested")
        pos = getattr(exc, "pos", None)
        where = f" at character {pos}" if pos is not None else ""
        raise ApiError(
            400, "Malformed JSON", f"The body is not valid JSON: {hint}{where}."
        ) from None
    except _NotJsonNumber as exc:
        raise ApiError(400, "Malformed JSON", f"The body is not valid JSON: {exc}.") from None
    except ValueError:  # int() refuses more than 4,300 digits
        raise ApiError(
            400, "Malformed JSON", "The body is not valid JSON: a number is too long."
        ) from None
    if not isinstance(value, dict):
        raise ApiError(400, "Malformed JSON", "The body must be a JSON object ({...}).")
    refuse_unstorable(unstorable_fields(value))
    return value


class _NotJsonNumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJsonNumber(f"{name} is not a JSON number")


async def read_form(request: web.Request, *, limit: int = MAX_FORM_BODY) -> MultiDictProxy[str]:
    """A page's form post (URL-encoded UTF-8, as browsers send it), read once per request:
    415 another type, 413 too big, 400 not UTF-8 or a field holding NUL. Pages call this,
    never ``request.post()``, which trusts the client's charset and takes 25 MB."""
    if FORM in request:
        return request[FORM]
    pairs: list[tuple[str, str]] = []
    if request.body_exists:
        pairs = await _form_pairs(request, limit)
    request[FORM] = form = MultiDictProxy(MultiDict(pairs))
    return form


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file sent with a form: the name and type the browser gave, and its bytes."""

    field: str
    filename: str
    content_type: str
    data: bytes


async def read_form_with_files(
    request: web.Request, *, limit: int, file_limit: int, max_files: int
) -> tuple[MultiDictProxy[str], list[Upload]]:
    """A form post that may carry files (``multipart/form-data``), bounded as a whole
    (``limit``), per file (``file_limit``: 413 above it) and in number (``max_files``: 400
    above it); its text fields are checked as ``read_form``'s. A URL-encoded post (no
    files) is read by ``read_form``. Empty file inputs (a browser sends a part with no name
    and no bytes) are left out."""
    if request.content_type.lower() != MULTIPART_TYPE:
        return await read_form(request, limit=limit), []
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    pairs: list[tuple[str, str]] = []
    uploads: list[Upload] = []
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "Malformed form", "Nested multipart bodies are not taken.")
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                data.extend(chunk)
                total += len(chunk)
                if total > limit:
                    raise _too_large(limit)
                if part.filename is not None and len(data) > file_limit:
                    raise ApiError(
                        413,
                        "File too large",
                        f"Each file may be at most {file_limit // (1024 * 1024)} MB.",
                    )
            name = part.name or ""
            if part.filename is not None:
                if not part.filename and not data:
                    continue  # a file input left empty
                uploads.append(
                    Upload(
                        name,
                        # Clients percent-encode awkward characters of the name (RFC 7578 4.2).
                        urllib.parse.unquote(part.filename),
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(data),
                    )
                )
                if len(uploads) > max_files:
                    raise ApiError(
                        400, "Too many files", f"A form may carry at most {max_files} files."
                    )
                continue
            try:
                pairs.append((name, data.decode("utf-8")))
            except UnicodeDecodeError:
                raise ApiError(400, "Malformed form", "The form must be UTF-8 encoded.") from None
            if len(pairs) > MAX_FORM_FIELDS:
                raise ApiError(
                    400, "Malformed form", f"A form may have at most {MAX_FORM_FIELDS} fields."
                )
    except (ValueError, AssertionError, web.RequestPayloadError):
        raise ApiError(
            400, "Malformed form", "The body is not a well-formed multipart/form-data post."
        ) from None
    refuse_unstorable(unstorable_pairs(pairs), FORM_HINT)
    request[FORM] = form = MultiDictProxy(MultiDict(pairs))
    return form, uploads


async def _form_pairs(request: web.Request, limit: int) -> list[tuple[str, str]]:
    charset = (request.charset or "utf-8").lower()
    if request.content_type.lower() != FORM_TYPE or charset != "utf-8":
        raise ApiError(
            415,
            "Unsupported media type",
            f"Send the form as {FORM_TYPE} in UTF-8, as a browser does.",
        )
    raw = await _read_bounded(request, limit)
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise ApiError(400, "Malformed form", "The form must be UTF-8 encoded.") from None
    except ValueError:
        raise ApiError(
            400, "Malformed form", f"A form may have at most {MAX_FORM_FIELDS} fields."
        ) from None
    refuse_unstorable(unstorable_pairs(pairs), FORM_HINT)
    return pairs


async def _read_bounded(request: web.Request, limit: int) -> bytearray:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    raw = bytearray()
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw.extend(chunk)
            if len(raw) > limit:
                raise _too_large(limit)
    except web.RequestPayloadError:
        # e.g. ``Content-Encoding: gzip`` on a body that is not gzip: aiohttp cannot decode it
        raise ApiError(
            400,
            "Malformed body",
            "The body could not be decoded as its Content-Encoding says; send plain JSON.",
        ) from None
    return raw


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "Request body too large", f"The body may be at most {limit // 1024} KiB.")


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """``web.json_response`` with orjson, for the hot reads (bench/README.md, "Reads")."""
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )
