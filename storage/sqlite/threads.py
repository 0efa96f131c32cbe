"""A statement handed to a thread is finished before its caller moves on, cancelled or not.

A thread cannot be stopped from outside, and a connection closed (or used by the loop) while
a thread runs a statement on it can crash the process. ``run_to_the_end`` runs a call in a
thread and, should its caller be cancelled, interrupts the statement (``sqlite3.Connection.
interrupt`` is safe from any thread) and still waits for the thread before the
``CancelledError`` goes on; so when a caller's ``finally`` runs (a rollback, a close), no
thread is using its connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


async def run_to_the_end(
    connection: sqlite3.Connection | None, function: Callable[..., T], *args: Any
) -> T:
    """``function(*args)`` in the loop's default executor; a cancelled caller interrupts
    ``connection`` (if given) and waits for the thread before raising ``CancelledError``."""
    loop = asyncio.get_running_loop()
    running: Future[T] = Future()

    def call() -> None:
        if not running.set_running_or_notify_cancel():
            return  # cancelled before it started: it never touches the connection
        try:
            running.set_result(function(*args))
        except BaseException as exc:
            running.set_exception(exc)

    loop.run_in_executor(None, call)
    waiter = asyncio.wrap_future(running)
    # Its outcome is read here, or deliberately dropped (a cancelled caller): never left for
    # asyncio to report as "never retrieved".
    waiter.add_done_callback(_retrieved)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(waiter)
        except asyncio.CancelledError:
            if running.cancel() or running.done():
                raise  # it never ran, or has just finished
            if not cancelled and connection is not None:
                connection.interrupt()
            cancelled = True
            continue  # wait for the thread (cancelled again: wait still)
        except BaseException:
            if cancelled:
                raise asyncio.CancelledError() from None
            raise
        if cancelled:
            raise asyncio.CancelledError()
        return result


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
