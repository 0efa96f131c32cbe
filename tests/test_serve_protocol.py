"""What a real ``tinydesk serve`` answers to bytes no HTTP client library would send (issue
13, item 1), over raw sockets: aiohttp's own refusals (a header with NUL, a bad request line,
broken chunked encoding) are our JSON error shape, a client hanging up mid-body is one INFO
line, and none of it leaves a traceback or an ERROR line in the server's log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.sim.stack import ServerProcess

SECRET = "protocol-test-secret"
ADMIN = "protocol-test-admin-token-0123456789abcdef"


def exchange(port: int, data: bytes, *, then: bytes | None = None, timeout: float = 5) -> bytes:
    """Send ``data`` (and ``then`` a moment later), read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if then is not None:
            time.sleep(0.2)
            sock.sendall(then)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def hang_up(port: int, data: bytes, *, reset: bool) -> None:
    """Send part of a request, then close (``reset``: with a TCP RST, as a crashed client)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.sendall(data)
    time.sleep(0.2)
    sock.close()


def parsed(answer: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("serve-protocol")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'tinydesk.db'}",
        "TINYDESK_ADMIN_TOKEN": ADMIN,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "TINYDESK_LOG_LEVEL": "INFO",
    }
    process = ServerProcess(env, folder / "serve.log")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def log_since(server: ServerProcess, mark: int) -> list[dict]:
    time.sleep(0.3)  # the server writes its line after answering
    lines = server.log()[mark:].splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def assert_quiet(entries: list[dict]) -> None:
    """No traceback, nothing at WARNING or above."""
    assert [e for e in entries if e["level"] not in ("info", "debug")] == []
    assert all("exception" not in e and "Traceback" not in e["message"] for e in entries)


MALFORMED = {
    "a header with NUL": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n",
    "a bad request line": b"GARBAGE\r\n\r\n",
    "a raw non-UTF-8 path": b"GET /api/tickets/TK-\xed\xa0\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
    "a bad chunk size": (
        b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    "a header line too long": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: "
    + b"a" * 9000
    + b"\r\n\r\n",
    "a secret in a broken header": (
        b"GET /api/admin/products HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer do-not-log-me\x00\r\n\r\n"
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_what_aiohttp_cannot_parse_is_our_json_400_and_one_info_line(server, name):
    mark = len(server.log())
    status, headers, body = parsed(exchange(server.port, MALFORMED[name]))
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert body["error"] == "Bad request" and body["hint"]
    assert "do-not-log-me" not in body["hint"]
    entries = log_since(server, mark)
    assert_quiet(entries)
    refused = [e for e in entries if e["logger"] == "bot.http.protocol"]
    assert len(refused) == 1, entries
    assert "do-not-log-me" not in json.dumps(entries)


HANG_UPS = {
    "a JSON body": b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"subject": ',
    "a form": b"POST /admin/sign-in HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=a",
    "a webhook": b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=0\r\n"
    b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: d-1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"zen": ',
}


@pytest.mark.parametrize("reset", [False, True], ids=["FIN", "RST"])
@pytest.mark.parametrize("name", list(HANG_UPS))
def test_a_client_hanging_up_mid_body_is_one_info_line(server, name, reset):
    mark = len(server.log())
    hang_up(server.port, HANG_UPS[name], reset=reset)
    entries = log_since(server, mark)
    assert_quiet(entries)
    assert [e["message"] for e in entries] == ["client hung up mid-request"], entries


def test_the_server_still_answers_after_all_of_it(server):
    status, _, body = parsed(
        exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    )
    assert status == 200 and body["database"] == "ok"
    assert "Traceback" not in server.log()


def signed_delivery(delivery_header: bytes, event_header: bytes = b"ping") -> bytes:
    body = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().encode()
    return (
        b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nX-Hub-Signature-256: sha256=" + signature + b"\r\n"
        b"X-GitHub-Event: " + event_header + b"\r\nX-GitHub-Delivery: " + delivery_header + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


@pytest.mark.parametrize(
    ("delivery", "event"),
    [(b"d-\xff\xfe", b"ping"), (b"d-\xed\xa0\x80", b"ping"), (b"d-ok", b"ping\xff")],
)
def test_webhook_headers_that_are_not_utf8_are_refused_not_stored(server, delivery, event):
    """The signature covers the body only: a replayed body with other header bytes would
    have reached the database as lone surrogates (UnicodeEncodeError, a 500)."""
    mark = len(server.log())
    status, _, body = parsed(exchange(server.port, signed_delivery(delivery, event)))
    assert status == 400 and body["error"] == "Bad delivery"
    assert_quiet([e for e in log_since(server, mark) if e["logger"] != "webhooks.receiver"])
    # A proper delivery still goes in.
    status, _, body = parsed(exchange(server.port, signed_delivery(b"d-good-" + event[:2])))
    assert status == 202, body


def test_curl_reproductions_against_the_real_server(server):
    """The issue's reproductions, sent as curl sends them, to the real process."""

    async def run() -> list[int]:
        import aiohttp

        admin = {"Authorization": f"Bearer {ADMIN}"}
        async with aiohttp.ClientSession(server.url) as http:
            statuses = []
            for method, path, data in [
                ("POST", "/api/tickets", b'{"productSlug": "x", "subject": "s\\udbcb"}'),
                ("GET", "/api/admin/deliveries?before=9223372036854775808", None),
                ("GET", "/api/admin/jobs?before=9223372036854775808", None),
                ("POST", "/api/admin/deliveries/9223372036854775808/replay", None),
                ("POST", "/api/admin/jobs/99999999999999999999/replay", None),
                ("GET", "/api/tickets/TK-99999999999999999999", None),
            ]:
                async with http.request(
                    method,
                    path,
                    data=data,
                    headers={**admin, "Content-Type": "application/json"},
                ) as resp:
                    assert resp.content_type == "application/json"
                    assert (await resp.json())["error"]
                    statuses.append(resp.status)
            return statuses

    assert asyncio.run(run()) == [400, 400, 400, 404, 404, 404]
    assert "Traceback" not in server.log()


