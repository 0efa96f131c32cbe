"""Alerts to tickets (issue 18, item 4): reading Alertmanager's and Grafana's webhooks, and
deciding what a notification does to its group's ticket. Pure: bot.tickets.alerts does the
storing.

One ticket per alert group (Alertmanager's ``groupKey``), one row per alert of the group (its
``fingerprint``). What a notification does (``plan``):

=====================================  ==================================================
the group                              a notification with firing alerts
=====================================  ==================================================
never seen                             opens a ticket (priority from the ``severity``
                                       label, the highest of the group's alerts)
its ticket open                        a comment for alerts not firing before; a repeat
                                       adds only to the counters
its ticket resolved or closed,         reopens it, with a comment
within the reopen window
... past the window                    opens a new ticket for the group
=====================================  ==================================================

When every alert of the group has resolved, the ticket resolves, unless a person has
worked on it (assigned it, commented, or the developers took it past ISSUE_CREATED on
GitHub): then a note says so and it stays open. A notification with no firing alert for a
group never seen opens nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from bot.rules.timestamps import parse_time
from bot.rules.validation import MAX_BODY_BYTES, MAX_SUBJECT, FieldErrors

ALERTMANAGER, GRAFANA = "alertmanager", "grafana"
FIRING, RESOLVED = "firing", "resolved"
MAX_ALERTS = 1000
MAX_GROUP_KEY = 4000
MAX_LABELS = 200
MAX_LABEL_CHARS = 4000
# Alertmanager's "no end" (Go's zero time).
NO_END_PREFIX = "0001-01-01"

# The label whose value sets the ticket's priority, and what each value means.
PRIORITY_LABEL = "severity"
PRIORITY_BY_SEVERITY: Mapping[str, str] = {
    "critical": "urgent",
    "emergency": "urgent",
    "page": "urgent",
    "p1": "urgent",
    "error": "high",
    "high": "high",
    "major": "high",
    "p2": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "p3": "medium",
    "info": "low",
    "low": "low",
    "minor": "low",
    "none": "low",
    "p4": "low",
}
PRIORITY_ORDER = ("low", "medium", "high", "urgent")
DEFAULT_PRIORITY = "medium"


@dataclasses.dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    generator_url: str | None = None

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or self.fingerprint


@dataclasses.dataclass(frozen=True)
class Notification:
    """One webhook call: the group's state as the sender sees it now."""

    source: str
    group_key: str
    status: str
    alerts: tuple[Alert, ...]
    group_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    common_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    common_annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    external_url: str | None = None
    title: str | None = None  # Grafana's own title

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status == FIRING)


def read_notification(source: str, data: dict[str, Any]) -> Notification:
    """Alertmanager's webhook (version 4) or Grafana's (which has Alertmanager's shape, with
    ``title`` and ``message``): every failing field reported at once, as a 400."""
    errors = FieldErrors()
    group_key = data.get("groupKey")
    alerts_data = data.get("alerts")
    if not isinstance(alerts_data, list) or not alerts_data:
        errors.add("alerts", "alerts must be a non-empty array of alerts")
        alerts_data = []
    elif len(alerts_data) > MAX_ALERTS:
        errors.add("alerts", f"alerts may hold at most {MAX_ALERTS} alerts")
        alerts_data = []
    status = data.get("status")
    if status not in (FIRING, RESOLVED):
        errors.add("status", "status must be firing or resolved")
    if source == ALERTMANAGER and str(data.get("version", "4")) != "4":
        errors.add("version", "Only Alertmanager's webhook version 4 is read")
    group_labels = _labels(errors, data, "groupLabels")
    common_labels = _labels(errors, data, "commonLabels")
    common_annotations = _labels(errors, data, "commonAnnotations")
    alerts = [alert for i, item in enumerate(alerts_data) if (alert := _alert(errors, i, item))]
    if group_key is None and source == GRAFANA:
        group_key = _grafana_group_key(data, group_labels or common_labels, alerts)
    if not isinstance(group_key, str) or not group_key.strip() or len(group_key) > MAX_GROUP_KEY:
        errors.add("groupKey", f"groupKey must be text of 1 to {MAX_GROUP_KEY} characters")
    errors.raise_if_any(
        "Send the webhook body as the sender makes it (Alertmanager's webhook_config, "
        "version 4; Grafana's webhook contact point)."
    )
    assert isinstance(group_key, str) and isinstance(status, str)
    return Notification(
        source=source,
        group_key=group_key,
        status=status,
        alerts=tuple(alerts),
        group_labels=group_labels,
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url=_text(data.get("externalURL")),
        title=_text(data.get("title")),
    )


