"""What the tracking page's poll schedule saves the server (issue 17, item 7).

    python -m bench.tracking_polls [--polls 400]

Prints, per open tracking page, the polls an hour under the old fixed 5 s schedule and under
bot.rules.poll_schedule (quiet, a busy ticket, a closed one), then measures what one poll
costs this server (``GET /api/tickets/{publicId}`` with the token, in process, SQLite) and
what 1,000 pages left open for an hour cost in server CPU under each schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import RateLimits, Settings
from bot.rules import poll_schedule
from storage import migrate
from storage.database import Database
from storage.models import Product
from storage.repos.products import ProductRepo

HOUR = 3600.0
PAGES = 1000
SUBMISSION = {
    "submitterEmail": "agent@example.com",
    "submitterName": "AI Agent v2",
    "subject": "Login button unresponsive on Safari",
    "body": "Steps: open Safari 17, click Sign In.",
    "productSlug": "my-saas-app",
}


def schedules() -> list[tuple[str, int, int]]:
    """(situation, old polls an hour, new polls an hour)."""
    fixed = int(HOUR // poll_schedule.BASE_SECONDS)
    busy = [600.0 * n for n in range(1, 6)]  # a ticket that moves every ten minutes
    return [
        ("nothing changes", fixed, len(poll_schedule.poll_times(HOUR))),
        ("moves every 10 min", fixed, len(poll_schedule.poll_times(HOUR, busy))),
        ("closed", fixed, 0),
    ]


async def poll_cost(polls: int) -> float:
    """Server seconds of one status poll (median of ``polls``), the page's own request."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        db = Database(url)
        await migrate.upgrade(db.engine)
        async with db.begin() as session:
            await ProductRepo(session).add(
                Product(slug="my-saas-app", name="App", repo_owner="o", repo_name="app")
            )
        settings = Settings(run_workers=False, rate_limits=RateLimits(0, 0, 0, 0))
        client = TestClient(TestServer(create_app(settings, db=db)))
        await client.start_server()
        try:
            opened = await client.post("/api/tickets", json=SUBMISSION)
            assert opened.status == 201, await opened.text()
            created = await opened.json()
            public_id, token = created["publicId"], created["trackingToken"]
            times = []
            for _ in range(polls):
                started = time.perf_counter()
                resp = await client.get(
                    f"/api/tickets/{public_id}", headers={"X-Tracking-Token": token}
                )
                await resp.read()
                assert resp.status == 200, resp.status
                times.append(time.perf_counter() - started)
        finally:
            await client.close()
            await db.dispose()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=400)
    args = parser.parse_args()
    cost = asyncio.run(poll_cost(args.polls))
    print(
        f"one poll: {cost * 1000:.2f} ms (median of {args.polls}; client and server in one "
        "process on SQLite, so an upper bound on the server's time)"
    )
    print(f"{'situation':<22}{'old/h':>8}{'new/h':>8}{'old s/h':>14}{'new s/h':>14}")
    print(f"{'':<22}{'per page':>16}{f'for {PAGES:,} pages':>28}")
    for situation, old, new in schedules():
        print(
            f"{situation:<22}{old:>8}{new:>8}{old * PAGES * cost:>14.1f}{new * PAGES * cost:>14.1f}"
        )


if __name__ == "__main__":
    main()