def ensure_ticket(server: ServerProcess) -> None:
    """TK-00001 exists, so that the tracking token is checked (an unknown id is 404 first)."""
    admin = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
    product = {"slug": "proto", "repo": "octo-org/proto"}
    ticket = {
        "productSlug": "proto",
        "submitterEmail": "a@example.com",
        "subject": "s",
        "body": "b",
    }
    for path, body, headers in [
        ("/api/admin/products", product, admin),
        ("/api/tickets", ticket, {"Content-Type": "application/json"}),
    ]:
        request = urllib.request.Request(
            server.url + path, data=json.dumps(body).encode(), headers=headers
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except urllib.error.HTTPError as exc:
            assert exc.code == 409, exc  # the product from an earlier case


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/admin/products HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer \xff\xfe\r\n\r\n",
        b"GET /api/v1/desk/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer td_live_\xed\xa0\x80\r\n\r\n",
        b"GET /api/tickets/TK-00001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"X-Tracking-Token: \xff\r\n\r\n",
    ],
    ids=["admin bearer", "desk bearer", "tracking token"],
)
def test_credentials_that_are_not_utf8_are_no_credentials(server, request_bytes):
    """aiohttp hands such header bytes over as lone surrogates, which no hash can encode:
    they were a 500 before anyone was authenticated."""
    ensure_ticket(server)
    mark = len(server.log())
    status, _, body = parsed(exchange(server.port, request_bytes))
    # Refused as no key (401), or read as no tracking token: the public view, no subject.
    assert (status == 401 and body["error"]) or (status == 200 and "subject" not in body), body
    assert_quiet(log_since(server, mark))
