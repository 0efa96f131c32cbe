"""The scenarios: each starts its own servers and databases and returns result rows.

A row: {"scenario", "endpoint", "database", "runs": [figures of each run], plus the medians}.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import json
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

from bench import deliveries, peers, seed
from bench.load import Request, Target, measure, run_python
from bench.procs import SERVER_CPU, Server
from bench.seed import OWNER, REPO, BenchDatabase

SECRET = "bench-webhook-secret"
ADMIN_TOKEN = "bench-admin-token-0123456789-abcdef"
FULL_NAME = f"{OWNER}/{REPO}"
FIGURES = ("rps", "p50_ms", "p95_ms", "p99_ms")


@dataclasses.dataclass
class Config:
    database: str = "sqlite"
    quick: bool = False
    runs: int = 3
    seconds: float = 5.0
    connections: int = 32
    moderate_connections: int = 4
    tracking_tickets: int = 10_000
    journey_tickets: int = 2_000
    # One end-to-end run takes minutes; full mode must end within 15 minutes.
    journey_runs: int = 1
    # Tickets of each several-processes run (1 and then 2 processes).
    process_tickets: int = 500
    million: int = 1_000_000
    soak_seconds: float = 600.0
    postgres_url: str = seed.DEFAULT_POSTGRES_URL
    # A Redis server for the tracking read with its rate limit kept in Redis (REDIS_URL).
    redis_url: str | None = None
    profile_dir: Path | None = None  # py-spy stacks of the server per scenario, when set
    # The end-to-end servers' CPUs: server i on server_cpus[i % len] (--server-cpus).
    server_cpus: tuple[str, ...] = (SERVER_CPU,)
    wrk: str | None = None
    workdir: Path = Path("/tmp")

    @classmethod
    def make(cls, *, quick: bool, **kw) -> Config:
        if quick:
            kw = {
                "runs": 1,
                "seconds": 1.0,
                "connections": 8,
                "tracking_tickets": 300,
                "journey_tickets": 40,
                "process_tickets": 40,
                "million": 5_000,
                **kw,
            }
        return cls(quick=quick, **kw)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def row(scenario: str, endpoint: str, cfg: Config, runs: list[dict], **extra) -> dict:
    result = {
        "scenario": scenario,
        "endpoint": endpoint,
        "database": cfg.database,
        "runs": runs,
        **extra,
    }
    for figure in (*FIGURES, "server_cpu_ms_per_request", "errors", "requests"):
        values = [r[figure] for r in runs if figure in r]
        if values:
            result[figure] = (
                sum(values)
                if figure in ("errors", "requests")
                else round(statistics.median(values), 3)
            )
    return result


def repeat(
    cfg: Config, server: Server, target: Target, *, connections: int | None = None
) -> list[dict]:
    """A short warm-up (imports, caches, connection pools), then the measured runs. Each run
    also records the server's CPU time per request: on a shared machine it is steadier
    than requests/s, so before/after comparisons use it too."""
    connections = connections or cfg.connections
    measure(
        server.url, target, wrk=cfg.wrk, seconds=0.5 if cfg.quick else 1, connections=connections
    )
    runs = []
    if cfg.profile_dir:
        # Named by the server's log (ack, ack-workers, a peer's) and the path: the webhook
        # receivers all take POSTs to one path and would overwrite each other's profile.
        path = (
            target.path_format or (target.paths or [target.posts[0][0] if target.posts else ""])[0]
        )
        name = "".join(c if c.isalnum() else "-" for c in path)[:60]
        stem = server.log_path.stem
        server.profile(
            cfg.profile_dir / f"{cfg.database}-{stem}-{name}.txt", cfg.seconds * cfg.runs
        )
    for _ in range(cfg.runs):
        server.wait_idle()
        cpu = server.cpu_seconds()
        result = measure(
            server.url, target, wrk=cfg.wrk, seconds=cfg.seconds, connections=connections
        )
        used = server.cpu_seconds() - cpu
        result["server_cpu_ms_per_request"] = round(1000 * used / max(result["requests"], 1), 3)
        if result["requests"] == 0:  # nothing answered in the whole run: that is a failure too
            result["errors"] = max(result["errors"], 1)
        runs.append(result)
    server.wait_idle()
    return runs


def tinydesk_env(bench_db: BenchDatabase, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": bench_db.url,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TINYDESK_PUBLIC_URL": "https://desk.example.test",
        "GITHUB_APP_ID": "",
        "GITHUB_PRIVATE_KEY": "",
        **extra,
    }


# --------------------------------------------------------------------------- baseline


def verify_bodies() -> list[tuple[str, dict[str, str], bytes]]:
    """The deliveries of the bare verify POST, and of every peer: signed 10-25 KB bodies
    posted to ``/webhook`` (the load gives each a new delivery id)."""
    return peers.with_path(deliveries.ack_bodies("octo-org/elsewhere", SECRET))


def baseline(cfg: Config) -> list[dict]:
    from aiohttp import __version__ as aiohttp_version

    log("baseline: bare aiohttp JSON GET and HMAC-verifying webhook endpoint")
    argv = [sys.executable, "-m", "bench.baseline", "--port", "{port}"]
    with Server(argv, {"GITHUB_WEBHOOK_SECRET": SECRET}, cfg.workdir / "baseline.log") as server:
        server.wait_ready()
        bodies = verify_bodies()
        return [
            row(
                "baseline",
                "bare JSON GET",
                cfg,
                repeat(cfg, server, Target(paths=["/json"])),
                database="-",
            ),
            row(
                "baseline",
                "bare verify POST",
                cfg,
                repeat(
                    cfg, server, Target(posts=bodies, delivery_prefix=f"b{uuid.uuid4().hex[:6]}")
                ),
                database="-",
                versions=f"aiohttp {aiohttp_version}",
            ),
        ]


# --------------------------------------------------------------------------- tracking + ack


def tracking_and_ack(cfg: Config) -> list[dict]:
    async def prepare(bench_db: BenchDatabase) -> None:
        product_id, _ = await seed.add_product_and_key(bench_db.url)
        await seed.seed_tickets(bench_db, product_id, cfg.tracking_tickets)

    rows = []
    with _database(cfg) as bench_db:
        asyncio.run(prepare(bench_db))
        log(f"tracking: {cfg.tracking_tickets} tickets seeded on {cfg.database}")
        with Server.tinydesk(tinydesk_env(bench_db), cfg.workdir / "tracking.log") as server:
            server.wait_ready()
            n = cfg.tracking_tickets
            rows.append(
                row(
                    "tracking",
                    "GET /api/tickets/{publicId}",
                    cfg,
                    repeat(
                        cfg, server, Target(path_format="/api/tickets/TK-%05d", number_range=(1, n))
                    ),
                    ratio_to="bare JSON GET",
                )
            )
            rows.append(
                row(
                    "tracking",
                    "GET /track/{publicId}",
                    cfg,
                    repeat(cfg, server, Target(path_format="/track/TK-%05d", number_range=(1, n))),
                    ratio_to="bare JSON GET",
                )
            )
        # The same read with the per-address read limit on (its default, 120 a minute) for
        # 2,000 pollers behind a trusted proxy (about 30 reads a minute each: none refused),
        # in each store this database offers: what a shared limit costs the hot GET.
        stores = ["memory"] if cfg.database == "sqlite" else ["database"]
        if cfg.redis_url and cfg.database != "sqlite":
            stores.append("redis")
        for store in stores:
            env = tinydesk_env(
                bench_db,
                TINYDESK_PUBLIC_READ_RATE_LIMIT="120",
                TINYDESK_TRUST_PROXY="true",
                REDIS_URL=cfg.redis_url if store == "redis" else "",
            )
            with Server.tinydesk(env, cfg.workdir / f"tracking-limited-{store}.log") as server:
                server.wait_ready()
                n = cfg.tracking_tickets
                target = Target(
                    path_format="/api/tickets/TK-%05d", number_range=(1, n), clients=2000
                )
                rows.append(
                    row(
                        "tracking",
                        f"GET /api/tickets/{{publicId}}, read limit in {store}",
                        cfg,
                        repeat(cfg, server, target),
                        ratio_to="bare JSON GET",
                    )
                )
        log("webhook ack: signed 10-25 KB deliveries, each with a new delivery id (workers off)")
        env = tinydesk_env(bench_db, TINYDESK_WORKERS="false")
        with Server.tinydesk(env, cfg.workdir / "ack.log") as server:
            server.wait_ready()
            bodies = deliveries.ack_bodies("octo-org/elsewhere", SECRET)
            before = asyncio.run(seed.scalar(bench_db.url, "SELECT count(*) FROM deliveries"))
            runs = repeat(
                cfg, server, Target(posts=bodies, delivery_prefix=f"d{uuid.uuid4().hex[:8]}")
            )
            stored = (
                asyncio.run(seed.scalar(bench_db.url, "SELECT count(*) FROM deliveries")) - before
            )
            # Every acknowledged delivery must be in the inbox (warm-up included).
            rows.append(
                row(
                    "webhook ack",
                    "POST /webhooks/github",
                    cfg,
                    runs,
                    ratio_to="bare verify POST",
                    stored=stored,
                )
            )
        # As deployed: the workers on, working each delivery on the same core as it arrives
        # (these are for a repository with no product: each is read, matched, finished), and
        # twice the connections, where GitHub's bursts would put the tail latency.
        log("webhook ack with the workers on, 64 connections")
        with Server.tinydesk(tinydesk_env(bench_db), cfg.workdir / "ack-workers.log") as server:
            server.wait_ready()
            runs = repeat(
                cfg,
                server,
                Target(posts=bodies, delivery_prefix=f"w{uuid.uuid4().hex[:8]}"),
                connections=2 * cfg.connections,
            )
            rows.append(
                row(
                    "webhook ack",
                    "POST /webhooks/github, workers on, 64 connections",
                    cfg,
                    runs,
                    ratio_to="bare verify POST",
                )
            )
    return rows


# --------------------------------------------------------------------------- peers


def peers_scenario(cfg: Config) -> list[dict]:
    """Other webhook receivers (``bench/peers``) under exactly the bare verify POST's load:
    the same signed bodies, a new delivery id per request, the same connections and runs.
    Each row's ratio is to the bare verify POST of the same run."""
    log("peers: other webhook receivers under the bare verify POST's load")
    bodies = verify_bodies()
    rows = []
    for peer in [*peers.python_peers(), *peers.node_peers(log)]:
        rows.append(_measure_peer(cfg, peer, bodies))
    return rows


