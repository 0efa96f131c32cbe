"""POST /webhooks/github: verify the signature, store the delivery in the inbox, answer 202.

Nothing is stored or acted on before the signature is verified; processing happens later,
in the inbox worker, so GitHub always gets its answer well within its 10 seconds.
"""

from __future__ import annotations

import logging

import orjson
from aiohttp import web
from gidgethub import BadRequest, ValidationFailure, sansio

from bot.appkeys import INBOX_WRITER, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import json_response, shown, unstorable
from bot.jobs.worker import notify_workers
from storage.repos.deliveries import IncomingDelivery
from webhooks.payload import installation_id_of

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_HEADER_TOKEN = 64  # the delivery_id and event columns


@routes.post("/webhooks/github")
async def receive_delivery(request: web.Request) -> web.Response:
    secret = request.app[SETTINGS].github_webhook_secret
    if not secret:
        raise ApiError(503, "Webhooks not configured", "Set GITHUB_WEBHOOK_SECRET on the server.")
    headers = {k.lower(): v for k, v in request.headers.items()}
    delivery_hint = shown(headers.get("x-github-delivery", "")[:MAX_HEADER_TOKEN])
    if "x-hub-signature-256" not in headers:
        log.warning(
            "webhook rejected: no X-Hub-Signature-256", extra={"delivery_id": delivery_hint}
        )
        raise ApiError(
            401, "Missing signature", "GitHub signs every delivery with X-Hub-Signature-256."
        )
    # gidgethub falls back to the SHA-1 header when the SHA-256 one is absent; ours is required.
    headers.pop("x-hub-signature", None)
    try:
        body = await request.read()
    except web.RequestPayloadError:
        # A Content-Encoding the body does not decode as (found by ``python -m fuzz receiver``:
        # "gzip" on a plain body was a 500). GitHub never compresses its deliveries.
        raise ApiError(
            400, "Bad delivery", "The body does not decode as its Content-Encoding says."
        ) from None
    try:
        event = _parse_event(request.content_type, headers, body, secret)
    except ValidationFailure:
        log.warning("webhook rejected: bad signature", extra={"delivery_id": delivery_hint})
        raise ApiError(
            401, "Invalid signature", "The signature does not match GITHUB_WEBHOOK_SECRET."
        ) from None
    except BadRequest:
        if headers.get("content-type", "").startswith("application/json"):
            # gidgethub says 415 when a JSON body does not parse; the type was right.
            raise ApiError(400, "Malformed JSON", "The delivery body is not valid JSON.") from None
        raise ApiError(
            415, "Unsupported media type", "GitHub sends application/json deliveries."
        ) from None
    except (KeyError, ValueError, UnicodeDecodeError):
        raise ApiError(
            400, "Bad delivery", "Send X-GitHub-Event, X-GitHub-Delivery and a JSON body."
        ) from None
    if not isinstance(event.data, dict):
        raise ApiError(400, "Bad delivery", "The body must be a JSON object.")
    delivery_id = event.delivery_id
    if not _is_header_token(delivery_id):
        raise ApiError(
            400, "Bad delivery", "X-GitHub-Delivery must be 1-64 printable ASCII characters."
        )
    if not _is_header_token(event.event):
        raise ApiError(
            400, "Bad delivery", "X-GitHub-Event must be 1-64 printable ASCII characters."
        )
    action = event.data.get("action")
    if isinstance(action, str) and unstorable(action):
        raise ApiError(400, "Bad delivery", "The payload's action must not contain NUL characters.")
    is_new = await request.app[INBOX_WRITER].store(
        IncomingDelivery(
            delivery_id=delivery_id,
            event=event.event,
            action=action[:64] if isinstance(action, str) else None,
            installation_id=installation_id_of(event.data),
            payload=_stored_payload(headers, body, event.data),
        )
    )
    extra = {"delivery_id": delivery_id, "event": event.event, "action": action}
    if is_new:
        notify_workers(request.app)
        # DEBUG: the inbox itself (admin API and pages) records every delivery, and at INFO
        # this line was a sixth of the CPU an acknowledgement costs.
        log.debug("webhook queued", extra=extra)
    else:
        log.info("webhook redelivered; already queued", extra=extra)
    return json_response(
        {"status": "queued" if is_new else "duplicate", "delivery": delivery_id}, status=202
    )


def _is_header_token(value: str | None) -> bool:
    """What GitHub sends in X-GitHub-Delivery (a GUID) and X-GitHub-Event (a word): the
    signature does not cover headers, and aiohttp hands other bytes over as lone surrogates,
    which no database column can store."""
    if not value or len(value) > MAX_HEADER_TOKEN:
        return False
    return value.isascii() and value.isprintable()


def _parse_event(
    content_type: str, headers: dict[str, str], body: bytes, secret: str
) -> sansio.Event:
    """gidgethub's ``Event.from_http``: the signature checked first, then the body parsed;
    JSON bodies (everything GitHub sends today) by orjson (bench/README.md, "Webhook ack")."""
    if content_type != "application/json":
        return sansio.Event.from_http(headers, body, secret=secret)
    sansio.validate_event(body, signature=headers["x-hub-signature-256"], secret=secret)
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        raise ApiError(400, "Malformed JSON", "The delivery body is not valid JSON.") from None
    return sansio.Event(
        data, event=headers["x-github-event"], delivery_id=headers["x-github-delivery"]
    )


def _stored_payload(headers: dict[str, str], body: bytes, data: dict) -> str:
    """The JSON text to keep: the body itself, unless GitHub sent it form-encoded; then the
    JSON as the inbox's parser (orjson) would read it, or a 400 for what it could not (lone
    surrogate escapes, integers beyond 64 bits: found by ``python -m fuzz receiver``)."""
    if headers.get("content-type", "").split(";")[0].strip() == "application/json":
        return body.decode("utf-8")
    try:
        return orjson.dumps(data).decode("utf-8")
    except TypeError:
        raise ApiError(400, "Malformed JSON", "The delivery's JSON is not UTF-8 text.") from None
