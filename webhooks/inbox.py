"""The inbox worker: runs every handler that matches a stored delivery, each on its own.

One handler failing does not hide the others (gidgethub's ``Router.dispatch`` would stop
at the first exception). If any handler hit a transient failure the delivery is retried
(handlers are idempotent: the pipeline's rules make a repeated event a no-op); a payload
a handler cannot make sense of is parked as failed at once, with the error, for an admin.

``in_unit`` does it in a given unit of work (``storage.unit``): the worker's
``BatchTransaction`` shared by a batch of deliveries, each handler in a savepoint of its
own; calling the processor does it with ``OwnTransactions``.
"""

from __future__ import annotations

import logging

import orjson
from gidgethub import sansio

from bot.github.client import GitHubApp
from bot.jobs.outcomes import GiveUp, RetryLater
from storage.database import Database
from storage.models import Delivery
from storage.unit import OwnTransactions, Unit
from webhooks import router
from webhooks.context import HandlerContext

log = logging.getLogger(__name__)


class InboxProcessor:
    def __init__(
        self, db: Database, github: GitHubApp | None, *, close_grace_seconds: float = 60.0
    ) -> None:
        self.db = db
        self.github = github
        self.close_grace_seconds = close_grace_seconds

    async def __call__(self, delivery: Delivery) -> None:
        await self.in_unit(delivery, OwnTransactions(self.db))

    async def in_unit(self, delivery: Delivery, unit: Unit) -> None:
        event = self._event(delivery)
        bot_login = None
        if self.github is not None:
            known, bot_login = self.github.known_bot_login()
            if not known:
                bot_login = await unit.outside(self.github.bot_login)
        await self._run_handlers(delivery, event, unit, bot_login)

    @staticmethod
    def _event(delivery: Delivery) -> sansio.Event:
        try:
            # The receiver's parser (orjson.JSONDecodeError is a ValueError).
            data = orjson.loads(delivery.payload)
        except ValueError as exc:
            raise GiveUp(f"stored payload is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise GiveUp("stored payload is not a JSON object")
        if not isinstance(data.get("action", ""), str | None):
            # gidgethub's router looks the action up in a dict: a list or object would raise.
            raise GiveUp("the payload's action is not a string")
        return sansio.Event(data, event=delivery.event, delivery_id=delivery.delivery_id)

    async def _run_handlers(
        self,
        delivery: Delivery,
        event: sansio.Event,
        unit: Unit,
        bot_login: str | None,
    ) -> None:
        ctx = HandlerContext(
            unit=unit,
            github=self.github,
            delivery_id=delivery.delivery_id,
            bot_login=bot_login,
            close_grace_seconds=self.close_grace_seconds,
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
                async with unit.savepoint():
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