def _grafana_group_key(
    data: dict[str, Any], group_labels: Mapping[str, str], alerts: Sequence[Alert]
) -> str | None:
    """Grafana before 9 sends no groupKey: its rule and group labels stand for it, else the
    labels its alerts share (else the first alert's)."""
    rule = data.get("ruleId") or data.get("ruleName") or data.get("title")
    labels = dict(group_labels) or _shared_labels(alerts)
    if rule is None and not labels:
        return None
    text = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return f"grafana:{rule or ''}:{{{text}}}"


def _shared_labels(alerts: Sequence[Alert]) -> dict[str, str]:
    if not alerts:
        return {}
    shared = dict(alerts[0].labels)
    for alert in alerts[1:]:
        shared = {k: v for k, v in shared.items() if alert.labels.get(k) == v}
    return shared or {"fingerprint": alerts[0].fingerprint}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _labels(errors: FieldErrors, data: Mapping[str, Any], field: str) -> dict[str, str]:
    value = data.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_LABELS:
        errors.add(field, f"{field} must be an object of at most {MAX_LABELS} text values")
        return {}
    labels: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str | int | float | bool):
            errors.add(field, f"{field}.{key} must be text")
            return {}
        text = str(item)
        if len(key) > MAX_LABEL_CHARS or len(text) > MAX_LABEL_CHARS:
            errors.add(field, f"{field} values may be at most {MAX_LABEL_CHARS} characters")
            return {}
        labels[key] = text
    return labels


def _alert(errors: FieldErrors, index: int, item: Any) -> Alert | None:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        errors.add(where, f"{where} must be an object")
        return None
    status = item.get("status")
    if status not in (FIRING, RESOLVED):
        errors.add(f"{where}.status", f"{where}.status must be firing or resolved")
        return None
    labels = _labels(errors, item, "labels")
    annotations = _labels(errors, item, "annotations")
    fingerprint = item.get("fingerprint")
    if fingerprint is None:
        fingerprint = label_fingerprint(labels)
    if not isinstance(fingerprint, str) or not 1 <= len(fingerprint) <= 200:
        errors.add(f"{where}.fingerprint", f"{where}.fingerprint must be text (1-200)")
        return None
    return Alert(
        fingerprint=fingerprint,
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=_instant(item.get("startsAt")),
        ends_at=_instant(item.get("endsAt")),
        generator_url=_text(item.get("generatorURL")),
    )


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """An alert's identity when the sender gives none: its labels."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or value.startswith(NO_END_PREFIX):
        return None
    return parse_time(value)


def priority_of(alerts: Sequence[Alert], label: str = PRIORITY_LABEL) -> str:
    """The highest priority the alerts' ``label`` values map to (medium when none does)."""
    found = [
        PRIORITY_BY_SEVERITY[value]
        for a in alerts
        if (value := a.labels.get(label, "").strip().lower()) in PRIORITY_BY_SEVERITY
    ]
    if not found:
        return DEFAULT_PRIORITY
    return max(found, key=PRIORITY_ORDER.index)


def subject_of(notification: Notification) -> str:
    """``[alert] HighLatency: p99 above 2 s (api, prod)``, within the subject's limit."""
    first = notification.firing[0] if notification.firing else notification.alerts[0]
    labels = notification.common_labels or first.labels
    name = labels.get("alertname") or notification.title or first.name
    summary = (
        notification.common_annotations.get("summary") or first.annotations.get("summary") or ""
    )
    where = ", ".join(
        labels[k] for k in ("service", "job", "instance", "env", "cluster") if labels.get(k)
    )
    text = (
        f"[alert] {name}" + (f": {summary}" if summary else "") + (f" ({where})" if where else "")
    )
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1] + "…"