def _measure_peer(
    cfg: Config, peer: peers.Peer, bodies: list[tuple[str, dict[str, str], bytes]]
) -> dict:
    def not_measured(reason: str, *, errors: int) -> dict:
        log(f"  {peer.name}: {'skipped' if not errors else 'FAILED'}: {reason}")
        return {
            **row("peers", peer.name, cfg, [], database="-", ratio_to="bare verify POST"),
            "versions": peer.versions,
            "runtime": peer.runtime,
            "skipped" if not errors else "failed": reason,
            "errors": errors,
        }

    if peer.skipped:
        return not_measured(peer.skipped, errors=0)
    slug = "".join(c if c.isalnum() else "-" for c in peer.name.lower())[:40]
    server = Server(
        peer.argv,
        {"GITHUB_WEBHOOK_SECRET": SECRET, **peer.env},
        cfg.workdir / f"peer-{slug}.log",
        cwd=peer.cwd,
    )
    with server:
        try:
            server.wait_ready(peer.ready_path)
        except (RuntimeError, TimeoutError) as exc:
            return not_measured(f"did not start: {str(exc)[-300:]}", errors=1)
        refused = peers.check_verifies(server.url, bodies)
        if refused:  # never measure a peer that does not verify, or that fails deliveries
            return not_measured(refused, errors=1)
        log(f"  {peer.name} ({peer.versions})")
        target = Target(posts=bodies, delivery_prefix=f"p{uuid.uuid4().hex[:6]}")
        return {
            **row(
                "peers",
                peer.name,
                cfg,
                repeat(cfg, server, target),
                database="-",
                ratio_to="bare verify POST",
            ),
            "versions": peer.versions,
            "runtime": peer.runtime,
        }


