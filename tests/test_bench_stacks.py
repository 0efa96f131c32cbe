"""bench.stacks reads py-spy's raw stacks: shares of the event loop's samples, idle threads out."""

from __future__ import annotations

from bench.stacks import summarize

RAW = """\
main;run_forever;_run_once;handle;track_ticket;fetch 30
main;run_forever;_run_once;handle;track_ticket;dumps 10
main;run_forever;_run_once;select 60
thread;_connection_worker_thread 500
"""


def test_shares_are_of_the_loop_threads_samples_only(tmp_path):
    path = tmp_path / "stacks.txt"
    path.write_text(RAW)
    shares = dict((frame, round(share, 2)) for share, frame in summarize(path))
    assert shares["select"] == 0.6
    assert shares["handle"] == 0.4 and shares["track_ticket"] == 0.4
    assert shares["fetch"] == 0.3 and shares["dumps"] == 0.1
    assert "run_forever" not in shares  # on every sample: says nothing
    assert "_connection_worker_thread" not in shares  # an idle driver thread
