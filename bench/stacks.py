"""``python -m bench.stacks FILE [N]``: where a server spent its time, from the py-spy raw
stacks that ``python -m bench --profile DIR`` records (one file per measured scenario).

Prints the N functions (default 25) that were on the event loop's stack most often, as a
share of the loop thread's samples: the loop is the one core TinyDesk's Python runs on, so
this is where a request's CPU goes. Idle driver threads are left out.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

# A frame every sample of the event loop's thread has: asyncio's loop is Python
# (``run_forever``); uvloop's, which ``tinydesk serve`` uses where it is installed, is C, and
# the outermost Python frame above it is asyncio's ``Runner.run``.
LOOP_MARKERS = ("run_forever", "Runner.run")


def summarize(path: Path, top: int = 25) -> list[tuple[float, str]]:
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not any(marker in stack for marker in LOOP_MARKERS) or not count.isdigit():
            continue
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] += int(count)
    if not total:
        return []
    # Frames on (nearly) every sample say nothing: the loop itself, run_app, main.
    shown = [(n / total, frame) for frame, n in inclusive.most_common() if n / total < 0.95]
    return shown[:top]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    top = int(argv[1]) if len(argv) > 1 else 25
    for share, frame in summarize(Path(argv[0]), top):
        print(f"{100 * share:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
