"""TinyDesk's MCP server (issue 18), driven by the MCP SDK's own client over both transports:
``tinydesk mcp`` launched by ``stdio_client``, and the ``/mcp`` endpoint of a real
``tinydesk serve`` (TINYDESK_MCP=true) through ``streamable_http_client``. Both talk to that
same server, whose HTTP API does the work; nothing of MCP or HTTP is faked.

The server (products alpha and beta, desk keys made through the admin API) is shared by the
module; each test makes the tickets it reads. Its log must end with no traceback or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from bot.cli import main
from bot.config import ConfigError, Settings
from bot.sim.stack import ServerProcess, free_port
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import make_key

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"submit_ticket", "get_ticket_status", "list_tickets", "get_ticket", "add_comment"}
# Low enough for one test to reach it, high enough for every other key's test to stay under.
DESK_RATE_LIMIT = 30
TRANSPORTS = ["stdio", "http"]


def checkout_env(**more: str) -> dict[str, str]:
    """The subprocesses run this checkout's code, whatever the venv's editable install says."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, **more}


@dataclasses.dataclass
class Desk:
    """The running ``tinydesk serve`` and its desk keys."""

    url: str
    folder: Path
    all_products: str  # a desk key of every product
    alpha_only: str  # a desk key limited to product alpha
    stdio_log: TextIO  # what the `tinydesk mcp` processes write on stderr

    def mcp_url(self) -> str:
        return f"{self.url}/mcp"


def serve_env(database_url: str) -> dict[str, str]:
    return checkout_env(
        DATABASE_URL=database_url,
        TINYDESK_ADMIN_TOKEN=ADMIN_TOKEN,
        TINYDESK_MCP="true",
        TINYDESK_PUBLIC_CREATE_RATE_LIMIT="0",
        TINYDESK_DESK_RATE_LIMIT=str(DESK_RATE_LIMIT),
    )


async def new_key(url: str, name: str, products: tuple[str, ...] = ()) -> str:
    async with aiohttp.ClientSession(base_url=url) as http:
        return (await make_key(http, name, products))["key"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("mcp")
    env = serve_env(f"sqlite+aiosqlite:///{folder / 'tinydesk.db'}")
    for slug in ("alpha", "beta"):
        assert main(["products", "add", slug, "--repo", f"octo-org/{slug}"], env) == 0
    server = ServerProcess(env, folder / "serve.log")
    stdio_log = open(folder / "mcp-stdio.log", "w+")
    try:
        server.wait_ready()
        yield Desk(
            server.url,
            folder,
            all_products=asyncio.run(new_key(server.url, "Agent (all)")),
            alpha_only=asyncio.run(new_key(server.url, "Agent (alpha)", ("alpha",))),
            stdio_log=stdio_log,
        )
    finally:
        server.stop()
        stdio_log.close()
    for log in (server.log(), (folder / "mcp-stdio.log").read_text()):
        assert "Traceback" not in log, log[-4000:]
        assert '"level": "error"' not in log, log[-4000:]


@contextlib.asynccontextmanager
async def over_stdio(desk: Desk, key: str | None = None, url: str | None = None):
    """``tinydesk mcp`` as an agent launches it, with TINYDESK_API_KEY when given."""
    env = checkout_env(**({"TINYDESK_API_KEY": key} if key else {}))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bot.cli", "mcp", "--url", url or desk.url],
        env=env,
        cwd=str(desk.folder),
    )
    async with stdio_client(params, errlog=desk.stdio_log) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