class _database:
    """``with _database(cfg) as bench_db``: a fresh migrated database, dropped on exit."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._cm = None
        self._loop = asyncio.new_event_loop()

    def __enter__(self) -> BenchDatabase:
        self._cm = seed.fresh_database(self.cfg.database, self.cfg.workdir, self.cfg.postgres_url)
        return self._loop.run_until_complete(self._cm.__aenter__())

    def __exit__(self, *exc) -> None:
        try:
            self._loop.run_until_complete(self._cm.__aexit__(*exc))
        finally:
            self._loop.close()


# --------------------------------------------------------------------------- end to end


async def _wait(check, *, limit: float, every: float = 0.25) -> float:
    """Poll ``check()`` until true; returns the seconds waited (raises on timeout)."""
    started = time.perf_counter()
    while True:
        if await check():
            return time.perf_counter() - started
        if time.perf_counter() - started > limit:
            raise TimeoutError("benchmark condition not reached in time")
        await asyncio.sleep(every)


async def journey(cfg: Config, bench_db: BenchDatabase, processes: int = 1) -> dict:
    """2,000 tickets with issues, then 5 deliveries each, against the fake GitHub."""
    from bench.shared import response_shapes
    from bot.sim.stack import github_env, start_fake

    n = cfg.journey_tickets
    # GitHub gives an installation 5,000+ requests an hour; this load makes ~16,000 in a
    # minute or two. The fake's budget is lifted so the benchmark measures TinyDesk.
    fake = await start_fake(openapi=response_shapes(), unlimited=True, validate_responses=False)
    fake.add_installation(deliveries.INSTALLATION_ID, OWNER, [FULL_NAME])
    await seed.add_product_and_key(bench_db.url, repo=FULL_NAME)
    env = tinydesk_env(bench_db, **github_env(fake))
    servers = [
        Server.tinydesk(
            env,
            cfg.workdir / f"journey{i}.log",
            cpu=cfg.server_cpus[i % len(cfg.server_cpus)],
        )
        for i in range(processes)
    ]
    poll = seed.create_async_engine(bench_db.url, poolclass=seed.NullPool)

    async def value(sql: str):
        async with poll.connect() as conn:
            return await conn.scalar(seed.text(sql))

    try:
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        urls = [s.url for s in servers]

        # 1. Intake: the tickets, spread over the processes; the bot opens their issues.
        def submit(i: int) -> Request:
            body = (
                f'{{"productSlug":"{seed.PRODUCT_SLUG}","submitterEmail":"c{i}@example.com",'
                f'"subject":"Checkout fails #{i}","body":"Steps to reproduce: press Pay."}}'
            ).encode()
            return Request(
                "POST", f"@{i % processes}/api/tickets", {"Content-Type": "application/json"}, body
            )

        started = time.perf_counter()
        intake = await _spread(urls, submit, count=n, connections=8)
        await _wait(
            lambda: _equal(value, "SELECT count(*) FROM tickets WHERE issue_number IS NOT NULL", n),
            limit=60 + n / 5,
        )
        await _wait(
            lambda: _equal(
                value, "SELECT count(*) FROM jobs WHERE state IN ('pending','processing')", 0
            ),
            limit=60 + n / 5,
        )
        intake_seconds = time.perf_counter() - started
        setup_calls = len(fake.calls)

        # 2. The developers' work: per ticket a PR and a merge commit on a linear main.
        tickets = [
            tuple(r)
            for r in await seed.rows(
                bench_db.url, "SELECT id, issue_number FROM tickets ORDER BY id"
            )
        ]
        merges = [f"{i:08x}" + "a" * 32 for i in range(1, n + 1)]
        fake.add_commits(OWNER, REPO, merges)
        plan = []
        for (ticket_id, issue), merge in zip(tickets, merges, strict=True):
            head = f"{ticket_id:08x}" + "b" * 32
            pr = fake.add_pull(
                OWNER, REPO, head_sha=head, body=f"Fixes #{issue}", merge_commit_sha=merge
            )
            plan.append(
                dict(
                    issue=issue,
                    pr=pr,
                    head=head,
                    merge=merge,
                    deployment=500_000 + ticket_id,
                    review="changes_requested" if ticket_id % 5 == 0 else "approved",
                )
            )
        events = deliveries.JourneyEvents(FULL_NAME)
        t0 = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        # Journeys overlap as on a busy repository: while one ticket is assigned, the one
        # before has its PR opened, the one before that is reviewed, and so on.
        sends = []
        for step in range(n + len(events.KINDS) - 1):
            for k, kind in enumerate(events.KINDS):
                i = step - k
                if 0 <= i < n:
                    at = t0 + dt.timedelta(seconds=step, milliseconds=k)
                    event, body = events.body(kind, at=at, **plan[i])
                    sends.append((i, event, body))

        def deliver(j: int) -> Request:
            i, event, body = sends[j]
            h = {
                **deliveries.headers(event, body, SECRET),
                "X-GitHub-Delivery": f"journey-{uuid.uuid4()}",
            }
            return Request("POST", f"@{i % processes}/webhooks/github", h, body)

        calls_before = len(fake.calls)
        cpu_before = [s.cpu_seconds() for s in servers]
        spies = (
            [
                s.profile(cfg.profile_dir / f"journey-{cfg.database}-{processes}p-{k}.txt", 30)
                for k, s in enumerate(servers)
            ]
            if cfg.profile_dir
            else []
        )
        started = time.perf_counter()
        sent = await _spread(urls, deliver, count=len(sends), connections=8)
        send_seconds = time.perf_counter() - started
        await _wait(
            lambda: _equal(
                value, "SELECT count(*) FROM deliveries WHERE state IN ('pending','processing')", 0
            ),
            limit=120 + len(sends) / 10,
        )
        await _wait(
            lambda: _equal(value, "SELECT count(*) FROM tickets WHERE stage = 'DEPLOYED'", n),
            limit=60,
        )
        processed_seconds = time.perf_counter() - started
        await _wait(
            lambda: _equal(
                value, "SELECT count(*) FROM jobs WHERE state IN ('pending','processing')", 0
            ),
            limit=120 + len(sends) / 10,
        )
        drained_seconds = time.perf_counter() - started
        cpu_used = sum(s.cpu_seconds() for s in servers) - sum(cpu_before)
        for spy in spies:
            if spy is not None:  # py-spy writes its file on SIGINT
                spy.send_signal(signal.SIGINT)
                spy.wait(30)

        once = {
            "GET /repos/{owner}/{repo}/installation",
            "POST /app/installations/{installation_id}/access_tokens",
            "GET /app",
            "POST /repos/{owner}/{repo}/labels",
        }
        per_journey = [c for c in fake.calls if c.operation not in once]
        by_operation: dict[str, int] = {}
        for call in fake.calls:
            by_operation[call.operation or "unexpected"] = (
                by_operation.get(call.operation or "unexpected", 0) + 1
            )
        failed_deliveries = await value("SELECT count(*) FROM deliveries WHERE state = 'failed'")
        failed_jobs = await value("SELECT count(*) FROM jobs WHERE state = 'failed'")
        retried = await value("SELECT count(*) FROM deliveries WHERE attempts > 1")
        twice = await value(
            "SELECT count(*) FROM (SELECT delivery_id, ticket_id FROM stage_transitions "
            "WHERE delivery_id IS NOT NULL GROUP BY delivery_id, ticket_id, to_stage "
            "HAVING count(*) > 1) AS d"
        )
        duplicate_issues = fake.count("POST /repos/{owner}/{repo}/issues") - n
        distinct_ids = await value("SELECT count(DISTINCT id) FROM tickets")
        rss = [s.rss_mb() for s in servers]
        return {
            "processes": processes,
            "tickets": n,
            "deliveries": len(sends),
            "intake_seconds": round(intake_seconds, 2),
            "intake_errors": intake["errors"],
            "send_seconds": round(send_seconds, 2),
            "processed_seconds": round(processed_seconds, 2),
            "events_per_second": round(len(sends) / processed_seconds, 1),
            "outbox_drained_seconds": round(drained_seconds, 2),
            # Everything the servers did for the deliveries (receive, process, outbox),
            # per delivery.
            "server_cpu_ms_per_delivery": round(1000 * cpu_used / len(sends), 2),
            "delivery_errors": sent["errors"],
            "delivery_p99_ms": sent["p99_ms"],
            "github_calls_total": len(fake.calls),
            "github_calls_per_journey": round(len(per_journey) / n, 2),
            "github_calls_during_deliveries": len(fake.calls) - calls_before,
            "github_calls_setup": setup_calls,
            "github_calls_by_operation": by_operation,
            "unexpected_github_calls": len(fake.unexpected),
            "failed_deliveries": failed_deliveries,
            "failed_jobs": failed_jobs,
            "deliveries_retried": retried,
            "deliveries_applied_twice": twice,
            "duplicate_issues": duplicate_issues,
            "public_ids_unique": distinct_ids == n,
            "all_in_expected_stage": True,
            "server_rss_mb": rss,
            "errors": intake["errors"]
            + sent["errors"]
            + failed_deliveries
            + failed_jobs
            + twice
            + max(duplicate_issues, 0)
            + len(fake.unexpected)
            + (0 if distinct_ids == n else 1),
        }
    except TimeoutError as exc:
        raise TimeoutError(
            f"{exc}\n{await _stuck(functools.partial(seed.rows, bench_db.url), servers)}"
        ) from None
    finally:
        for server in servers:
            server.stop()
        await poll.dispose()
        await fake.close()


async def _stuck(rows, servers: list[Server]) -> str:
    """What a journey that timed out left: the inbox and outbox by state, and the end of
    each server's log (CI keeps only the benchmark's output)."""
    lines = []
    for table in ("deliveries", "jobs"):
        counts = await rows(f"SELECT state, count(*) FROM {table} GROUP BY state ORDER BY state")
        lines.append(f"{table}: " + (", ".join(f"{st} {n}" for st, n in counts) or "none"))
    stages = await rows("SELECT stage, count(*) FROM tickets GROUP BY stage ORDER BY stage")
    lines.append("tickets: " + ", ".join(f"{st} {n}" for st, n in stages))
    behind = await rows(
        "SELECT t.id, t.stage, l.pr_number, l.state, l.merge_commit_sha, l.shipped_at "
        "FROM tickets t LEFT JOIN pull_request_links l ON l.issue_number = t.issue_number "
        "WHERE t.stage <> 'DEPLOYED' ORDER BY t.id LIMIT 10"
    )
    lines.extend(f"  not deployed: {tuple(r)}" for r in behind)
    for r in behind[:2]:
        if r[4] is None:
            continue
        touching = await rows(
            "SELECT id, event, action, attempts, received_at, processed_at, "
            "substr(coalesce(last_error, ''), 1, 80) FROM deliveries "
            f"WHERE payload LIKE '%{r[4]}%' ORDER BY id"
        )
        lines.extend(f"    delivery {tuple(d)}" for d in touching)
    checks = await rows(
        "SELECT id, created_at, done_at, attempts FROM jobs WHERE kind = 'ship_check' "
        "ORDER BY id DESC LIMIT 8"
    )
    lines.extend(f"  ship_check {tuple(c)}" for c in checks)
    for k, server in enumerate(servers):
        tail = server.log().splitlines()[-40:]
        alive = (
            "running" if server.process.poll() is None else f"exited {server.process.returncode}"
        )
        lines.append(f"--- server {k} ({alive}), last lines of {server.log_path}:")
        lines.extend(tail)
    return "\n".join(lines)


async def _equal(value, sql: str, expected: int) -> bool:
    return await value(sql) == expected


async def _spread(urls: list[str], make, *, count: int, connections: int) -> dict:
    """Send ``count`` requests; a path "@k/..." goes to server k."""

    def routed(i: int) -> Request:
        req = make(i)
        k, _, path = req.path[1:].partition("/")
        return dataclasses.replace(req, path=f"{urls[int(k)]}/{path}")

    return await run_python("", routed, seconds=600, connections=connections, max_requests=count)


def end_to_end(cfg: Config) -> list[dict]:
    runs = []
    for run in range(cfg.journey_runs):
        with _database(cfg) as bench_db:
            log(
                f"end to end (run {run + 1}/{cfg.journey_runs}): {cfg.journey_tickets} tickets, "
                f"{cfg.journey_tickets * 5} deliveries on {cfg.database}"
            )
            result = asyncio.run(journey(cfg, bench_db))
            log(
                f"  {result['events_per_second']} events/s, "
                f"{result['github_calls_per_journey']} GitHub calls a journey"
            )
            runs.append(result)
    return [_journey_row("end to end", "deliveries processed (1 process)", cfg, runs)]


def _journey_row(scenario: str, endpoint: str, cfg: Config, runs: list[dict]) -> dict:
    result = {"scenario": scenario, "endpoint": endpoint, "database": cfg.database, "runs": runs}
    for key in (
        "events_per_second",
        "github_calls_per_journey",
        "processed_seconds",
        "intake_seconds",
        "outbox_drained_seconds",
    ):
        result[key] = round(statistics.median(r[key] for r in runs), 2)
    result["errors"] = sum(r["errors"] for r in runs)
    return result


def several_processes(cfg: Config) -> list[dict]:
    if cfg.database != "postgres":
        log("several processes: PostgreSQL only (SQLite is worked by one process); skipped")
        return []
    rows = []
    smaller = dataclasses.replace(cfg, journey_tickets=cfg.process_tickets)
    for processes in (1, 2):
        runs = []
        for run in range(cfg.journey_runs):
            with _database(cfg) as bench_db:
                log(
                    f"several processes: {processes} process(es), run {run + 1}, "
                    f"{cfg.process_tickets} tickets"
                )
                runs.append(asyncio.run(journey(smaller, bench_db, processes=processes)))
        rows.append(
            _journey_row("several processes", f"{processes} process(es), shared inbox", cfg, runs)
        )
    return rows


# --------------------------------------------------------------------------- a million tickets


def million(cfg: Config) -> list[dict]:
    rows = []
    with _database(cfg) as bench_db:
        product_id, key = asyncio.run(seed.add_product_and_key(bench_db.url))
        log(f"a million: seeding {cfg.million} tickets on {cfg.database} ...")
        seconds = asyncio.run(seed.seed_tickets(bench_db, product_id, cfg.million))
        size = asyncio.run(seed.database_size_mb(bench_db))
        log(f"  seeded in {seconds:.0f} s, database {size:.0f} MB")
        # Where page 500 starts, with and without filters (cursors are opaque to clients;
        # the benchmark makes them as the server does).
        from bot.http.cursor import encode_cursor
        from bot.rules.desk_input import DEFAULT_LIMIT

        def cursor_for(where: str) -> str:
            last = asyncio.run(
                seed.scalar(
                    bench_db.url,
                    f"SELECT id FROM tickets WHERE deleted_at IS NULL {where} "
                    f"ORDER BY id DESC LIMIT 1 OFFSET {499 * DEFAULT_LIMIT - 1}",
                )
            )
            return encode_cursor(last) if last else ""

        staff = asyncio.run(seed.add_staff_admin(bench_db.url))
        deep = cursor_for("")
        deep_open = cursor_for("AND status = 'open' AND priority = 'high'")
        auth = {"Authorization": f"Bearer {key}"}
        with Server.tinydesk(tinydesk_env(bench_db), cfg.workdir / "million.log") as server:
            server.wait_ready()
            c = cfg.moderate_connections
            desk = "/api/v1/desk/tickets"
            sla = "/api/v1/desk/sla/breaches"
            itsm = "/api/v1/helpdesk/tickets"
            week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            cases = [
                ("desk list, first page", [desk]),
                (
                    "desk list, first page, status+priority filter",
                    [f"{desk}?status=open&priority=high"],
                ),
                ("desk list, tag filter", [f"{desk}?tag=billing"]),
                ("desk list, page 500", [f"{desk}?cursor={deep}"]),
                (
                    "desk list, page 500, status+priority filter",
                    [f"{desk}?status=open&priority=high&cursor={deep_open}"],
                ),
                ("desk stats", ["/api/v1/desk/stats"]),
                ("sla breaches, first page", [sla]),
                ("sla breaches, resolve+urgent filter", [f"{sla}?target=resolve&priority=urgent"]),
                ("sla breaches, since a week ago", [f"{sla}?since={week_ago}"]),
                ("sla dueWithin=60m", [f"{sla}?dueWithin=60m"]),
                ("sla dueWithin=1d", [f"{sla}?dueWithin=1d"]),
                ("desk list, search by email", [f"{desk}?q=customer4242%40example.com"]),
                ("desk list, search by words", [f"{desk}?q=step%2042"]),
                ("itsm list, first page", [itsm]),
                ("itsm list, priority filter", [f"{itsm}?priority=high"]),
            ]
            for name, paths in cases:
                rows.append(
                    row(
                        "a million",
                        name,
                        cfg,
                        repeat(cfg, server, Target(paths=paths, headers=auth), connections=c),
                    )
                )
            # The workspace inbox as a signed-in admin sees it: each saved view, a search.
            cookie = {"Cookie": f"tinydesk_staff={staff}", "Accept": "text/html"}
            for view in (
                "open",
                "unassigned",
                "due-soon",
                "breached",
                "pending",
                "stage&stage=PR_OPEN",
                "open&q=customer4242%40example.com",
            ):
                rows.append(
                    row(
                        "a million",
                        f"inbox, view={view}",
                        cfg,
                        repeat(
                            cfg,
                            server,
                            Target(paths=[f"/desk?view={view}"], headers=cookie),
                            connections=c,
                        ),
                    )
                )
            rows.append(
                row(
                    "a million",
                    "GET /api/tickets/{publicId}",
                    cfg,
                    repeat(
                        cfg,
                        server,
                        Target(path_format="/api/tickets/TK-%05d", number_range=(1, cfg.million)),
                        connections=c,
                    ),
                )
            )
            rows.append(asyncio.run(_invoice_row(cfg, bench_db, server.url, auth)))
            rss = server.rss_mb()
        for r in rows:
            r.update(
                tickets=cfg.million,
                seed_seconds=round(seconds, 1),
                database_mb=round(size, 1),
                server_rss_mb=round(rss or 0, 1),
                connections=c,
            )
    return rows


# --------------------------------------------------------------------------- a soak


SOAK_SAMPLE_SECONDS = 10.0


def soak(cfg: Config) -> list[dict]:
    """Mixed traffic for ``cfg.soak_seconds`` (10 minutes; 20 s in quick mode) against one
    server with its workers on: tracking reads (JSON and page), signed webhook deliveries
    (stored and worked), desk lists. The server's RSS is sampled every 10 s; it must stay
    flat: the last sample within 10 % of the first taken after a minute's warm-up."""

    async def prepare(bench_db: BenchDatabase) -> str:
        product_id, key = await seed.add_product_and_key(bench_db.url)
        await seed.seed_tickets(bench_db, product_id, cfg.tracking_tickets)
        return key

    seconds = 20.0 if cfg.quick else cfg.soak_seconds
    warm_up = min(60.0, seconds / 4)
    with _database(cfg) as bench_db:
        key = asyncio.run(prepare(bench_db))
        bodies = deliveries.ack_bodies("octo-org/elsewhere", SECRET)
        auth = {"Authorization": f"Bearer {key}"}
        run_id = uuid.uuid4().hex[:8]
        n = cfg.tracking_tickets

        def make(i: int) -> Request:
            kind = i % 10
            if kind < 5:
                return Request("GET", f"/api/tickets/TK-{i % n + 1:05d}", {})
            if kind < 7:
                return Request("GET", f"/track/TK-{i % n + 1:05d}", {})
            if kind < 9:
                path, headers, body = bodies[i % len(bodies)]
                delivery = {**headers, "X-GitHub-Delivery": f"soak-{run_id}-{i}"}
                return Request("POST", path, delivery, body)
            return Request("GET", "/api/v1/desk/tickets?status=open", auth)

        log(f"soak: {seconds:.0f} s of mixed traffic on {cfg.database}, RSS every 10 s")
        with Server.tinydesk(tinydesk_env(bench_db), cfg.workdir / "soak.log") as server:
            server.wait_ready()

            async def load_and_sample() -> tuple[dict, list[tuple[float, float]]]:
                samples: list[tuple[float, float]] = []
                started = time.monotonic()

                async def sample() -> None:
                    while True:
                        samples.append((time.monotonic() - started, server.rss_mb() or 0.0))
                        await asyncio.sleep(SOAK_SAMPLE_SECONDS if not cfg.quick else 2.0)

                sampler = asyncio.create_task(sample())
                try:
                    result = await run_python(
                        server.url, make, seconds=seconds, connections=cfg.moderate_connections
                    )
                finally:
                    sampler.cancel()
                samples.append((time.monotonic() - started, server.rss_mb() or 0.0))
                return result, samples

            result, samples = asyncio.run(load_and_sample())
    after_warm_up = next((mb for at, mb in samples if at >= warm_up), samples[-1][1])
    last = samples[-1][1]
    drift = (last - after_warm_up) / after_warm_up * 100 if after_warm_up else 0.0
    log(
        f"  RSS {after_warm_up:.0f} MB after warm-up, {last:.0f} MB at the end "
        f"({drift:+.1f} %), max {max(mb for _, mb in samples):.0f} MB; "
        f"{result['requests']} requests"
    )
    return [
        {
            "scenario": "soak",
            "endpoint": f"mixed traffic for {seconds:.0f} s",
            "database": cfg.database,
            "requests": result["requests"],
            "soak_rps": result["rps"],
            "errors": result["errors"],
            "rss_after_warm_up_mb": round(after_warm_up, 1),
            "rss_end_mb": round(last, 1),
            "rss_max_mb": round(max(mb for _, mb in samples), 1),
            "rss_drift_pct": round(drift, 1),
            "rss_samples": [[round(at, 1), round(mb, 1)] for at, mb in samples],
            "runs": [result],
        }
    ]