def describe_alerts(alerts: Sequence[Alert]) -> str:
    """Markdown: each alert with its annotations, labels, start and source link."""
    parts = []
    for alert in alerts:
        lines = [f"### {alert.name} ({alert.status})"]
        for key in ("summary", "description", "runbook_url"):
            if alert.annotations.get(key):
                lines.append(f"- **{key}**: {alert.annotations[key]}")
        if alert.starts_at is not None:
            lines.append(f"- **started**: {alert.starts_at.isoformat()}")
        if alert.ends_at is not None and alert.status == RESOLVED:
            lines.append(f"- **ended**: {alert.ends_at.isoformat()}")
        if alert.generator_url:
            lines.append(f"- **source**: {alert.generator_url}")
        labels = ", ".join(f"`{k}={v}`" for k, v in sorted(alert.labels.items()))
        if labels:
            lines.append(f"- **labels**: {labels}")
        lines.append(f"- **fingerprint**: `{alert.fingerprint}`")
        parts.append("\n".join(lines))
    return _within_body("\n\n".join(parts))


def body_of(notification: Notification) -> str:
    sender = notification.source.capitalize()
    head = f"Opened from {sender} for the alert group `{notification.group_key}`."
    if notification.external_url:
        head += f" Sender: {notification.external_url}"
    return _within_body(head + "\n\n" + describe_alerts(notification.firing or notification.alerts))


def _within_body(text: str) -> str:
    data = text.encode()
    if len(data) <= MAX_BODY_BYTES:
        return text
    return data[: MAX_BODY_BYTES - 100].decode(errors="ignore") + "\n\n… (cut to fit)"


class Action(enum.StrEnum):
    OPEN = "opened"
    REOPEN = "reopened"
    REOPEN_AS_NEW = "opened_again"  # past the window: a new ticket for the group
    COMMENT = "commented"
    COUNT = "counted"  # nothing new: repeats counted
    RESOLVE = "resolved"
    KEEP_OPEN = "kept_open"  # all resolved, but a person worked on it
    IGNORE = "ignored"  # resolved alerts of a group never seen


@dataclasses.dataclass(frozen=True)
class TicketFacts:
    """What the rules need of the group's ticket."""

    finished: bool  # desk status resolved or closed
    finished_at: dt.datetime | None
    worked_on: bool


@dataclasses.dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    newly_firing: tuple[Alert, ...] = ()

    @property
    def opens_ticket(self) -> bool:
        return Action.OPEN in self.actions or Action.REOPEN_AS_NEW in self.actions


def plan(
    notification: Notification,
    known: Mapping[str, str],
    ticket: TicketFacts | None,
    now: dt.datetime,
    reopen_window: dt.timedelta,
) -> Plan:
    """What ``notification`` does, given each known alert's last status (by fingerprint) and
    the group's ticket (None: the group was never seen)."""
    newly_firing = tuple(a for a in notification.firing if known.get(a.fingerprint) != FIRING)
    state = {**known, **{a.fingerprint: a.status for a in notification.alerts}}
    all_resolved = all(status == RESOLVED for status in state.values())
    was_resolved = bool(known) and all(status == RESOLVED for status in known.values())
    if ticket is None:
        if not notification.firing:
            return Plan((Action.IGNORE,))
        return Plan((Action.OPEN,), notification.firing)
    actions: list[Action] = []
    if ticket.finished:
        if not newly_firing:
            return Plan((Action.COUNT,))
        recent = ticket.finished_at is not None and now - ticket.finished_at <= reopen_window
        if not recent:
            return Plan((Action.REOPEN_AS_NEW,), notification.firing)
        actions.append(Action.REOPEN)
    elif newly_firing:
        actions.append(Action.COMMENT)
    if all_resolved and not was_resolved and not ticket.finished:
        actions.append(Action.KEEP_OPEN if ticket.worked_on else Action.RESOLVE)
    return Plan(tuple(actions) or (Action.COUNT,), newly_firing)
