"""The workspace inbox's saved views, its SLA clock column and its stage badge: pure tables
and rules, no I/O (``bot.web.desk_inbox`` reads and draws them).

| view        | lists                                                        | order              |
| ----------- | ------------------------------------------------------------ | ------------------ |
| open        | open or pending tickets (the default)                        | newest first       |
| mine        | open or pending, assigned to the signed-in person            | newest first       |
| unassigned  | open or pending, with no assignee                            | newest first       |
| due-soon    | a running SLA clock falls due within ``DUE_SOON`` (4 hours)  | soonest first      |
| breached    | a promise is broken now (the SLA breach list)                | oldest breach first|
| pending     | waiting on the customer (desk status ``pending``)            | newest first       |
| product     | open or pending, of the product chosen                       | newest first       |
| stage       | at the pipeline stage chosen, any status                     | newest first       |
| all         | every ticket                                                 | newest first       |

A filter of the form narrows a view, and replaces the view's own condition on the same
column: "Mine" with status resolved lists the person's resolved tickets.

"Due soon" and "Breached" are the SLA lists of ``bot.tickets.sla_lists`` (the same queries
as ``GET /api/sla/breaches`` and its ``dueWithin``): they page by the SLA instant, and take
only the filters those lists know (priority, product, assignee). The window is wall-clock
time ahead of now, as ``dueWithin`` is; the clock column counts business minutes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from bot.rules import sla
from bot.rules.desk_status import DeskStatus
from bot.rules.pipeline import STAGES, Stage

DUE_SOON = dt.timedelta(hours=4)
UNFINISHED = (DeskStatus.OPEN.value, DeskStatus.PENDING.value)


class Order(enum.StrEnum):
    NEWEST = "newest"  # ticket number, newest first (storage.reads.desk_reads.page)
    DUE = "due"  # the SLA "due within" list, soonest first
    BREACH = "breach"  # the SLA breach list, oldest breach first


class Chooser(enum.StrEnum):
    """A view that lists by one filter's value: it offers that filter's choices."""

    PRODUCT = "product"
    STAGE = "stage"


@dataclasses.dataclass(frozen=True)
class View:
    key: str
    label: str
    caption: str
    order: Order = Order.NEWEST
    statuses: tuple[str, ...] | None = None
    status: str | None = None
    mine: bool = False
    unassigned: bool = False
    chooser: Chooser | None = None


VIEWS: tuple[View, ...] = (
    View("open", "All open", "Open and pending tickets, newest first", statuses=UNFINISHED),
    View("mine", "Mine", "Open tickets assigned to you, newest first", statuses=UNFINISHED,
         mine=True),
    View("unassigned", "Unassigned", "Open tickets nobody is assigned to, newest first",
         statuses=UNFINISHED, unassigned=True),
    View("due-soon", "Due soon", "An SLA clock falls due within 4 hours, soonest first",
         order=Order.DUE),
    View("breached", "Breached", "A promise is broken, oldest breach first", order=Order.BREACH),
    View("pending", "Waiting on customer", "Pending tickets, newest first",
         status=DeskStatus.PENDING.value),
    View("product", "By product", "Open tickets of the product, newest first",
         statuses=UNFINISHED, chooser=Chooser.PRODUCT),
    View("stage", "By stage", "Tickets at the stage, newest first", chooser=Chooser.STAGE),
    View("all", "All", "Every ticket, newest first"),
)  # fmt: skip
BY_KEY = {view.key: view for view in VIEWS}
DEFAULT_VIEW = VIEWS[0]

# The filters of the form, and those the SLA lists' views take.
FILTERS = ("q", "status", "priority", "product", "stage", "assignee")
SLA_FILTERS = ("priority", "product", "assignee")


def filters_of(view: View) -> tuple[str, ...]:
    return FILTERS if view.order is Order.NEWEST else SLA_FILTERS


# The badge's short words; the stage's title (bot.rules.pipeline) is its accessible text.
STAGE_SHORT = {
    Stage.RECEIVED: "Received",
    Stage.ISSUE_CREATED: "Issue",
    Stage.FIX_IN_PROGRESS: "Fixing",
    Stage.PR_OPEN: "PR",
    Stage.CHANGES_REQUESTED: "Changes",
    Stage.MERGED: "Merged",
    Stage.DEPLOYED: "Deployed",
    Stage.CLOSED: "Closed",
}


def stage_step(stage: Stage) -> int:
    """1 for RECEIVED … 8 for CLOSED: how many of the badge's segments are filled."""
    return STAGES.index(stage) + 1


class ClockState(enum.StrEnum):
    DUE = "due"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclasses.dataclass(frozen=True)
class NextDue:
    """The clock an inbox row shows: the next promise due, one already broken, or paused.
    ``minutes``: business minutes left (due) or overdue (breached); 0 when paused."""

    state: ClockState
    due_at: dt.datetime
    minutes: float


def next_due(response: sla.Status, resolution: sla.Status) -> NextDue | None:
    """What a row says of a ticket's two clocks: a broken promise still running (or paused
    late) first, the earliest; else "paused" while pending; else the running clock due
    first; None once both clocks have stopped (answered and resolved)."""
    live = [s for s in (response, resolution) if s.ended_at is None]
    broken = [s for s in live if s.state is sla.State.BREACHED]
    if broken:
        first = min(broken, key=lambda s: s.due_at)
        return NextDue(ClockState.BREACHED, first.due_at, max(0.0, -first.left_minutes))
    paused = [s for s in live if s.state is sla.State.PAUSED]
    if paused:
        return NextDue(ClockState.PAUSED, min(s.due_at for s in paused), 0.0)
    running = [s for s in live if s.state is sla.State.RUNNING]
    if running:
        first = min(running, key=lambda s: s.due_at)
        return NextDue(ClockState.DUE, first.due_at, max(0.0, first.left_minutes))
    return None
