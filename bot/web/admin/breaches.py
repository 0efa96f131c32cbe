"""The admin SLA pages' shared pieces and the breaches page (``/admin/breaches``): every ticket
whose promise is broken now, or with "due within" the ones about to break it, with the same
rules and query as ``GET /api/sla/breaches`` (bot.tickets.sla_lists). The workspace's
breaches page (bot.web.desk_breaches) renders through the same pieces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, DB
from bot.errors import ApiError
from bot.rules import sla
from bot.rules.desk_input import PRIORITIES
from bot.tickets import sla_lists
from bot.tickets.sla_clock import Standing
from bot.web.admin_auth import admin_only, admin_page
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import Ticket
from storage.visibility import Visibility

STATE_WORDS = {
    sla.State.RUNNING: "running",
    sla.State.PAUSED: "paused (pending)",
    sla.State.MET: "met",
    sla.State.BREACHED: "breached",
}
TARGET_CHOICES = [
    ("", "Either"),
    ("response", "Response"),
    ("resolve", "Resolution"),
    ("both", "Both"),
]
VIOLATED_WORDS = {"response": "Response", "resolve": "Resolution", "both": "Both"}
# The list's parameters a page's filter form sends (the workspace's adds productSlug).
FILTERS = ("target", "priority", "dueWithin", "cursor")


def minutes_text(minutes: float) -> str:
    """Business minutes as people read them: 45 min, 3 h 20 min, 2 d 4 h (of 24 h days)."""
    total = round(minutes)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def clock_summary(status: sla.Status) -> Html:
    """One clock: its state, due time and how far over (or how much is left)."""
    if status.state is sla.State.BREACHED:
        how = f"overdue by {minutes_text(-status.left_minutes)}"
    elif status.state is sla.State.MET:
        how = f"met with {minutes_text(status.left_minutes)} to spare"
    else:
        how = f"{minutes_text(status.left_minutes)} left"
    badge = "warn" if status.state is sla.State.BREACHED else "ok"
    return fragment(
        '<span class="badge {badge}">{state}</span> due {due}, {how}',
        badge=badge,
        state=STATE_WORDS[status.state],
        due=time_element(status.due_at),
        how=how,
    )


def sla_facts(standing: Standing | None) -> list[tuple[str, object]]:
    """The admin ticket page's SLA rows."""
    if standing is None:
        return [("SLA", "no working time ahead in the policy's calendar")]
    resolution = standing.resolution
    cycle = len(standing.earlier_cycles) + 1
    return [
        ("SLA policy", standing.policy.name),
        ("Response", clock_summary(standing.response)),
        (
            "Resolution" + (f" (cycle {cycle})" if cycle > 1 else ""),
            clock_summary(resolution),
        ),
    ]


def sla_cell(ticket: Ticket, now: dt.datetime) -> Html:
    """The list's SLA column, from the stored instants alone (no rules run per row)."""
    at = ticket.sla_breach_at
    if at is None:
        return Html("—")
    if at < now:
        return fragment('<span class="badge warn">breached</span> {t}', t=time_element(at))
    return fragment("due {t}", t=time_element(at))


def _options(choices: Sequence[tuple[str, str]], chosen: str) -> Html:
    return join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=value,
            t=label,
            sel=Html(" selected") if value == chosen else Html(""),
        )
        for value, label in choices
    )


def filters_form(action: str, query: Mapping[str, str], products: Sequence[str] = ()) -> Html:
    """The list's filters as a GET form to ``action``; a product choice when ``products``
    (the slugs the viewer may see) are given."""
    priorities = [("", "Any"), *((p, p) for p in PRIORITIES)]
    product = Html("")
    if products:
        product = fragment(
            '<div class="field"><label for="productSlug">Product</label><select '
            'id="productSlug" name="productSlug">{options}</select></div>',
            options=_options(
                [("", "Any"), *((p, p) for p in products)], query.get("productSlug", "")
            ),
        )
    return fragment(
        '<form class="filters" method="get" action="{action}">'
        '<div class="field"><label for="target">Promise</label><select id="target" '
        'name="target">{targets}</select></div>'
        '<div class="field"><label for="priority">Priority</label><select id="priority" '
        'name="priority">{priorities}</select></div>{product}'
        '<div class="field"><label for="dueWithin">Due within</label><input id="dueWithin" '
        'name="dueWithin" value="{due}" placeholder="60m, 4h, 2d" aria-describedby="due-hint">'
        '<p class="hint" id="due-hint">Leave empty for the breaches; a window lists the '
        "tickets about to breach.</p></div>"
        '<button type="submit">Show</button></form>',
        action=action,
        targets=_options(TARGET_CHOICES, query.get("target", "")),
        priorities=_options(priorities, query.get("priority", "")),
        product=product,
        due=query.get("dueWithin", ""),
    )


