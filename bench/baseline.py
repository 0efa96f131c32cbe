"""The baseline: a bare aiohttp server doing the least each TinyDesk endpoint must do.

``GET /json`` answers a small JSON object; ``POST /webhook`` reads the body, checks its
``X-Hub-Signature-256`` HMAC and answers 202. Run: ``python -m bench.baseline --port 8001``;
with ``--uvloop`` the same app runs on uvloop's event loop (a peer of the ``peers`` scenario).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac

from aiohttp import web

SECRET_ENV = "GITHUB_WEBHOOK_SECRET"


def make_app(secret: str) -> web.Application:
    key = secret.encode()

    async def small_json(request: web.Request) -> web.Response:
        return web.json_response({"publicId": "TK-00042", "status": "PR_OPEN"})

    async def verified_webhook(request: web.Request) -> web.Response:
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            return web.json_response({"error": "Invalid signature"}, status=401)
        return web.json_response({"status": "queued"}, status=202)

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_get("/json", small_json)
    app.router.add_get("/healthz", small_json)
    app.router.add_post("/webhook", verified_webhook)
    return app


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    args = parser.parse_args()
    loop = None
    if args.uvloop:
        import uvloop  # the test extras; the peers scenario skips this server without it

        loop = uvloop.new_event_loop()
    web.run_app(
        make_app(os.environ.get(SECRET_ENV, "bench-secret")),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        loop=loop,
    )


if __name__ == "__main__":
    main()