@contextlib.asynccontextmanager
async def over_http(desk: Desk, key: str | None = None):
    """The /mcp endpoint, with ``Authorization: Bearer <key>`` when given."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(desk.mcp_url(), http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def connect(transport: str, desk: Desk, key: str | None = None):
    return over_stdio(desk, key) if transport == "stdio" else over_http(desk, key)


async def api(desk: Desk, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """TinyDesk's HTTP API called directly, to compare the tools' answers with."""
    async with aiohttp.ClientSession(base_url=desk.url) as http:
        async with http.request(method, path, **kwargs) as resp:
            return resp.status, await resp.json()


def submission(product: str = "alpha", **overrides: Any) -> dict[str, Any]:
    return {
        "productSlug": product,
        "submitterEmail": "dana@example.com",
        "subject": f"Export fails ({time.monotonic_ns()})",
        "body": "The CSV export stops at 1000 rows.",
        **overrides,
    }


async def submitted(session: ClientSession, **overrides: Any) -> dict[str, Any]:
    result = await session.call_tool("submit_ticket", submission(**overrides))
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_of(result: Any) -> tuple[str, dict[str, Any]]:
    """A tool error's text and structured body; fails if the call did not fail."""
    assert result.is_error, result
    return result.content[0].text, result.structured_content


# --------------------------------------------------------------------------- the surface


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_each_transport_lists_the_five_tools_and_the_ticket_resource(desk, transport):
    # What an agent discovers first: every tool, with the API's own argument names.
    async with connect(transport, desk) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        templates = (await session.list_resource_templates()).resource_templates
    assert set(tools) == TOOLS
    submit = tools["submit_ticket"].input_schema
    assert set(submit["required"]) == {"productSlug", "submitterEmail", "subject", "body"}
    assert {"submitterName", "screenshots", "callbackUrl", "idempotencyKey"} <= set(
        submit["properties"]
    )
    assert [t.uri_template for t in templates] == ["ticket://{publicId}{?token}"]


# --------------------------------------------------------------------------- public tools


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_submit_ticket_returns_the_public_id_and_tracking_link_of_a_stored_ticket(
    desk, transport
):
    # The seed-000 submission through MCP makes a real ticket the submitter can track.
    async with connect(transport, desk) as session:
        ticket = await submitted(session, subject="Login loops on Safari")
    public_id, token = ticket["publicId"], ticket["trackingToken"]
    assert public_id.startswith("TK-") and ticket["status"] == "RECEIVED"
    assert ticket["trackingUrl"] == f"{desk.url}/track/{public_id}?token={token}"
    status, view = await api(desk, "GET", f"/api/tickets/{public_id}", params={"token": token})
    assert status == 200 and view["subject"] == "Login loops on Safari"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_invalid_submission_is_a_tool_error_with_the_apis_own_words(desk, transport):
    # Validation is the API's, not a second one: the same body sent to POST /api/tickets
    # gives the very error, hint and fields the tool error carries.
    bad = submission(submitterEmail="not-an-address", subject="   ", screenshots=["ftp://x"])
    status, expected = await api(desk, "POST", "/api/tickets", json=bad)
    assert status == 400 and {"submitterEmail", "subject", "screenshots"} <= set(expected["fields"])
    async with connect(transport, desk) as session:
        text, body = error_of(await session.call_tool("submit_ticket", bad))
    assert body == {"status": 400, **expected}
    assert text.startswith(f"{expected['error']} (HTTP 400): {expected['hint']}")
    for field, message in expected["fields"].items():
        assert f"- {field}: {message}" in text


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_unknown_product_is_the_apis_404(desk, transport):
    async with connect(transport, desk) as session:
        text, body = error_of(
            await session.call_tool("submit_ticket", submission(product="no-such-product"))
        )
    assert body["status"] == 404 and body["error"] == "Product not found"
    assert "no-such-product" in text


