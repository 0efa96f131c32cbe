"""``python -m bench [--database sqlite|postgres] [--quick] [--scenario NAME ...] [--runs N]``

Starts every server itself on 127.0.0.1 (the server pinned to CPU 0, the load generator and
the fake GitHub to CPU 1), runs each scenario several times and prints the medians beside
the bare-aiohttp baseline; every run is kept in bench/results/*.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import compare, report, scenarios
from bench.procs import can_pin, ensure_wrk, pin_self
from bench.seed import DEFAULT_POSTGRES_URL

ORDER = ["baseline", "tracking", "peers", "end-to-end", "million", "processes", "soak"]


def _cpu_list(text: str) -> tuple[str, ...]:
    cpus = tuple(part.strip() for part in text.split(","))
    if not cpus or not all(cpu.isdigit() for cpu in cpus):
        raise argparse.ArgumentTypeError("a comma-separated list of CPU numbers, e.g. 0,1")
    return cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--quick", action="store_true", help="small data, a few seconds a scenario (CI)"
    )
    parser.add_argument(
        "--scenario", action="append", choices=ORDER, help="run only these (repeatable)"
    )
    parser.add_argument("--runs", type=int, help="measured runs per figure (default 3, quick 1)")
    parser.add_argument(
        "--seconds", type=float, help="seconds per measured run (default 5, quick 1.5)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TINYDESK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=(
            "an admin URL of the PostgreSQL server; the benchmark makes and drops its own databases"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TINYDESK_BENCH_REDIS_URL") or None,
        help="a Redis server: on PostgreSQL the tracking scenario also measures the read "
        "with its rate limit kept there (REDIS_URL)",
    )
    parser.add_argument(
        "--no-wrk", action="store_true", help="use the Python load generator even if wrk is there"
    )
    parser.add_argument("--million", type=int, help="tickets for the 'million' scenario")
    parser.add_argument(
        "--soak-seconds", type=float, help="length of the soak (default 600; quick mode 20)"
    )
    parser.add_argument(
        "--journey-tickets",
        type=int,
        help="tickets for the end-to-end scenario (5 deliveries each)",
    )
    parser.add_argument(
        "--journey-runs", type=int, help="end-to-end runs (default 1: each takes minutes)"
    )
    parser.add_argument(
        "--server-cpus",
        type=_cpu_list,
        metavar="LIST",
        help="CPUs for the end-to-end servers, e.g. 0,1: server i runs on the i-th (default 0, "
        "every server on CPU 0; 'processes' with 0,1 gives each of its two servers a core)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record py-spy stacks of the server during each measurement into DIR",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the JSON of every run "
        "(default bench/results/bench-<database>-<time>.json)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="FILE",
        help="print this run's figures beside a saved earlier run's (bench/results/*.json); "
        "a figure more than 10%% worse is flagged",
    )
    args = parser.parse_args(argv)
    if args.compare:
        try:  # a wrong file fails now, not after minutes of runs
            compare.load_rows(args.compare)
        except (OSError, ValueError) as exc:
            parser.error(f"--compare: {exc}")

    wrk = None if args.no_wrk else ensure_wrk()
    if wrk is None and not args.no_wrk:
        print("bench: wrk is not available; using the Python load generator", file=sys.stderr)
    pin_self()
    overrides = {
        k: v
        for k, v in {
            "runs": args.runs,
            "seconds": args.seconds,
            "million": args.million,
            "journey_tickets": args.journey_tickets,
            "journey_runs": args.journey_runs,
            "soak_seconds": args.soak_seconds,
            "server_cpus": args.server_cpus,
        }.items()
        if v is not None
    }
    chosen = [s for s in ORDER if s in (args.scenario or ORDER)]
    if any(s in chosen for s in ("tracking", "peers")) and "baseline" not in chosen:
        chosen.insert(0, "baseline")  # every figure is shown beside the baseline
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tinydesk-bench-") as tmp:
        cfg = scenarios.Config.make(
            quick=args.quick,
            database=args.database,
            postgres_url=args.postgres_url,
            redis_url=args.redis_url,
            wrk=wrk,
            workdir=Path(tmp),
            profile_dir=args.profile,
            **overrides,
        )
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        rows: list[dict] = []
        for name in chosen:
            rows += scenarios.SCENARIOS[name](cfg)
    meta = {
        "database": args.database,
        "quick": args.quick,
        "runs": cfg.runs,
        "server_cpus": ",".join(cfg.server_cpus),
        "seconds": cfg.seconds,
        "load_generator": "wrk" if wrk else "python",
        "pinned": can_pin(),
        "machine": report.machine(),
        "scenarios": chosen,
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    figures = report.table(rows)  # also sets each row's ratio to its baseline, saved with it
    path = report.save(rows, meta, args.output)
    print(f"\nTinyDesk benchmark — {meta['machine']}")
    print(
        f"load generator: {meta['load_generator']}; "
        f"server on CPU 0, load on CPU 1: {meta['pinned']}; "
        f"{cfg.runs} run(s) x {cfg.seconds:g} s, medians\n"
    )
    print(figures)
    print("\nTargets:")
    print(report.render_targets(report.targets(rows)))
    if args.compare:
        print()
        print(compare.render(compare.compare(rows, compare.load_rows(args.compare)), args.compare))
    print(f"\nEvery run: {path} ({meta['elapsed_seconds']} s)")
    errors = sum(r.get("errors", 0) for r in rows)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