INVOICE_ENTRIES = 10_000


async def _invoice_row(cfg: Config, bench_db: BenchDatabase, url: str, auth: dict) -> dict:
    """An invoice for a client with 10,000 billable time entries in its period (1,000 in
    quick mode), timed as its caller sees it: one POST /api/v1/desk/invoices."""
    import aiohttp

    count = 1_000 if cfg.quick else INVOICE_ENTRIES
    async with aiohttp.ClientSession(base_url=url, headers=auth) as http:
        body = {"name": "Bench Client", "currency": "EUR", "hourlyRate": "90.00"}
        async with http.post("/api/v1/desk/clients", json=body) as resp:
            assert resp.status == 201, await resp.text()
            client = (await resp.json())["id"]
        client_id = await seed.scalar(
            bench_db.url, "SELECT id FROM clients WHERE desk_id = :d", d=client
        )
        await seed.add_time_entries(bench_db, client_id, min(count, cfg.million))
        started = time.perf_counter()
        today = dt.date.today().isoformat()
        async with http.post(
            "/api/v1/desk/invoices", json={"client": client, "periodEnd": today}
        ) as resp:
            text = await resp.text()
            seconds = time.perf_counter() - started
            ok = resp.status == 201
        lines = len(json.loads(text).get("lines", [])) if ok else 0
    log(f"  invoice of {count} time entries: {seconds:.2f} s ({lines} lines)")
    return {
        "scenario": "a million",
        "endpoint": f"invoice of {count:,} time entries",
        "database": cfg.database,
        "invoice_seconds": round(seconds, 3),
        "invoice_entries": count,
        "errors": 0 if ok else 1,
        "failed": None if ok else f"HTTP {resp.status}: {text[:200]}",
        "runs": [],
    }


SCENARIOS = {
    "baseline": baseline,
    "tracking": tracking_and_ack,  # also measures the webhook ack
    "peers": peers_scenario,  # other webhook receivers, beside the webhook ack
    "end-to-end": end_to_end,
    "million": million,
    "processes": several_processes,
    "soak": soak,
}