async def test_an_idempotency_key_makes_a_retried_submission_one_ticket(desk):
    # An agent that retries after a timeout gets its first ticket back, not a second one.
    key = f"mcp-retry-{time.monotonic_ns()}"
    call = submission()
    async with over_http(desk) as session:
        first = await session.call_tool("submit_ticket", {**call, "idempotencyKey": key})
        again = await session.call_tool("submit_ticket", {**call, "idempotencyKey": key})
        other = await session.call_tool(
            "submit_ticket", {**call, "subject": "Another", "idempotencyKey": key}
        )
    assert not first.is_error and first.structured_content == again.structured_content
    assert error_of(other)[1]["status"] == 409


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_ticket_status_shows_the_subject_only_with_the_tracking_token(desk, transport):
    # The pipeline view is the API's: without the token no subject, with it the subject.
    async with connect(transport, desk) as session:
        ticket = await submitted(session, subject="Invoices show the wrong VAT")
        public_id = ticket["publicId"]
        bare = await session.call_tool("get_ticket_status", {"publicId": public_id})
        tracked = await session.call_tool(
            "get_ticket_status", {"publicId": public_id, "trackingToken": ticket["trackingToken"]}
        )
        unknown = await session.call_tool("get_ticket_status", {"publicId": "TK-99999"})
    assert not bare.is_error and not tracked.is_error
    assert bare.structured_content["publicId"] == public_id
    assert bare.structured_content["pipeline"][0]["stage"] == "RECEIVED"
    assert "subject" not in bare.structured_content
    assert tracked.structured_content["subject"] == "Invoices show the wrong VAT"
    _, expected = await api(desk, "GET", f"/api/tickets/{public_id}")
    assert bare.structured_content == expected
    assert error_of(unknown)[1]["status"] == 404


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_ticket_resource_is_the_status_view(desk, transport):
    # ticket://TK-… reads the tracking view; ?token= adds the subject; an unknown ticket is
    # the SDK's resource-not-found error carrying the API's message.
    async with connect(transport, desk) as session:
        ticket = await submitted(session, subject="Dark mode resets")
        uri = f"ticket://{ticket['publicId']}"
        bare = await session.read_resource(uri)
        tracked = await session.read_resource(f"{uri}?token={ticket['trackingToken']}")
        with pytest.raises(MCPError, match="Ticket not found"):
            await session.read_resource("ticket://TK-99999")
    view = json.loads(bare.contents[0].text)
    assert bare.contents[0].mime_type == "application/json"
    assert view["publicId"] == ticket["publicId"] and "subject" not in view
    assert json.loads(tracked.contents[0].text)["subject"] == "Dark mode resets"


# --------------------------------------------------------------------------- desk tools


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_desk_tools_without_a_key_are_refused_saying_how_to_give_one(desk, transport):
    # No key: the public tools work, and each desk tool answers a clear error, never a call.
    how = "TINYDESK_API_KEY" if transport == "stdio" else "Authorization: Bearer"
    async with connect(transport, desk) as session:
        calls = [
            await session.call_tool("list_tickets", {}),
            await session.call_tool("get_ticket", {"id": "TK-00001"}),
            await session.call_tool("add_comment", {"id": "TK-00001", "body": "Hello"}),
        ]
    for result in calls:
        text, body = error_of(result)
        assert body["error"] == "Desk key required" and body["status"] is None
        assert how in text


