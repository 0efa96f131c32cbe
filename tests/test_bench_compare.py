"""``python -m bench --compare`` and ``python -m bench.compare EARLIER LATER``: a run's
figures beside an earlier run's, judged by the figure that survives a busy machine (the
ratio to the same run's baseline), and flagged when more than 10 % worse. Run as commands,
as the other benchmark tests run it (tests/test_boundaries_sim.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACK = "webhook ack · POST /webhooks/github (sqlite)"


def saved_run(path: Path, ack_rps: float, base_rps: float, events: float, p95: float) -> Path:
    """A run as ``bench/report.save`` writes it (each row's ratio already set)."""
    rows = [
        {"scenario": "baseline", "endpoint": "bare verify", "database": "sqlite", "rps": base_rps},
        {
            "scenario": "webhook ack",
            "endpoint": "POST /webhooks/github",
            "database": "sqlite",
            "rps": ack_rps,
            "ratio_to": "bare verify",
            "ratio": round(ack_rps / base_rps, 2),
        },
        {
            "scenario": "end to end",
            "endpoint": "journeys",
            "database": "sqlite",
            "events_per_second": events,
        },
        {"scenario": "a million", "endpoint": "desk list", "database": "sqlite", "p95_ms": p95},
    ]
    path.write_text(json.dumps({"meta": {"database": "sqlite"}, "rows": rows, "targets": []}))
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def row(output: str, name: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith(f"| {name} |")]
    return line


def test_a_receiver_on_a_busier_machine_is_not_called_slower(tmp_path):
    """Both the ack and its baseline halved: the ratio, and so the verdict, is unchanged."""
    before = saved_run(tmp_path / "a.json", 4000, 10000, 500, 10)
    after = saved_run(tmp_path / "b.json", 2000, 5000, 500, 10)
    done = run("bench.compare", str(before), str(after))
    assert done.returncode == 0, done.stdout + done.stderr
    assert row(done.stdout, ACK) == f"| {ACK} | x baseline | 0.40 | 0.40 | +0% |  |"
    assert "0 of 3 figures slower by more than 10%" in done.stdout


def test_each_kind_of_figure_is_flagged_when_more_than_ten_percent_worse(tmp_path):
    before = saved_run(tmp_path / "a.json", 5000, 10000, 500, 10)
    after = saved_run(tmp_path / "b.json", 4400, 10000, 440, 11.5)
    done = run("bench.compare", str(before), str(after))
    assert done.returncode == 1
    assert row(done.stdout, ACK).endswith("| -12% | slower by more than 10% |")
    assert "| -12% | slower" in row(done.stdout, "end to end · journeys (sqlite)")
    # A latency that rises 15 % is worse, not better.
    million = row(done.stdout, "a million · desk list (sqlite)")
    assert "| p95 ms | 10.00 | 11.50 | -15% | slower" in million
    assert "3 of 3 figures slower" in done.stdout


def test_a_change_within_ten_percent_is_not_flagged(tmp_path):
    before = saved_run(tmp_path / "a.json", 5000, 10000, 500, 10)
    after = saved_run(tmp_path / "b.json", 4600, 10000, 460, 10.9)
    done = run("bench.compare", str(before), str(after))
    assert done.returncode == 0
    assert "0 of 3 figures slower" in done.stdout


def test_rows_measured_in_only_one_run_are_left_out(tmp_path):
    before = saved_run(tmp_path / "a.json", 5000, 10000, 500, 10)
    data = json.loads(before.read_text())
    data["rows"] = [r for r in data["rows"] if r["scenario"] != "a million"]
    data["rows"].append({"scenario": "new", "endpoint": "x", "database": "sqlite", "rps": 1.0})
    after = tmp_path / "b.json"
    after.write_text(json.dumps(data))
    done = run("bench.compare", str(before), str(after))
    assert "a million" not in done.stdout and "| new" not in done.stdout
    assert "0 of 2 figures slower" in done.stdout


@pytest.mark.parametrize("content", ["not json", '{"meta": {}}', "[1, 2]"])
def test_a_file_that_is_no_saved_run_is_refused_before_anything_runs(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = run("bench", "--compare", str(bad))
    assert done.returncode == 2
    assert "--compare" in done.stderr and "Traceback" not in done.stderr
