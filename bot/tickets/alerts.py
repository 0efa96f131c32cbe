"""Alerts to tickets: one notification from Alertmanager or Grafana, carried out on its group's
ticket in the caller's transaction (the rules: bot.rules.alerts.plan).

The group's row is touched first (``notifications + 1``), which takes its lock: two
notifications of one group are carried out one after the other, on PostgreSQL and SQLite
alike. A group seen for the first time is inserted before its ticket is opened; a second
first notification at once fails on the unique key, and the caller runs it again
(bot.api.alerts), when it finds the group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import alerts as rules
from bot.rules import ids
from bot.rules.alerts import Action, Notification
from bot.rules.desk_status import FINISHED, DeskStatus
from bot.rules.pipeline import Stage
from bot.tickets import desk
from bot.tickets.apikeys import KeyScope
from bot.tickets.intake import ItsmFields, open_ticket
from storage.models import AlertGroup, AlertInstance, Comment, Product, Ticket

# Who an alert ticket is "from": nobody to mail (email updates are off for them).
SUBMITTERS = {
    rules.ALERTMANAGER: "alertmanager@alerts.invalid",
    rules.GRAFANA: "grafana@alerts.invalid",
}
SUBMITTER_NAMES = {rules.ALERTMANAGER: "Alertmanager", rules.GRAFANA: "Grafana"}
TAG = "alert"
# Past ISSUE_CREATED, the developers have taken the ticket up on GitHub.
UNTOUCHED_STAGES = frozenset({Stage.RECEIVED.value, Stage.ISSUE_CREATED.value})


@dataclasses.dataclass(frozen=True)
class AlertSettings:
    reopen_window: dt.timedelta = dt.timedelta(hours=24)
    priority_label: str = rules.PRIORITY_LABEL


@dataclasses.dataclass(frozen=True)
class Outcome:
    ticket: Ticket
    actions: tuple[Action, ...]
    firing: int
    resolved: int
    new_alerts: int

    def view(self) -> dict[str, Any]:
        return {
            "ticket": {"id": self.ticket.desk_id, "publicId": ids.public_id(self.ticket.id)},
            "actions": [a.value for a in self.actions],
            "status": self.ticket.status,
            "alerts": {"firing": self.firing, "resolved": self.resolved, "new": self.new_alerts},
        }


@dataclasses.dataclass(frozen=True)
class Ignored:
    actions: tuple[Action, ...] = (Action.IGNORE,)

    def view(self) -> dict[str, Any]:
        return {"ticket": None, "actions": [a.value for a in self.actions], "status": None}


def group_hash(source: str, product: Product | None, group_key: str) -> str:
    scope = f"{source}\n{product.id if product else ''}\n{group_key}"
    return hashlib.sha256(scope.encode()).hexdigest()


async def receive(
    session: AsyncSession,
    scope: KeyScope,
    product: Product | None,
    notification: Notification,
    settings: AlertSettings,
    now: dt.datetime,
) -> Outcome | Ignored:
    key = group_hash(notification.source, product, notification.group_key)
    touched = await session.execute(
        update(AlertGroup)
        .where(AlertGroup.group_hash == key)
        .values(notifications=AlertGroup.notifications + 1, updated_at=now)
    )
    group = await session.scalar(select(AlertGroup).where(AlertGroup.group_hash == key))
    if not getattr(touched, "rowcount", 0) or group is None:
        if not notification.firing:
            return Ignored()
        group = AlertGroup(
            group_hash=key,
            source=notification.source,
            product_id=product.id if product else None,
            group_key=notification.group_key,
            ticket_id=0,
            notifications=1,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()  # a concurrent first notification stops here (unique key)
    instances = {
        i.fingerprint: i
        for i in await session.scalars(
            select(AlertInstance).where(AlertInstance.group_id == group.id)
        )
    }
    ticket = await session.get(Ticket, group.ticket_id) if group.ticket_id else None
    if ticket is not None and ticket.deleted_at is not None:
        ticket = None  # deleted by staff: the group starts over
    facts = await _facts(session, scope, ticket) if ticket is not None else None
    known = {fp: i.status for fp, i in instances.items()} if ticket is not None else {}
    plan = rules.plan(notification, known, facts, now, settings.reopen_window)
    if Action.IGNORE in plan.actions:
        return Ignored()
    if plan.opens_ticket:
        ticket = await _open(session, scope, product, notification, settings, now, ticket)
        group.ticket_id = ticket.id
    assert ticket is not None
    for action in plan.actions:
        await _carry_out(session, scope, ticket, action, plan.newly_firing, now)
    _record_alerts(session, group, instances, notification, now)
    await session.flush()
    return Outcome(
        ticket,
        plan.actions,
        firing=len(notification.firing),
        resolved=len(notification.alerts) - len(notification.firing),
        new_alerts=len(plan.newly_firing),
    )


async def _facts(session: AsyncSession, scope: KeyScope, ticket: Ticket) -> rules.TicketFacts:
    others = await session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.ticket_id == ticket.id, Comment.author != scope.name)
    )
    worked_on = bool(ticket.assignee) or bool(others) or ticket.stage not in UNTOUCHED_STAGES
    finished = ticket.status in FINISHED
    return rules.TicketFacts(
        finished=finished,
        finished_at=(ticket.resolved_at or ticket.updated_at) if finished else None,
        worked_on=worked_on,
    )


async def _open(
    session: AsyncSession,
    scope: KeyScope,
    product: Product | None,
    notification: Notification,
    settings: AlertSettings,
    now: dt.datetime,
    previous: Ticket | None,
) -> Ticket:
    body = rules.body_of(notification)
    if previous is not None:
        body = f"The group fired again after {ids.public_id(previous.id)} was finished.\n\n" + body
    opened = await open_ticket(
        session,
        product=product,
        subject=rules.subject_of(notification),
        body=body,
        email=SUBMITTERS[notification.source],
        submitter_name=SUBMITTER_NAMES[notification.source],
        priority=rules.priority_of(notification.firing, settings.priority_label),
        tags=(TAG,),
        source_type="alert",
        created_by=scope.public_id,
        is_test=scope.is_test,
        email_updates=False,
        itsm=ItsmFields(tenant_id=scope.tenant_id, app_id=scope.app_id, source=notification.source),
        now=now,
    )
    return opened.ticket


async def _carry_out(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    action: Action,
    newly_firing: tuple[rules.Alert, ...],
    now: dt.datetime,
) -> None:
    if action is Action.COMMENT:
        await _note(session, scope, ticket, _firing_note(newly_firing), now)
    elif action is Action.REOPEN:
        await desk.update_ticket(session, scope, ticket, {"status": DeskStatus.OPEN.value}, now)
        await _note(session, scope, ticket, "Fired again.\n\n" + _firing_note(newly_firing), now)
    elif action is Action.RESOLVE:
        await desk.update_ticket(session, scope, ticket, {"status": DeskStatus.RESOLVED.value}, now)
        await _note(session, scope, ticket, "Every alert of the group has resolved.", now)
    elif action is Action.KEEP_OPEN:
        await _note(
            session,
            scope,
            ticket,
            "Every alert of the group has resolved. The ticket stays open: someone has "
            "worked on it; resolve it when that work is done.",
            now,
        )


def _firing_note(alerts: tuple[rules.Alert, ...]) -> str:
    count = len(alerts)
    head = f"{count} alert{'s' if count != 1 else ''} firing in this group:"
    return head + "\n\n" + rules.describe_alerts(alerts)


async def _note(
    session: AsyncSession, scope: KeyScope, ticket: Ticket, body: str, now: dt.datetime
) -> None:
    """An internal note (not a response to anyone; the submitter is the alerting system)."""
    await desk.add_comment(session, scope, ticket, body, True, now)


def _record_alerts(
    session: AsyncSession,
    group: AlertGroup,
    instances: dict[str, AlertInstance],
    notification: Notification,
    now: dt.datetime,
) -> None:
    for alert in notification.alerts:
        row = instances.get(alert.fingerprint)
        if row is None:
            row = AlertInstance(
                group_id=group.id,
                fingerprint=alert.fingerprint,
                status=alert.status,
                labels=dict(alert.labels),
                starts_at=alert.starts_at,
                ends_at=alert.ends_at,
                times_seen=1,
                first_seen_at=now,
                last_seen_at=now,
            )
            session.add(row)
            instances[alert.fingerprint] = row
            continue
        row.status = alert.status
        row.ends_at = alert.ends_at
        row.starts_at = alert.starts_at or row.starts_at
        row.times_seen += 1
        row.last_seen_at = now
