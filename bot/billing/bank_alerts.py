"""The 80 % and 95 % warnings of an hour bank: when time drawn on a time-based contract
brings a period's use (draws and overage against rollover and purchase) to a threshold,
a ``contract_events`` row records it once per contract, period and threshold (the unique
key makes it once across processes), and it is told through the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing import bank_webhook
from bot.billing import contracts as contract_service
from bot.rules import hour_bank
from bot.rules.billing_periods import Period, span_of
from bot.rules.invoicing import ContractKind
from storage.models import Client, Contract, ContractEvent
from storage.repos.billing import BillingRepo

THRESHOLDS = ((80, "bank.warning80"), (95, "bank.warning95"))


def crossed(used: int, available: int) -> list[tuple[int, str]]:
    """The thresholds ``used`` of ``available`` minutes has reached (all of them)."""
    if available <= 0:
        return [] if used <= 0 else list(THRESHOLDS)
    return [(percent, kind) for percent, kind in THRESHOLDS if used * 100 >= percent * available]


async def after_draw(
    session: AsyncSession, contract: Contract, day: dt.date, now: dt.datetime
) -> list[ContractEvent]:
    """Records the warnings the period holding ``day`` has newly reached; returns them."""
    if contract.kind != ContractKind.TIME_BASED:
        return []
    period = span_of(contract.starts_on, Period(contract.period), day)
    if period is None:
        return []
    entries = await contract_service.ledger(session, contract, period.last_day)
    used, available = hour_bank.used_fraction(entries, period)
    repo = BillingRepo(session)
    recorded: list[ContractEvent] = []
    client: Client | None = None
    for percent, kind in crossed(used, available):
        event = ContractEvent(
            contract_id=contract.id,
            kind=kind,
            period_start=period.start,
            at=now,
            detail={
                "percent": percent,
                "usedMinutes": used,
                "availableMinutes": available,
                "periodStart": period.start.isoformat(),
                "periodEnd": period.last_day.isoformat(),
            },
        )
        event_id = await repo.record_event(event)
        if event_id is not None:
            event.id = event_id
            recorded.append(event)
            if client is None:
                client = await repo.client(contract.client_id)
            if client is not None:
                await bank_webhook.enqueue(session, client, event_id)
    return recorded
