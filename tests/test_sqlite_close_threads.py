"""Closing an SQLite database never pulls a connection from under a thread still using it.

A thread that runs a statement on a connection the loop then closes crashes the whole
process (``Fatal Python error: Segmentation fault``, exit 139), so each scenario runs in a
process of its own and the test asserts how that process ended. The scenarios are the ways
the server's shutdown reaches ``Database.dispose``: the checkpoint task cancelled while its
statement runs in a thread (twice at once: the server's periodic checkpoint and another
caller's), and every task cancelled as ``asyncio.run`` and aiohttp's ``run_app`` do when they
end."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from storage.sqlite import pragmas
from storage.sqlite.threads import run_to_the_end

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from sqlalchemy import text
    from storage.database import Database

    async def scenario(path, kind):
        db = Database(f"sqlite+aiosqlite:///{path}")
        async with db.begin() as session:  # a WAL worth copying (a checkpoint of ~1 MB)
            await session.execute(text("CREATE TABLE scratch (n INTEGER, b BLOB)"))
            for n in range(200):
                await session.execute(
                    text("INSERT INTO scratch VALUES (:n, randomblob(4000))"), {"n": n}
                )
        if kind == "overlapping":
            checkpoints = [asyncio.create_task(db.checkpoint()) for _ in range(2)]
        else:
            checkpoints = [asyncio.create_task(db.checkpoint())]
        for _ in range(3):
            await asyncio.sleep(0)  # the statement is running in its thread now
        if kind == "every-task":
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        else:
            for task in checkpoints:
                task.cancel()
        await db.dispose()
        await asyncio.gather(*checkpoints, return_exceptions=True)

    async def main(folder, kind):
        for n in range(20):
            await scenario(f"{folder}/{n}.db", kind)
        print("closed cleanly")

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.parametrize("kind", ["cancelled", "overlapping", "every-task"])
def test_dispose_waits_for_every_checkpoint_thread(tmp_path, kind):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), kind],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-3000:]}"
    assert "closed cleanly" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr


async def test_a_cancelled_statement_in_a_thread_is_interrupted_and_waited_for(tmp_path, caplog):
    """The inline writer's wait for another process's lock and the Reader's long reads run
    in a thread: their cancelled caller moves on (to a rollback, a close) only once the
    thread has let go of the connection, and interrupting makes that quick."""
    connection = pragmas.connect(str(tmp_path / "t.db"))
    finished = threading.Event()
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"

    def query() -> object:
        try:
            return connection.execute(endless).fetchall()
        finally:
            finished.set()

    task = asyncio.create_task(run_to_the_end(connection, query))
    await asyncio.sleep(0.1)  # the query is running in its thread
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()  # nothing uses the connection any more
    assert time.monotonic() - started < 10  # the query itself never ends
    connection.close()
    await asyncio.sleep(0.05)
    gc.collect()  # an outcome nobody read would be logged now ("never retrieved")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
