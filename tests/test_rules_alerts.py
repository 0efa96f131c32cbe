"""The alert rules' table (bot.rules.alerts.plan), row by row, without a database: what a
notification does to its group's ticket."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.alerts import ALERTMANAGER, Action, Alert, Notification, TicketFacts, plan

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=24)


def note(**alerts: str) -> Notification:
    group = tuple(Alert(fp, status, {"alertname": "A"}, {}) for fp, status in alerts.items())
    firing = any(a.status == "firing" for a in group)
    return Notification(ALERTMANAGER, "g", "firing" if firing else "resolved", group)


OPEN = TicketFacts(finished=False, finished_at=None, worked_on=False)
WORKED = TicketFacts(finished=False, finished_at=None, worked_on=True)
RECENT = TicketFacts(finished=True, finished_at=NOW - dt.timedelta(hours=1), worked_on=False)
OLD = TicketFacts(finished=True, finished_at=NOW - dt.timedelta(days=3), worked_on=False)


@pytest.mark.parametrize(
    ("notification", "known", "ticket", "actions", "new"),
    [
        # never seen
        (note(a="firing"), {}, None, (Action.OPEN,), {"a"}),
        (note(a="resolved"), {}, None, (Action.IGNORE,), set()),
        # its ticket open
        (note(a="firing"), {"a": "firing"}, OPEN, (Action.COUNT,), set()),
        (note(a="firing", b="firing"), {"a": "firing"}, OPEN, (Action.COMMENT,), {"b"}),
        (
            note(a="resolved", b="firing"),
            {"a": "firing", "b": "firing"},
            OPEN,
            (Action.COUNT,),
            set(),
        ),
        (note(a="resolved"), {"a": "firing"}, OPEN, (Action.RESOLVE,), set()),
        (note(a="resolved"), {"a": "firing"}, WORKED, (Action.KEEP_OPEN,), set()),
        (note(a="resolved"), {"a": "resolved"}, WORKED, (Action.COUNT,), set()),
        # resolved on one notification, a new alert firing on the next: a comment
        (note(b="firing"), {"a": "resolved"}, OPEN, (Action.COMMENT,), {"b"}),
        # its ticket finished
        (note(a="firing"), {"a": "resolved"}, RECENT, (Action.REOPEN,), {"a"}),
        (note(a="firing"), {"a": "resolved"}, OLD, (Action.REOPEN_AS_NEW,), {"a"}),
        (note(a="resolved"), {"a": "resolved"}, RECENT, (Action.COUNT,), set()),
    ],
)
def test_each_row_of_the_table(notification, known, ticket, actions, new):
    result = plan(notification, known, ticket, NOW, WINDOW)
    assert result.actions == actions
    assert {a.fingerprint for a in result.newly_firing} == new
    assert result.opens_ticket == (actions[0] in (Action.OPEN, Action.REOPEN_AS_NEW))
