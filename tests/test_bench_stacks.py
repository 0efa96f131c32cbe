"""``python -m bench.stacks FILE`` reads py-spy's raw stacks: shares of the event loop's samples,
idle threads out. Run as the command it is (tests and the benchmark never import each other)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RAW = """\
main;run_forever;_run_once;handle;track_ticket;fetch 30
main;run_forever;_run_once;handle;track_ticket;dumps 10
main;run_forever;_run_once;select 60
thread;_connection_worker_thread 500
"""


def shares_of(path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.stacks", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shares = {}
    for line in done.stdout.splitlines():
        percent, frame = line.split("%", 1)
        shares[frame.strip()] = round(float(percent) / 100, 2)
    return shares


def test_shares_are_of_the_loop_threads_samples_only(tmp_path):
    path = tmp_path / "stacks.txt"
    path.write_text(RAW)
    shares = shares_of(path)
    assert shares["select"] == 0.6
    assert shares["handle"] == 0.4 and shares["track_ticket"] == 0.4
    assert shares["fetch"] == 0.3 and shares["dumps"] == 0.1
    assert "run_forever" not in shares  # on every sample: says nothing
    assert "_connection_worker_thread" not in shares  # an idle driver thread


# uvloop's loop is C: the loop thread's samples have asyncio's Runner.run above the handlers.
UVLOOP_RAW = """\
main;Runner.run (asyncio/runners.py:118);_handle_request;track_ticket;fetch 30
main;Runner.run (asyncio/runners.py:118);_handle_request;track_ticket;dumps 10
main;Runner.run (asyncio/runners.py:118) 60
thread;_connection_worker_thread 500
"""


def test_a_server_on_uvloop_is_read_by_its_main_thread_too(tmp_path):
    path = tmp_path / "stacks.txt"
    path.write_text(UVLOOP_RAW)
    shares = shares_of(path)
    assert shares["_handle_request"] == 0.4 and shares["track_ticket"] == 0.4
    assert shares["fetch"] == 0.3 and shares["dumps"] == 0.1
    assert "_connection_worker_thread" not in shares