async def test_a_wrong_key_gets_the_apis_401(desk):
    status, expected = await api(
        desk, "GET", "/api/v1/desk/tickets", headers={"Authorization": "Bearer td_live_nope"}
    )
    async with over_http(desk, "td_live_nope") as session:
        _, body = error_of(await session.call_tool("list_tickets", {}))
    assert status == 401 and body == {"status": 401, **expected}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_desk_tools_with_a_key_list_read_and_comment(desk, transport):
    # With a key the desk tools are the desk API: the list finds the ticket (filters and
    # search passed on), get_ticket shows it, and a public comment reaches the submitter
    # while an internal note does not.
    async with connect(transport, desk, desk.all_products) as session:
        marker = f"retries{time.monotonic_ns()}"  # a word no other ticket has
        ticket = await submitted(session, product="beta", subject=f"Webhook {marker} pile up")
        public_id = ticket["publicId"]
        listed = await session.call_tool("list_tickets", {"q": marker, "limit": 5})
        filtered = await session.call_tool("list_tickets", {"status": "closed"})
        bad_filter = await session.call_tool("list_tickets", {"priority": "whenever"})
        shown = await session.call_tool("get_ticket", {"id": public_id})
        public = await session.call_tool("add_comment", {"id": public_id, "body": "We are on it."})
        internal = await session.call_tool(
            "add_comment", {"id": shown.structured_content["id"], "body": "Dup?", "internal": True}
        )
        empty = await session.call_tool("add_comment", {"id": public_id, "body": " "})
        tracked = await session.call_tool(
            "get_ticket_status", {"publicId": public_id, "trackingToken": ticket["trackingToken"]}
        )
    assert [t["publicId"] for t in listed.structured_content["tickets"]] == [public_id]
    assert public_id not in [t["publicId"] for t in filtered.structured_content["tickets"]]
    assert error_of(bad_filter)[1]["error"] == "Invalid priority"
    assert shown.structured_content["publicId"] == public_id
    assert not public.is_error and not internal.is_error
    assert internal.structured_content["internal"] is True
    assert error_of(empty)[1]["status"] == 400
    comments = [c["body"] for c in tracked.structured_content["comments"]]
    assert "We are on it." in comments and "Dup?" not in comments


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_key_of_one_product_never_sees_another_products_ticket(desk, transport):
    # The key's scope is the API's: beta's ticket is neither listed, shown nor commented on
    # through a key limited to alpha (the API's 404, as for a ticket that does not exist).
    async with over_http(desk) as public:
        beta = (await submitted(public, product="beta"))["publicId"]
        alpha = (await submitted(public, product="alpha"))["publicId"]
    async with connect(transport, desk, desk.alpha_only) as session:
        listed = await session.call_tool("list_tickets", {"limit": 100})
        shown = await session.call_tool("get_ticket", {"id": beta})
        commented = await session.call_tool("add_comment", {"id": beta, "body": "Hi"})
        own = await session.call_tool("get_ticket", {"id": alpha})
    ids = [t["publicId"] for t in listed.structured_content["tickets"]]
    assert alpha in ids and beta not in ids
    for result in (shown, commented):
        _, body = error_of(result)
        assert body["status"] == 404 and body["error"] == "Ticket not found"
    assert not own.is_error


async def test_a_ticket_id_cannot_climb_to_another_route(desk):
    # The id is one path segment, escaped: dots and slashes reach the desk API as an
    # unknown ticket, never as /api/admin/… or another desk route.
    async with over_http(desk, desk.all_products) as session:
        for ref in ("..", "../../admin/keys", "x/../../stats", "TK-1?limit=1"):
            result = await session.call_tool("get_ticket", {"id": ref})
            assert error_of(result)[1]["status"] == 404, ref


async def test_an_argument_sent_as_a_header_cannot_add_a_header(desk):
    # trackingToken and idempotencyKey travel as headers: a line break in one is refused,
    # saying which, and nothing is sent.
    async with over_http(desk) as session:
        token = await session.call_tool(
            "get_ticket_status", {"publicId": "TK-00001", "trackingToken": "t\r\nX-Evil: 1"}
        )
        key = await session.call_tool(
            "submit_ticket", {**submission(), "idempotencyKey": "k\nX-Evil: 1"}
        )
    assert error_of(token)[1]["error"] == "Invalid X-Tracking-Token"
    assert error_of(key)[1]["error"] == "Invalid Idempotency-Key"


async def test_the_desk_rate_limit_reaches_the_agent_as_a_tool_error(desk):
    # The limits are the API's: the call over a key's per-minute limit is its 429, with
    # the seconds to wait.
    key = await new_key(desk.url, "Agent (limited)")
    async with over_http(desk, key) as session:
        for _ in range(DESK_RATE_LIMIT):
            assert not (await session.call_tool("list_tickets", {"limit": 1})).is_error
        text, body = error_of(await session.call_tool("list_tickets", {"limit": 1}))
    assert body["status"] == 429 and body["retryAfter"] > 0
    assert "(HTTP 429)" in text


# --------------------------------------------------------------------------- the HTTP endpoint


def rpc(method: str, params: dict[str, Any], ident: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}