def list_query(request: web.Request, names: Sequence[str] = FILTERS) -> dict[str, str]:
    """The list's parameters from a page's GET form: the known ``names``, blank ones left out
    (an empty select is "any")."""
    return {name: value for name, value in request.query.items() if name in names and value.strip()}


async def read_breaches(
    request: web.Request, visibility: Visibility, query: Mapping[str, str]
) -> tuple[dict[str, Any] | None, ApiError | None]:
    """A page of the list (``sla_lists``, as the API's) at the request's clock, or why the
    query was refused."""
    try:
        parsed = sla_lists.parse_query(query)
        body = await sla_lists.page(
            request.app[DB].reader, visibility, parsed, request.app[CLOCK]()
        )
    except ApiError as exc:
        return None, exc
    return body, None


def breaches_content(
    body: dict[str, Any] | None,
    error: ApiError | None,
    query: Mapping[str, str],
    *,
    here: tuple[str, ...],
    ticket_path: Callable[[str], str],
    products: Sequence[str] = (),
) -> Html:
    """The list as a page's content: heading, filters (a GET form to the page at ``here``,
    its path's segments), the reason a
    query was refused, the table (each ticket linked to ``ticket_path(publicId)``) and the
    next page's link."""
    within = "dueWithin" in query
    rows = []
    for entry in (body or {}).get("breaches", []):
        what = VIOLATED_WORDS.get(entry["atRisk"] if within else entry["violated"], "—")
        how = (
            f"{minutes_text(entry['leftMinutes'])} left"
            if within
            else f"overdue by {minutes_text(entry['overdueMinutes'])}"
        )
        rows.append(
            cells(
                fragment(
                    '<a href="{href}">{id}</a>',
                    href=ticket_path(entry["publicId"]),
                    id=entry["publicId"],
                ),
                entry["subject"],
                entry["priority"],
                what,
                time_element(entry["dueAt"]),
                how,
                entry["policy"],
                entry["assignee"] or "—",
            )
        )
    pager = Html("")
    if body is not None and body.get("hasMore"):
        pager = fragment(
            '<a href="{href}" rel="next">More</a>',
            href=path(*here, query={**query, "cursor": body["nextCursor"]}),
        )
    reason = f"{error.error}. {error.hint or ''}" if error is not None else None
    return fragment(
        "<h1>{title}</h1>{filters}{error}{table}"
        '<nav class="pager" aria-label="More tickets">{pager}</nav>',
        title="About to breach" if within else "SLA breaches",
        filters=filters_form(path(*here), query, products),
        error=fragment('<p class="field-error" role="alert">{e}</p>', e=reason)
        if reason
        else Html(""),
        table=table(
            ["Ticket", "Subject", "Priority", "Promise", "Due", "By", "Policy", "Assignee"],
            rows,
            caption="Oldest breach first" if not within else "Soonest first",
            empty="No ticket is about to breach." if within else "No ticket is in breach.",
        ),
        pager=pager,
    )


@admin_only
async def list_breaches(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """The breach list (or the "due within" list) of every product."""
    query = list_query(request)
    body, error = await read_breaches(request, Visibility(None), query)
    content = breaches_content(
        body,
        error,
        query,
        here=("admin", "breaches"),
        ticket_path=lambda public_id: path("admin", "tickets", public_id),
    )
    return admin_page(
        request,
        "breaches",
        content,
        admin_session=admin_session,
        status=error.status if error else 200,
    )
