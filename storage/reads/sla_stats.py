"""The SLA figures of the desk stats in plain SQL on the Reader, in one statement of two
parts, neither a scan of every ticket:

- the decided clocks (``met`` or ``breached``) and the resolved tickets' business minutes,
  summed from ``sla_counts`` (signed deltas kept by the triggers of migration 0011, like
  ``ticket_counts`` for storage.reads.desk_reads.stats);
- the running clocks that are overdue now or due soon, a range scan on the indexed
  ``sla_running_due_at`` up to the end of the window, then per clock in SQL: a clock runs
  while its outcome is undecided and it keeps a due instant (``sla_*_breach_at``).

Each applies the caller's ``Visibility``; both count live tickets only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from storage import dialect
from storage.reader import Reader
from storage.visibility import Params, Visibility

CLOCKS = ("response", "resolution")
MET, BREACHED = "met", "breached"


@dataclasses.dataclass
class ClockFigures:
    met: int = 0
    breached: int = 0  # decided breaches, and running clocks overdue now


@dataclasses.dataclass(frozen=True)
class SlaStats:
    # (priority, clock) -> figures; a pair with no decided or overdue clock is left out.
    clocks: dict[tuple[str, str], ClockFigures]
    overdue_tickets: int  # with a running clock overdue now
    at_risk_tickets: int  # with no clock overdue, and a running one due in (now, until]
    resolved: int  # tickets whose current cycle ended, with its business minutes known
    resolution_minutes: float

    @property
    def avg_resolution_business_minutes(self) -> float | None:
        return self.resolution_minutes / self.resolved if self.resolved else None


async def sla_stats(
    reader: Reader, visibility: Visibility, now: dt.datetime, at_risk_until: dt.datetime
) -> SlaStats:
    """The SLA figures at ``now`` of the tickets ``visibility`` shows; "at risk" is a running
    clock falling due in ``(now, at_risk_until]`` (the breach list's ``dueWithin`` window).
    One statement (a round trip fewer): the decided part, then the running part."""
    params = Params()
    in_scope = visibility.counts_sql(params)
    where = f"WHERE {in_scope}" if in_scope is not None else ""
    decided = (
        "SELECT 'decided', priority, response_outcome, resolution_outcome, sum(tickets), "
        f"sum(resolved), sum(resolution_minutes), NULL FROM sla_counts {where} "
        "GROUP BY priority, response_outcome, resolution_outcome"
    )
    moment, until = params(reader.instant(now)), params(reader.instant(at_risk_until))
    overdue = {
        clock: f"t.sla_{clock}_outcome IS NULL AND t.sla_{clock}_breach_at < {moment}"
        for clock in CLOCKS
    }
    # SQLite would rather walk the priority index for the GROUP BY (every ticket) than the
    # range on sla_running_due_at.
    group = dialect.off_index(reader.dialect, "t.priority")
    running = (
        "SELECT 'running', t.priority, NULL, NULL, "
        f"sum(CASE WHEN t.sla_running_due_at < {moment} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN t.sla_running_due_at > {moment} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {overdue['response']} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {overdue['resolution']} THEN 1 ELSE 0 END) "
        f"FROM tickets t WHERE t.sla_running_due_at <= {until} AND {visibility.sql(params)} "
        f"GROUP BY {group}"
    )
    rows = await reader.fetch_bounded(f"{decided} UNION ALL {running}", *params.values)

    clocks: dict[tuple[str, str], ClockFigures] = {}

    def figures(priority: str, clock: str) -> ClockFigures:
        return clocks.setdefault((priority, clock), ClockFigures())

    resolved = overdue_tickets = at_risk = 0
    minutes = 0.0
    for part, priority, *outcomes, a, b, c, d in rows:
        if part == "decided":
            count, resolved_count, resolution_minutes = a, b, c
            # A count of 0: deltas that cancel out, not folded yet.
            for clock, outcome in zip(CLOCKS, outcomes, strict=True):
                if count and outcome == MET:
                    figures(priority, clock).met += int(count)
                elif count and outcome == BREACHED:
                    figures(priority, clock).breached += int(count)
            resolved += int(resolved_count or 0)
            minutes += float(resolution_minutes or 0.0)
        else:
            late, soon, late_clocks = a, b, (c, d)
            overdue_tickets += int(late or 0)
            at_risk += int(soon or 0)
            for clock, count in zip(CLOCKS, late_clocks, strict=True):
                if count:
                    figures(priority, clock).breached += int(count)
    return SlaStats(clocks, overdue_tickets, at_risk, resolved, minutes)
