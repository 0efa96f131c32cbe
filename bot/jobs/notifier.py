"""The notification worker's handler: the jobs that tell someone outside TinyDesk.

SLA and hour-bank webhooks, ticket callbacks and mail are worked here whether or not a GitHub
App is configured; the GitHub outbox (bot/github/outbox.py) works only ``GITHUB_KINDS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.jobs.outcomes import GiveUp
from storage.models import Job

JobHandler = Callable[[Job], Awaitable[None]]


class Notifier:
    def __init__(self, handlers: Mapping[str, JobHandler]) -> None:
        self.handlers = dict(handlers)

    async def handle(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            raise GiveUp(f"no handler for job kind {job.kind!r}")
        await handler(job)
