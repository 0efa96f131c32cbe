"""The process's SQLite write lock, which says whether anyone is waiting for it.

SQLite has one writer at a time; the writers of a process queue on this lock (``Database``)
instead of in SQLite's busy handler. A batch of the inbox worker holds it for many
deliveries; ``waiting`` lets the batch see that a webhook acknowledgement is queued behind
it and let it in (``storage.unit.BatchTransaction.let_others_in``).
"""

from __future__ import annotations

import asyncio
from typing import Literal


class WriteLock(asyncio.Lock):
    """An ``asyncio.Lock`` (FIFO: a holder that releases and acquires again queues behind
    those already waiting) that counts the coroutines waiting to acquire it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0

    async def acquire(self) -> Literal[True]:
        self.waiting += 1
        try:
            return await super().acquire()
        finally:
            self.waiting -= 1