INITIALIZE = rpc(
    "initialize",
    {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw-http", "version": "0"},
    },
    1,
)
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def test_a_session_answers_only_the_key_that_opened_it(desk):
    # A session id alone is worth nothing: sent with another key, or none, it is unknown.
    async with httpx2.AsyncClient(timeout=30) as http:
        opened = await http.post(
            desk.mcp_url(),
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Authorization": f"Bearer {desk.alpha_only}"},
        )
        assert opened.status_code == 200, opened.text
        session = {
            **MCP_HEADERS,
            "Mcp-Session-Id": opened.headers["mcp-session-id"],
            "Mcp-Protocol-Version": "2025-11-25",
        }
        call = rpc("tools/call", {"name": "list_tickets", "arguments": {}}, 2)
        for other in ({"Authorization": f"Bearer {desk.all_products}"}, {}):
            refused = await http.post(desk.mcp_url(), json=call, headers={**session, **other})
            assert refused.status_code == 404, refused.text
        own = {**session, "Authorization": f"Bearer {desk.alpha_only}"}
        answered = await http.post(desk.mcp_url(), json=call, headers=own)
        assert answered.status_code == 200
        assert answered.headers["content-type"].startswith("text/event-stream")
        assert '"hasMore"' in answered.text  # the desk API's list, as server-sent events
        ended = await http.delete(desk.mcp_url(), headers=own)
        assert ended.status_code in (200, 204)


async def test_a_page_of_another_origin_is_refused(desk):
    # The MCP specification's Origin check: another site's page cannot drive /mcp.
    async with httpx2.AsyncClient(timeout=30) as http:
        foreign = await http.post(
            desk.mcp_url(),
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Origin": "https://evil.example"},
        )
        same = await http.post(
            desk.mcp_url(),
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Origin": desk.url},
        )
    assert foreign.status_code == 403 and foreign.json()["error"] == "Origin not allowed"
    assert same.status_code == 200


async def test_without_tinydesk_mcp_serve_has_no_mcp_endpoint(client):
    # Off unless TINYDESK_MCP=true (the conftest's app has the default settings).
    resp = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert resp.status == 404


@pytest.mark.slow
async def test_serve_stops_at_once_with_an_mcp_session_listening(tmp_path, sqlite_template):
    # An open session keeps an event stream open; the stop ends the sessions first, so it
    # is not held for the 30 s aiohttp gives requests in flight.
    database = tmp_path / "tinydesk.db"
    shutil.copy(sqlite_template, database)
    server = ServerProcess(serve_env(f"sqlite+aiosqlite:///{database}"), tmp_path / "serve.log")
    try:
        await asyncio.to_thread(server.wait_ready)
        stopped = Desk(server.url, tmp_path, "", "", sys.stderr)
        async with over_http(stopped) as session:
            await session.list_tools()
            await asyncio.sleep(0.5)  # the client's event stream (GET /mcp) is open by now
            started = time.monotonic()
            server.process.terminate()
            await asyncio.to_thread(server.process.wait, 20)
            took = time.monotonic() - started
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log()[-3000:]
    assert took < 15, took  # a held stop waits the 30 s grace
    assert "Traceback" not in server.log()


# --------------------------------------------------------------------------- stdio and settings


async def test_an_unreachable_tinydesk_is_a_tool_error_not_a_crash(desk):
    gone = f"http://127.0.0.1:{free_port()}"
    async with over_stdio(desk, url=gone) as session:
        text, body = error_of(await session.call_tool("get_ticket_status", {"publicId": "TK-1"}))
    assert body["error"] == "TinyDesk unreachable" and gone in text


def test_tinydesk_mcp_refuses_a_url_that_is_not_http(capsys):
    assert main(["mcp", "--url", "ftp://desk.example"], {}) == 2
    assert "--url must be an http(s) URL" in capsys.readouterr().err


def test_the_mcp_settings_are_read_and_checked():
    settings = Settings.from_env(
        {
            "TINYDESK_MCP": "true",
            "TINYDESK_URL": "https://desk.example/",
            "TINYDESK_API_KEY": " td_live_x ",
        }
    )
    assert settings.mcp_endpoint and settings.tinydesk_url == "https://desk.example"
    assert settings.desk_api_key == "td_live_x" and "td_live_x" not in repr(settings)
    assert not Settings.from_env({}).mcp_endpoint
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"TINYDESK_MCP": "perhaps", "TINYDESK_URL": "desk.example"})
    assert len(raised.value.problems) == 2
