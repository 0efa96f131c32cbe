"""``python -m fuzz {readers,receiver} [--seconds S | --runs N] [--seed K]``.

Exits 0 when nothing was found; on a finding, prints it with its traceback, saves the input
that caused it (``--artifacts``, default the current folder) and exits 1 (the random engine)
or as libFuzzer does (atheris).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

MAX_LEN = 1 << 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("target", choices=["readers", "receiver"])
    parser.add_argument("--seconds", type=float, default=None, help="run this long")
    parser.add_argument("--runs", type=int, default=None, help="run this many inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--engine",
        choices=["auto", "atheris", "random"],
        default="auto",
        help="atheris (coverage-guided) when installed, else the seeded random loop",
    )
    parser.add_argument(
        "--database",
        default=None,
        help="a scratch database URL it may write to (default: a temporary SQLite file)",
    )
    parser.add_argument("--artifacts", type=Path, default=Path("."), help="where findings go")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=None,
        help="libFuzzer's growing corpus (default: a new folder in /tmp, left for reuse)",
    )
    parser.add_argument(
        "--replay", type=Path, default=None, help="run one saved input (a finding) and stop"
    )
    args = parser.parse_args(argv)
    if args.seconds is None and args.runs is None:
        args.seconds = 60.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # A replay shows the server's own error lines (the traceback behind a 5xx).
    logging.basicConfig(level=logging.ERROR if args.replay else logging.CRITICAL)
    # A handler that cannot read a payload logs its traceback here: the finding's detail.
    logging.getLogger("webhooks.inbox").setLevel(logging.ERROR)
    atheris = None
    if args.replay is not None:
        args.engine = "random"
    if args.engine != "random":
        try:
            import atheris  # type: ignore[import-not-found, no-redef]
        except ImportError:
            if args.engine == "atheris":
                raise
            print("atheris is not installed: the seeded random engine runs instead")
    if atheris is not None:
        # Coverage feedback from the code under test (imported here for the first time).
        code = ["webhooks", "bot.rules", "bot.tickets", "bot.http", "gidgethub"]
        with atheris.instrument_imports(include=code):
            from fuzz import targets
        return run_atheris(atheris, targets, args)
    from fuzz import targets

    return run_random(targets, args)


def run_atheris(atheris, targets, args: argparse.Namespace) -> int:
    # Our own byte mutations: atheris.Mutate refuses to run inside a custom mutator (3.0.0:
    # "Fuzz() must be called before Mutate()").
    target = targets.TARGETS[args.target](args.database)
    corpus_dir = args.corpus_dir or Path(tempfile.mkdtemp(prefix=f"fuzz-{args.target}-"))
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(target.seeds()):
        (corpus_dir / f"seed-{index:04d}").write_bytes(seed)
    args.artifacts.mkdir(parents=True, exist_ok=True)
    # libFuzzer ends the process itself: a temporary corpus folder stays (it is said where).
    print(f"fuzz {args.target}: atheris, {len(target.cases)} payloads in the corpus ({corpus_dir})")
    libfuzzer = [
        sys.argv[0],
        str(corpus_dir),
        f"-seed={args.seed}",
        f"-max_len={MAX_LEN}",
        f"-artifact_prefix={args.artifacts.resolve()}/",
        "-timeout=60",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
    ]
    if args.runs is not None:
        libfuzzer.append(f"-runs={args.runs}")
    if args.seconds is not None:
        libfuzzer.append(f"-max_total_time={max(1, int(args.seconds))}")
    atheris.Setup(libfuzzer, target.test_one_input, custom_mutator=target.mutate)
    atheris.Fuzz()  # exits the process
    return 0


def run_random(targets, args: argparse.Namespace) -> int:
    """The seeds once each, then seeded mutations of random corpus inputs."""
    target = targets.TARGETS[args.target](args.database)
    if args.replay is not None:
        try:
            target.test_one_input(args.replay.read_bytes())
        finally:
            target.close()
        print(f"{args.replay}: no finding")
        return 0
    print(f"fuzz {args.target}: random engine, {len(target.cases)} payloads in the corpus")
    rng = random.Random(args.seed)
    pool = target.seeds()
    started = time.monotonic()
    runs = 0
    try:
        while True:
            if args.runs is not None and runs >= args.runs:
                break
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
            if runs < len(pool):
                data = pool[runs]
            else:
                data = rng.choice(pool)
                for _ in range(rng.randint(1, 3)):
                    data = target.mutate(data, MAX_LEN, rng.getrandbits(32))
            runs += 1
            try:
                target.test_one_input(data)
            except Exception:
                traceback.print_exc()
                args.artifacts.mkdir(parents=True, exist_ok=True)
                path = args.artifacts / f"crash-{args.target}-{args.seed}-{runs}"
                path.write_bytes(data)
                print(f"finding after {runs} runs; input saved to {path}")
                return 1
    finally:
        target.close()
    elapsed = time.monotonic() - started
    print(f"done: {runs} runs in {elapsed:.1f} s ({runs / elapsed:.0f}/s), no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
