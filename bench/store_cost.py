"""What a webhook acknowledgement costs besides HTTP: the floor under issue 20's ack target.

    python -m bench.store_cost [--postgres-url URL] [--deliveries 4000]

Measures, in this process and in CPU time (steady on a shared machine), each part of what
``POST /webhooks/github`` does with a realistic signed 10-25 KB delivery (the ones
``python -m bench`` posts): verifying the signature, parsing the body, and storing it
through the server's own ``InboxWriter`` (group commit; groups of 1, 8 and 32 deliveries
arriving together) on SQLite and, when reachable, PostgreSQL. On SQLite it also shows the
same INSERT and COMMIT on a bare ``sqlite3`` connection: what SQLite itself costs, which no
code of ours can go under while every delivery is stored before it is answered.

The bare aiohttp endpoint the ratio is taken against (``bench/baseline.py``) verifies the
signature and answers; the difference between the two is these figures plus TinyDesk's own
request handling (bench/README.md, "Webhook ack").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from gidgethub import sansio

from bench import deliveries, seed
from storage.database import Database
from storage.inbox_writer import InboxWriter
from storage.repos.deliveries import SQLITE_INSERT_NEW, IncomingDelivery
from storage.sqlite import pragmas

SECRET = "bench-store-cost"
GROUPS = (1, 8, 32)
_ids = itertools.count()


def _cpu_us_per(count: int, work: Callable[[], object]) -> float:
    started = time.process_time()
    for _ in range(count):
        work()
    return 1e6 * (time.process_time() - started) / count


def _incoming(body: bytes) -> IncomingDelivery:
    return IncomingDelivery(
        delivery_id=f"cost-{next(_ids)}",
        event="issues",
        action="opened",
        installation_id=1,
        payload=body.decode("utf-8"),
    )


async def _writer_us_per(url: str, bodies: list[bytes], total: int, group: int) -> float:
    """CPU per delivery through InboxWriter, ``group`` deliveries handed over at once."""
    db = Database(url)
    writer = InboxWriter(db)
    try:
        await writer.store(_incoming(bodies[0]))  # connections opened, statements compiled
        rounds = max(total // group, 1)
        started = time.process_time()
        for _ in range(rounds):
            await asyncio.gather(
                *(writer.store(_incoming(bodies[i % len(bodies)])) for i in range(group))
            )
        used = time.process_time() - started
        # A writer that stored nothing would look cheap: every delivery must be there.
        [(stored,)] = await db.reader.fetch("SELECT count(*) FROM deliveries")
        expected = 1 + rounds * group  # the warm-up's and the measured ones
        if stored != expected:
            raise SystemExit(f"bench.store_cost: {stored} deliveries stored of {expected}")
        return 1e6 * used / (rounds * group)
    finally:
        await writer.close()
        await db.dispose()


def _bare_sqlite_us_per(path: Path, bodies: list[bytes], total: int, group: int) -> float:
    """The same INSERT and COMMIT on a plain sqlite3 connection with the server's PRAGMAs."""
    connection = pragmas.connect(
        str(path), statements=pragmas.writing(busy_ms=pragmas.LOOP_BUSY_MS, on_loop=True)
    )
    now = "2026-12-07 00:00:00.000000"
    try:
        rounds = max(total // group, 1)
        started = time.process_time()
        for _ in range(rounds):
            connection.execute("BEGIN IMMEDIATE")
            for i in range(group):
                d = _incoming(bodies[i % len(bodies)])
                connection.execute(
                    SQLITE_INSERT_NEW,
                    (d.delivery_id, d.event, d.action, d.installation_id, d.payload, now, now),
                ).fetchone()
            connection.execute("COMMIT")
        return 1e6 * (time.process_time() - started) / (rounds * group)
    finally:
        connection.close()


async def measure(postgres_url: str | None, total: int) -> list[tuple[str, float]]:
    made = deliveries.ack_bodies("octo-org/elsewhere", SECRET)
    bodies = [body for _, _, body in made]
    signatures = [headers["X-Hub-Signature-256"] for _, headers, _ in made]
    rows: list[tuple[str, float]] = []
    rows.append(
        (
            "verify the signature (gidgethub, HMAC-SHA256)",
            _cpu_us_per(
                total,
                lambda: sansio.validate_event(bodies[0], signature=signatures[0], secret=SECRET),
            ),
        )
    )
    rows.append(("parse the body (orjson)", _cpu_us_per(total, lambda: orjson.loads(bodies[0]))))
    with tempfile.TemporaryDirectory(prefix="tinydesk-store-cost-") as tmp:
        workdir = Path(tmp)
        for group in GROUPS:
            async with seed.fresh_database("sqlite", workdir, "") as bench_db:
                assert bench_db.path is not None
                rows.append(
                    (
                        f"SQLite, bare sqlite3 INSERT + COMMIT, groups of {group}",
                        _bare_sqlite_us_per(bench_db.path, bodies, total, group),
                    )
                )
        for group in GROUPS:
            async with seed.fresh_database("sqlite", workdir, "") as bench_db:
                rows.append(
                    (
                        f"SQLite, InboxWriter, groups of {group}",
                        await _writer_us_per(bench_db.url, bodies, total, group),
                    )
                )
        if postgres_url:
            for group in GROUPS:
                async with seed.fresh_database("postgres", workdir, postgres_url) as bench_db:
                    rows.append(
                        (
                            f"PostgreSQL, InboxWriter, groups of {group} (this process only)",
                            await _writer_us_per(bench_db.url, bodies, total, group),
                        )
                    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_cost", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"also measure PostgreSQL (e.g. {seed.DEFAULT_POSTGRES_URL})",
    )
    args = parser.parse_args()
    rows = asyncio.run(measure(args.postgres_url, args.deliveries))
    sizes = [len(body) for _, _, body in deliveries.ack_bodies("octo-org/elsewhere", SECRET)]
    print(f"CPU time per delivery ({min(sizes):,}-{max(sizes):,} byte bodies, this process)")
    print()
    print("| part | µs of CPU |")
    print("| --- | --: |")
    for name, micros in rows:
        print(f"| {name} | {micros:.1f} |")


if __name__ == "__main__":
    main()
