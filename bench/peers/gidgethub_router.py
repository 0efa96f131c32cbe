"""A peer of the webhook receiver: aiohttp with gidgethub, as gidgethub's docs write a bot.

``POST /webhook`` reads the body, builds the event with
``gidgethub.sansio.Event.from_http(headers, body, secret=...)`` (signature check and JSON
decoding), dispatches it through a ``gidgethub.routing.Router`` with one handler, for
``issues.opened``, and answers 202; a bad or missing signature is 401, a body that is not
JSON 4xx. ``GET /healthz`` answers 200.
Run: ``python -m bench.peers.gidgethub_router --port 8002`` (secret in GITHUB_WEBHOOK_SECRET).
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web
from gidgethub import BadRequest, ValidationFailure, routing, sansio

from bench.baseline import SECRET_ENV


def make_app(secret: str) -> web.Application:
    router = routing.Router()
    opened = {"count": 0}

    @router.register("issues", action="opened")
    async def issue_opened(event: sansio.Event) -> None:
        # What a bot's handler reads first; nothing is sent to GitHub.
        opened["count"] += 1
        _ = event.data["issue"]["number"], event.data["repository"]["full_name"]

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = sansio.Event.from_http(request.headers, body, secret=secret)
        except ValidationFailure:
            return web.json_response({"error": "Invalid signature"}, status=401)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=exc.status_code)
        await router.dispatch(event)
        return web.json_response({"status": "queued"}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "issuesOpened": opened["count"]})

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/webhook", webhook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(
        make_app(os.environ.get(SECRET_ENV, "bench-secret")),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
