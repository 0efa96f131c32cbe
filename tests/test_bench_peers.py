"""The benchmark's peers still run: every Python peer verifies and answers every delivery of
the bare verify POST's load; each node peer is measured the same way or, where node, npm or
the registry is missing, skipped with its reason (never failed, never silently absent).
Correctness only, never a speed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_peers_answer_every_request_or_say_why_they_were_skipped(tmp_path):
    output = tmp_path / "bench.json"
    argv = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--scenario",
        "baseline",
        "--scenario",
        "peers",
        "--no-wrk",  # never install packages from a test; the Python client does it
        "--output",
        str(output),
    ]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        # npm ci (when node_modules is missing) gives up within 180 s
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    rows = json.loads(output.read_text())["rows"]
    [base] = [r for r in rows if r["endpoint"] == "bare verify POST"]
    assert base["errors"] == 0 and base["requests"] > 0
    peers = [r for r in rows if r["scenario"] == "peers"]
    python = [r for r in peers if r["runtime"] == "python"]
    node = [r for r in peers if r["runtime"] == "node"]
    assert len(python) == 2 and len(node) == 3, [r["endpoint"] for r in peers]
    assert len({r["endpoint"] for r in rows}) == len(rows)  # ratios find their base by name

    for r in peers:
        assert "failed" not in r, r  # a peer that did not verify, or did not start
        if r.get("skipped"):
            assert "requests" not in r and r["errors"] == 0
            continue
        # measured: every request of the verify POST's load answered with a 2xx
        assert r["errors"] == 0 and r["requests"] > 0, r
        assert r["ratio_to"] == "bare verify POST" and r["ratio"] > 0, r

    uvloop_row = next(r for r in python if "uvloop" in r["endpoint"])
    if importlib.util.find_spec("uvloop") is not None:
        assert not uvloop_row.get("skipped"), uvloop_row
    else:
        assert "uvloop" in uvloop_row["skipped"]
    assert not any(r.get("skipped") for r in python if r is not uvloop_row)

    reasons = {r.get("skipped") for r in node}
    assert len(reasons) == 1  # the node peers are installed, or not, together
    if shutil.which("node") is None:
        assert "node" in reasons.pop()
    elif reasons != {None}:
        (reason,) = reasons
        assert reason and ("npm" in reason or "node" in reason), reason
        assert f"skipped: {reason}" in done.stdout  # the table says why
    assert "Webhook receivers under one load" in done.stdout
