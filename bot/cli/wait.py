"""``tinydesk wait``: wait until a server answers ``/healthz``, so a script (and README's
"Five minutes" block) can start ``tinydesk serve &`` and go on once it listens."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from bot.config import Settings

DEFAULT_TIMEOUT = 30.0
# Between two attempts; each attempt may itself take up to ATTEMPT_TIMEOUT.
INTERVAL = 0.1
ATTEMPT_TIMEOUT = 2.0


def register(commands: argparse._SubParsersAction) -> None:
    wait = commands.add_parser(
        "wait",
        help="wait until a server answers /healthz (for scripts: serve &, then wait)",
        description="Wait until the TinyDesk server at URL answers GET /healthz with 200, "
        "then exit 0; exit 1 with one line if it has not after the timeout.",
    )
    wait.add_argument(
        "--url",
        help="the server (default $TINYDESK_PUBLIC_URL, else http://127.0.0.1:$PORT, "
        "PORT defaulting to 8000)",
    )
    wait.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up after this long (default {DEFAULT_TIMEOUT:g})",
    )
    wait.set_defaults(func=cmd_wait)


def cmd_wait(args: argparse.Namespace, settings: Settings) -> int:
    base = (args.url or settings.public_url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    if not base.startswith(("http://", "https://")):
        print(f"tinydesk wait: --url must be an http(s) URL, got {base!r}", file=sys.stderr)
        return 2
    url = base if base.endswith("/healthz") else f"{base}/healthz"
    opener = _opener(url)
    started = time.monotonic()
    deadline = started + max(args.timeout, 0)
    while True:
        last = _attempt(
            opener, url, timeout=max(min(ATTEMPT_TIMEOUT, deadline - time.monotonic()), 0.1)
        )
        if last is None:
            print(f"TinyDesk is up at {base} ({time.monotonic() - started:.1f} s)")
            return 0
        if time.monotonic() >= deadline:
            print(
                f"tinydesk wait: {url} did not answer 200 within {args.timeout:g} s (last: {last})",
                file=sys.stderr,
            )
            return 1
        time.sleep(min(INTERVAL, max(deadline - time.monotonic(), 0)))


def _opener(url: str) -> urllib.request.OpenerDirector:
    """urllib's opener; for a server on this machine, one that ignores ``http_proxy``."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _attempt(opener: urllib.request.OpenerDirector, url: str, *, timeout: float) -> str | None:
    """None when ``url`` answers 200, else what happened instead, in a few words."""
    try:
        with opener.open(url, timeout=timeout) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}{_status_of(exc)}"
    except urllib.error.URLError as exc:
        reason = exc.reason
        return getattr(reason, "strerror", None) or str(reason)
    except (OSError, ValueError) as exc:  # a timeout, a reset, an unusable URL
        return str(exc) or type(exc).__name__


def _status_of(exc: urllib.error.HTTPError) -> str:
    """`` (degraded: database unreachable)`` from a /healthz body, when it says so."""
    try:
        body = json.loads(exc.read(4096))
    except (OSError, ValueError):
        return ""
    if isinstance(body, dict) and body.get("status"):
        return f" ({body['status']}: database {body.get('database', '?')})"
    return ""
