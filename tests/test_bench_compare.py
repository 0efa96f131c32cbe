"""``python -m bench --compare``: a run's figures beside an earlier run's, judged by the
figure that survives a busy machine (the ratio to the same run's baseline), and flagged when
more than 10 % worse."""

from __future__ import annotations

import json

import pytest

from bench import compare, report
from bench.__main__ import main


def _rows(ack_rps: float, base_rps: float, events: float, p95: float) -> list[dict]:
    return [
        {"scenario": "baseline", "endpoint": "bare verify", "database": "sqlite", "rps": base_rps},
        {
            "scenario": "webhook ack",
            "endpoint": "POST /webhooks/github",
            "database": "sqlite",
            "rps": ack_rps,
            "ratio_to": "bare verify",
        },
        {
            "scenario": "end to end",
            "endpoint": "journeys",
            "database": "sqlite",
            "events_per_second": events,
            "processed_seconds": 20.0,
            "outbox_drained_seconds": 21.0,
            "github_calls_per_journey": 9.0,
            "errors": 0,
        },
        {
            "scenario": "a million",
            "endpoint": "desk list",
            "database": "sqlite",
            "rps": 900.0,
            "p95_ms": p95,
            "tickets": 1_000_000,
            "seed_seconds": 60,
            "database_mb": 900,
            "server_rss_mb": 150,
            "connections": 4,
        },
    ]


def _ratioed(rows: list[dict]) -> list[dict]:
    report.table(rows)  # sets each row's ratio, as the bench does before saving
    return rows


def test_a_receiver_on_a_busier_machine_is_not_called_slower():
    """Both the ack and its baseline halved: the ratio, and so the verdict, is unchanged."""
    before = _ratioed(_rows(4000, 10000, 500, 10))
    after = _ratioed(_rows(2000, 5000, 500, 10))
    by_row = {c.row: c for c in compare.compare(after, before)}
    ack = by_row["webhook ack · POST /webhooks/github (sqlite)"]
    assert (ack.metric, ack.before, ack.after, ack.slower) == ("x baseline", 0.4, 0.4, False)


def test_each_kind_of_figure_is_flagged_when_more_than_ten_percent_worse():
    before = _ratioed(_rows(5000, 10000, 500, 10))
    after = _ratioed(_rows(4400, 10000, 440, 11.5))
    changes = {c.row: c for c in compare.compare(after, before)}
    assert changes["webhook ack · POST /webhooks/github (sqlite)"].slower  # 0.50 -> 0.44
    assert changes["end to end · journeys (sqlite)"].slower  # 500 -> 440 events/s
    million = changes["a million · desk list (sqlite)"]
    assert million.metric == "p95 ms" and million.slower  # a latency rising 15 % is worse
    assert round(million.change, 2) == -0.15


def test_a_change_within_ten_percent_is_not_flagged():
    before = _ratioed(_rows(5000, 10000, 500, 10))
    after = _ratioed(_rows(4600, 10000, 460, 10.9))
    assert not any(c.slower for c in compare.compare(after, before))
    rendered = compare.render(compare.compare(after, before), "earlier.json")
    assert "0 of 4 figures slower" in rendered


def test_rows_measured_in_only_one_run_are_left_out():
    before = _ratioed(_rows(5000, 10000, 500, 10))
    after = [r for r in _ratioed(_rows(5000, 10000, 500, 10)) if r["scenario"] != "a million"]
    after.append({"scenario": "new", "endpoint": "x", "database": "sqlite", "rps": 1.0})
    rows = [c.row for c in compare.compare(after, before)]
    assert "a million · desk list (sqlite)" not in rows
    assert not any(r.startswith("new") for r in rows)


def test_a_saved_run_round_trips_through_the_file(tmp_path):
    rows = _ratioed(_rows(5000, 10000, 500, 10))
    saved = report.save(rows, {"database": "sqlite", "quick": True}, tmp_path / "run.json")
    assert compare.load_rows(saved) == json.loads(saved.read_text())["rows"]
    assert json.loads(saved.read_text())["rows"][1]["ratio"] == 0.5


@pytest.mark.parametrize("content", ["not json", '{"meta": {}}', "[1, 2]"])
def test_a_file_that_is_no_saved_run_is_refused_before_anything_runs(tmp_path, content, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(SystemExit) as exc:
        main(["--compare", str(bad)])
    assert exc.value.code == 2
    assert "--compare" in capsys.readouterr().err
