"""The inbox worker: runs every handler that matches a stored delivery, each on its own.

One handler failing does not hide the others (gidgethub's ``Router.dispatch`` would stop
at the first exception). If any handler hit a transient failure the delivery is retried
(handlers are idempotent: the pipeline's rules make a repeated event a no-op); a payload
a handler cannot make sense of is parked as failed at once, with the error, for an admin.
"""

from __future__ import annotations

import json
import logging

from gidgethub import sansio

from bot.github import GitHubApp
from bot.workers import GiveUp, RetryLater
from storage.database import Database
from storage.models import Delivery
from webhooks import router
from webhooks.context import HandlerContext

log = logging.getLogger(__name__)


class InboxProcessor:
    def __init__(self, db: Database, github: GitHubApp | None) -> None:
        self.db = db
        self.github = github

    async def __call__(self, delivery: Delivery) -> None:
        try:
            data = json.loads(delivery.payload)
        except ValueError as exc:
            raise GiveUp(f"stored payload is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise GiveUp("stored payload is not a JSON object")
        event = sansio.Event(data, event=delivery.event, delivery_id=delivery.delivery_id)
        bot_login = await self.github.bot_login() if self.github is not None else None
        ctx = HandlerContext(
            db=self.db, github=self.github, delivery_id=delivery.delivery_id, bot_login=bot_login
        )
        extra = {
            "delivery_id": delivery.delivery_id,
            "event": delivery.event,
            "action": delivery.action,
        }
        retry: RetryLater | None = None
        failures: list[str] = []
        for callback in router.fetch(event):
            name = getattr(callback, "__name__", repr(callback))
            try:
                await callback(event, ctx=ctx)
            except RetryLater as exc:
                log.info("handler %s will retry: %s", name, exc, extra=extra)
                if retry is None or (exc.after or 0) > (retry.after or 0):
                    retry = exc
            except GiveUp as exc:
                failures.append(f"{name}: {exc}")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # The payload does not have the shape the handler expects: retrying won't help.
                log.exception("handler %s could not read the payload", name, extra=extra)
                failures.append(f"{name}: unexpected payload shape: {type(exc).__name__}: {exc}")
        if retry is not None:
            raise RetryLater("; ".join([str(retry), *failures]), after=retry.after)
        if failures:
            raise GiveUp("; ".join(failures))
