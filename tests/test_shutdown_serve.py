"""``tinydesk serve`` stops cleanly on SIGINT and SIGTERM, under load, on every backend.

Each round starts a real server (a fake GitHub behind it, so the outbox works too), posts
signed webhook deliveries and public ticket submissions at it from many connections at
once, and signals it mid-load: SIGTERM or SIGINT in turn, and every third round the other
signal as well while it is already stopping (a process manager that insists). Then:

- the process exits 0 having finished its cleanup, and its log holds no traceback and no
  error;
- every delivery answered 202 and every ticket answered 201 is in the database (the group
  commit was flushed and each ack was given only once its delivery was stored);
- no delivery and no job is left claimed ("processing"): the workers finished what they had
  in hand, or handed it back.

The rounds share one database, as restarts do. ``TINYDESK_SHUTDOWN_ROUNDS`` sets how many
per backend (3 by default; ``.ci/run`` asks for 20).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.cli import main
from bot.cli.receive import delivery_headers
from bot.sim.hookshot import new_delivery_id
from bot.sim.payloads import PayloadBuilder, encode
from bot.sim.stack import ServerProcess, github_env, start_fake

ROUNDS = int(os.environ.get("TINYDESK_SHUTDOWN_ROUNDS", "3"))
OWNER, REPO, INSTALLATION_ID = "shut-org", "shut-app", 77
FULL_NAME = f"{OWNER}/{REPO}"
SECRET = "shutdown-webhook-secret"
CONNECTIONS = 12
LOAD_SECONDS = 0.6  # of load before the signal


class Load:
    """Clients posting until the server is gone; what it acknowledged is kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deliveries: list[str] = []  # ids answered 202
        self.tickets: list[int] = []  # ticket ids answered 201
        self.refused: list[str] = []  # answers that were neither (a bug unless empty)
        self.builder = PayloadBuilder()
        self.numbers = itertools.count(1)

    async def delivery(self, http: aiohttp.ClientSession) -> None:
        event, payload = self.builder.make_event(
            "issues.opened", repo=FULL_NAME, installation_id=INSTALLATION_ID,
            issue_number=next(self.numbers),
        )
        body, delivery_id = encode(payload), new_delivery_id()
        headers = delivery_headers(event, body, SECRET, delivery_id=delivery_id)
        async with http.post(f"{self.url}/webhooks/github", data=body, headers=headers) as resp:
            await resp.read()
            if resp.status == 202:
                self.deliveries.append(delivery_id)
            else:
                self.refused.append(f"delivery: {resp.status}")

    async def ticket(self, http: aiohttp.ClientSession) -> None:
        ticket = {
            "productSlug": "app", "submitterEmail": "a@example.com",
            "subject": "Checkout fails", "body": "Steps: press Pay.",
        }
        async with http.post(f"{self.url}/api/tickets", json=ticket) as resp:
            answer = await resp.json(content_type=None)
            if resp.status == 201:
                self.tickets.append(int(answer["publicId"].removeprefix("TK-")))
            else:
                self.refused.append(f"ticket: {resp.status} {answer}")

    async def client(self, n: int, stopped: asyncio.Event) -> None:
        send = self.delivery if n % 3 else self.ticket
        async with aiohttp.ClientSession() as http:
            while not stopped.is_set():
                try:
                    await send(http)
                except (TimeoutError, aiohttp.ClientError):
                    # Refused, or hung up on by a stopping server: never acknowledged.
                    await asyncio.sleep(0.01)


async def one_round(server: ServerProcess, n: int) -> Load:
    load = Load(server.url)
    stopped = asyncio.Event()
    clients = [asyncio.create_task(load.client(i, stopped)) for i in range(CONNECTIONS)]
    await asyncio.sleep(LOAD_SECONDS)
    first, other = (signal.SIGTERM, signal.SIGINT)[:: 1 if n % 2 == 0 else -1]
    server.process.send_signal(first)
    if n % 3 == 2:
        await asyncio.sleep(0.05)
        server.process.send_signal(other)
    with contextlib.suppress(subprocess.TimeoutExpired):  # then server.stop() kills it
        await asyncio.to_thread(server.process.wait, 30)
    stopped.set()
    await asyncio.gather(*clients)
    return load


async def stored(url: str) -> tuple[set[str], set[int], dict[str, int]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            ids = await conn.execute(text("SELECT delivery_id FROM deliveries"))
            deliveries = set(ids.scalars())
            tickets = set((await conn.execute(text("SELECT id FROM tickets"))).scalars())
            claimed = {
                table: await conn.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE state = 'processing'")
                )
                for table in ("deliveries", "jobs")
            }
    finally:
        await engine.dispose()
    return deliveries, tickets, claimed


@pytest.mark.slow
async def test_serve_stops_cleanly_on_signals_under_load(database_url, tmp_path):
    fake = await start_fake(unlimited=True, validate_responses=False)
    fake.add_installation(INSTALLATION_ID, OWNER, [FULL_NAME])
    env = {
        "DATABASE_URL": database_url,
        "TINYDESK_PUBLIC_CREATE_RATE_LIMIT": "0",
        "TINYDESK_PUBLIC_READ_RATE_LIMIT": "0",
        "TINYDESK_PUBLIC_URL": "https://desk.example.test",
        **github_env(fake, SECRET),
    }
    try:
        register = ["products", "add", "app", "--repo", FULL_NAME]
        assert await asyncio.to_thread(main, register, env) == 0
        acknowledged_deliveries: set[str] = set()
        acknowledged_tickets: set[int] = set()
        for n in range(ROUNDS):
            server = ServerProcess(env, tmp_path / f"serve-{n}.log")
            try:
                await asyncio.to_thread(server.wait_ready)
                load = await one_round(server, n)
            finally:
                server.stop()
            log = server.log()
            where = f"round {n + 1} of {ROUNDS}; log:\n{log[-4000:]}"
            assert server.process.returncode == 0, where
            assert "Traceback" not in log, where
            assert '"level": "error"' not in log, where
            assert "TinyDesk stopped" in log, where
            assert not load.refused, (load.refused[:5], where)
            assert load.deliveries and load.tickets, where  # the load reached the server
            acknowledged_deliveries |= set(load.deliveries)
            acknowledged_tickets |= set(load.tickets)
            deliveries, tickets, claimed = await stored(database_url)
            assert acknowledged_deliveries <= deliveries, where
            assert acknowledged_tickets <= tickets, where
            assert claimed == {"deliveries": 0, "jobs": 0}, where
    finally:
        await fake.close()
