"""The benchmark's quick mode still works end to end: every scenario runs on small data, every
request is answered, every delivery stored and processed, every ticket reaches its stage.
It checks correctness only, never a speed (CI machines differ)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]
DATABASES = ["sqlite"] + (["postgres"] if PG_URL else [])


@pytest.mark.slow
@pytest.mark.parametrize("database", DATABASES)
def test_quick_benchmark_answers_every_request_and_finishes_every_journey(database, tmp_path):
    output = tmp_path / "bench.json"
    argv = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--database",
        database,
        "--output",
        str(output),
    ]
    if shutil.which("wrk") is None:
        argv.append("--no-wrk")  # never install packages from a test; the Python client does it
    if database == "postgres":
        argv += ["--postgres-url", PG_URL]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # about 3 minutes alone; several times that on a busy machine
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    results = json.loads(output.read_text())
    rows = results["rows"]
    scenarios = {r["scenario"] for r in rows}
    assert {"baseline", "tracking", "webhook ack", "end to end", "a million"} <= scenarios
    assert ("several processes" in scenarios) == (database == "postgres")
    for r in rows:
        assert r["errors"] == 0, r
        if "requests" in r:
            assert r["requests"] > 0, r
    [ack] = [r for r in rows if r["endpoint"] == "POST /webhooks/github"]
    assert ack["stored"] >= ack["requests"]  # every acknowledged delivery is in the inbox
    [soak] = [r for r in rows if r["scenario"] == "soak"]
    assert soak["requests"] > 0 and len(soak["rss_samples"]) >= 3
    for r in rows:
        for run in r["runs"]:
            if "events_per_second" in run:
                assert run["all_in_expected_stage"] and run["public_ids_unique"]
                assert run["deliveries_applied_twice"] == 0 and run["duplicate_issues"] == 0
                assert run["failed_deliveries"] == 0 and run["unexpected_github_calls"] == 0
