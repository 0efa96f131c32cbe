"""Two ``tinydesk serve`` processes on one database never hand out the same publicId."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from bot.cli import main
from bot.sim.stack import ServerProcess

TICKETS = 200


@pytest.mark.slow
async def test_two_servers_taking_tickets_at_once_never_share_a_public_id(database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "TINYDESK_PUBLIC_CREATE_RATE_LIMIT": "0",
        "TINYDESK_PUBLIC_READ_RATE_LIMIT": "0",
    }
    assert await asyncio.to_thread(main, ["products", "add", "app", "--repo", "o/r"], env) == 0
    servers = [ServerProcess(env, tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        ticket = {
            "productSlug": "app",
            "submitterEmail": "a@example.com",
            "subject": "s",
            "body": "b",
        }
        async with aiohttp.ClientSession() as http:

            async def submit(url: str) -> str:
                async with http.post(f"{url}/api/tickets", json=ticket) as resp:
                    assert resp.status == 201, await resp.text()
                    return (await resp.json())["publicId"]

            urls = itertools.islice(itertools.cycle([s.url for s in servers]), TICKETS)
            public_ids = await asyncio.gather(*(submit(url) for url in urls))
            assert len(set(public_ids)) == TICKETS
            # Every id resolves to a stored ticket, through either server.
            for public_id in (public_ids[0], public_ids[-1]):
                for server in servers:
                    async with http.get(f"{server.url}/api/tickets/{public_id}") as resp:
                        assert resp.status == 200
    finally:
        for server in servers:
            server.stop()
    numbers = sorted(int(p.removeprefix("TK-")) for p in public_ids)
    assert numbers[0] >= 1 and len(numbers) == TICKETS
