"""``python -m bench.store_cost`` measures each part of an ack through the server's own
code: the figures exist for every part and group size (run as a command, as the other
benchmark tests do; it checks itself that every delivery it measured was stored, and fails
otherwise: a writer that stored nothing would look cheap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_store_cost_prints_a_figure_for_every_part():
    out = subprocess.run(
        [sys.executable, "-m", "bench.store_cost", "--deliveries", "64"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ")][2:]  # after the header
    parts = [line.split(" | ")[0].lstrip("| ") for line in rows]
    assert parts == [
        "verify the signature (gidgethub, HMAC-SHA256)",
        "parse the body (orjson)",
        *(f"SQLite, bare sqlite3 INSERT + COMMIT, groups of {n}" for n in (1, 8, 32)),
        *(f"SQLite, InboxWriter, groups of {n}" for n in (1, 8, 32)),
    ]
    assert all(float(line.rstrip(" |").rsplit(" | ", 1)[1]) > 0 for line in rows)
