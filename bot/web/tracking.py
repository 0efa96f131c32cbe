"""The tracking page ``/track/{publicId}`` and the lookup form ``/track``.

The page is drawn from the same view as ``GET /api/tickets/{publicId}``
(``bot.views.public.load_public_view``),
so it shows exactly what the API shows: the stage, the pipeline and the history, and the
subject and public comments only with the ticket's tracking token. It is complete without
JavaScript; ``track.js`` polls the JSON endpoint and redraws it in place while it is open,
backing off while nothing changes and never polling a CLOSED ticket (bot.rules.poll_schedule),
and shows times in the reader's time zone. A finished ticket says so at the top.
"""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http.urls import tracking_token
from bot.mail.outgoing.unsubscribe import email_updates_form
from bot.rules import ids, poll_schedule
from bot.rules.numbers import whole_number
from bot.views.public import load_public_view
from bot.web.html import Html, escape, fragment, join, page, path, time_element
from storage.repos.tickets import TicketRepo

routes = web.RouteTableDef()

# The longest wait as a multiple of the first (5 s → 300 s).
POLL_CEILING_FACTOR = poll_schedule.MAX_SECONDS / poll_schedule.BASE_SECONDS
LOOKUP_FIELD = "publicId"

# The same labels as track.js.
STATE_LABELS = {
    "reached": "Done",
    "current": "Current stage",
    "skipped": "Skipped",
    "pending": "Not yet",
}
LOOP_MARKER = "↺"


def rounds_text(rounds: int) -> str:
    return f"{rounds} round{'' if rounds == 1 else 's'}"


def state_label(step: dict[str, Any]) -> str:
    """What a stage's state reads as; the review loop is never "Done" (track.js agrees)."""
    state = step["state"]
    if step["loop"]:
        if state == "current":
            return f"{LOOP_MARKER} Current stage, round {step['rounds']}"
        if state == "reached":
            return f"{LOOP_MARKER} {rounds_text(step['rounds'])}"
        if state == "skipped":
            return "None"
    return STATE_LABELS[state]


def render_stepper(pipeline: list[dict[str, Any]]) -> Html:
    """The stages in order, numbered; CHANGES_REQUESTED is drawn as a loop of the review step
    (a ↺ marker, no number, never a done box)."""
    items = []
    number = 0
    for step in pipeline:
        if not step["loop"]:
            number += 1
        head = _step_head(
            step["state"],
            step["loop"],
            step["stage"],
            LOOP_MARKER if step["loop"] else str(number),
            step["title"],
            state_label(step),
            step["description"],
            (step["closedReasonText"] or "") if "closedReasonText" in step else None,
        )
        items.append(f"{head}{time_element(step['reachedAt'])}</span></span></li>")
    return Html(
        '<section class="card" aria-labelledby="pipeline-heading">'
        '<h2 id="pipeline-heading">Pipeline</h2>'
        f'<ol class="stepper" id="stepper">{"".join(items)}</ol></section>'
    )


@functools.lru_cache(maxsize=512, typed=True)  # typed: Html and str apart
def _step_head(
    state: str,
    loop: bool,
    stage: str,
    marker: str,
    title: str,
    label: str,
    description: str,
    reason: str | None,
) -> Html:
    """A stage's markup up to its time, made once for each of the few ways a stage is drawn:
    filling its eleven fields for every stage of every page was a third of the page's CPU
    (bench/README.md, "Reads")."""
    return fragment(
        '<li class="step is-{state}{loop}" data-stage="{stage}"{aria_current}>'
        '<span class="step-marker" aria-hidden="true">{marker}</span>'
        '<span class="step-body">'
        '<span class="step-title">{title}</span>'
        '<span class="step-state">{state_label}</span>'
        '<span class="step-description">{description}</span>'
        "{reason}"
        '<span class="step-time">',
        state=state,
        loop=" step-loop" if loop else "",
        stage=stage,
        aria_current=Html(' aria-current="step"') if state == "current" else Html(""),
        marker=marker,
        title=title,
        state_label=label,
        description=description,
        reason=fragment('<span class="step-reason">{text}</span>', text=reason)
        if reason is not None
        else Html(""),
    )


def render_history(history: list[dict[str, Any]], titles: dict[str, str]) -> Html:
    rows = [
        f'<li><span class="history-time">{time_element(step["at"])}</span> '
        f'<span><span class="history-stage">{escape(titles.get(step["to"], step["to"]))}</span> '
        f'<span class="history-description">{escape(step["description"])}</span></span></li>'
        for step in reversed(history)
    ]
    return Html(
        '<section class="card" aria-labelledby="history-heading">'
        '<h2 id="history-heading">History</h2>'
        '<p class="hint">Newest first.</p>'
        f'<ol class="history" id="history">{"".join(rows)}</ol></section>'
    )


def render_comments(comments: list[dict[str, Any]]) -> Html:
    items = [
        fragment(
            '<li class="comment"><p class="comment-meta"><span '
            'class="comment-author">{author}</span>'
            " · {time}</p>"
            '<p class="comment-body">{body}</p></li>',
            author=comment_author(comment),
            time=time_element(comment["createdAt"]),
            body=comment["body"],
        )
        for comment in comments
    ]
    empty = Html("") if items else Html('<p class="hint" id="no-comments">No messages yet.</p>')
    return fragment(
        '<section class="card" aria-labelledby="comments-heading">'
        '<h2 id="comments-heading">Messages</h2>{empty}'
        '<ol class="comments" id="comments">{items}</ol></section>',
        empty=empty,
        items=join(items),
    )


def comment_author(comment: dict[str, Any]) -> str:
    """Who wrote a message, as the page shows it (track.js agrees)."""
    return f"{comment['author']} (you)" if comment.get("fromSubmitter") else comment["author"]


def finished_words(view: dict[str, Any]) -> str | None:
    """What a ticket that has got somewhere says at the top of its page, plainly; None while
    the fix is still to come."""
    stage = view["status"]
    if stage == "DEPLOYED":
        return "Your fix is live."
    if stage == "MERGED":
        return "Your fix is merged; it goes live with the next deployment."
    if stage != "CLOSED":
        return None
    [closed] = [step for step in view["pipeline"] if step["stage"] == "CLOSED"]
    if closed.get("closedReason") == "fixed":
        return f"{closed['closedReasonText']}: this ticket is done."
    reason = closed.get("closedReasonText") or "Closed"
    return reason.replace("Closed as ", "Closed: ", 1) + "."


def render_finished(view: dict[str, Any]) -> Html:
    """The banner of a finished ticket, with support's last message when the reader may see
    messages (never an internal note: the view holds none)."""
    words = finished_words(view)
    if words is None:
        return Html("")
    said = [c for c in view.get("comments", []) if not c.get("fromSubmitter")]
    last = (
        fragment(
            '<p class="finished-said">Here is what support said{time}:</p>'
            '<blockquote class="finished-quote">{body}</blockquote>',
            time=fragment(" ({t})", t=time_element(said[-1]["createdAt"])),
            body=said[-1]["body"],
        )
        if said and view["status"] == "CLOSED"
        else Html("")
    )
    return fragment(
        '<section class="finished card" id="finished" data-stage="{stage}" role="status">'
        '<p class="finished-words">{words}</p>{last}</section>',
        stage=view["status"],
        words=words,
        last=last,
    )


def current_label(view: dict[str, Any]) -> str:
    """The current stage in words; a closed ticket says why ("Closed as not planned")."""
    [current] = [step for step in view["pipeline"] if step["current"]]
    return current.get("closedReasonText") or current["title"]


def render_ticket(view: dict[str, Any], *, refresh_url: str, token_rejected: bool) -> Html:
    titles = {step["stage"]: step["title"] for step in view["pipeline"]}
    current_title = current_label(view)
    details = [
        fragment(
            '<div><dt>Current stage</dt><dd id="current-stage">{title}</dd></div>',
            title=current_title,
        ),
        fragment(
            "<div><dt>Submitted</dt><dd>{time}</dd></div>", time=time_element(view["createdAt"])
        ),
        fragment(
            '<div><dt>Last update</dt><dd id="updated-at">{time}</dd></div>',
            time=time_element(view["updatedAt"]),
        ),
    ]
    if "subject" in view:
        details.insert(
            0,
            fragment(
                '<div class="wide"><dt>Subject</dt><dd class="subject">{subject}</dd></div>',
                subject=view["subject"],
            ),
        )
    notice = (
        Html(
            '<p class="notice" role="note">This link&rsquo;s token is not valid for this ticket, '
            "so the subject and messages are hidden. Use the full link you were given.</p>"
        )
        if token_rejected
        else Html("")
    )
    return fragment(
        '<h1>Ticket <span class="public-id">{public_id}</span></h1>'
        "{notice}{finished}"
        '<dl class="facts">{details}</dl>'
        '<p class="refresh"><a href="{refresh_url}">Refresh</a> '
        '<span class="hint" id="live-note">{live_note}</span></p>'
        '<p class="visually-hidden" id="live-status" role="status" aria-live="polite"></p>'
        "{stepper}{comments}{history}",
        public_id=view["publicId"],
        notice=notice,
        finished=render_finished(view),
        details=join(details),
        refresh_url=refresh_url,
        live_note="Times are in UTC. Use Refresh to see the newest stage."
        if poll_schedule.keeps_polling(view["status"])
        else "Times are in UTC. This ticket is closed: nothing more is on its way.",
        stepper=render_stepper(view["pipeline"]),
        comments=render_comments(view["comments"]) if "comments" in view else Html(""),
        history=render_history(view["history"], titles),
    )


def render_lookup_form(*, value: str = "", error: str | None = None) -> Html:
    error_html = (
        fragment('<p class="field-error" id="public-id-error">{error}</p>', error=error)
        if error
        else Html("")
    )
    return fragment(
        '<form class="lookup" method="get" action="/track" role="search" aria-label="Track a '
        'ticket">'
        '<label for="public-id">Ticket ID</label>'
        '<p class="hint" id="public-id-hint">It looks like TK-00042; it is in the answer to your '
        "submission.</p>"
        "{error}"
        '<div class="inline-field">'
        '<input id="public-id" name="{field}" type="text" value="{value}" required '
        'autocomplete="off" autocapitalize="characters" spellcheck="false" '
        'aria-describedby="public-id-hint{described_error}"{invalid}>'
        '<button type="submit">Track</button></div></form>',
        error=error_html,
        field=LOOKUP_FIELD,
        value=value,
        described_error=" public-id-error" if error else "",
        invalid=Html(' aria-invalid="true"') if error else Html(""),
    )


def parse_lookup(text: str) -> int | None:
    """The ticket number from what someone typed: ``TK-00042``, ``tk-42`` or just ``42``."""
    digits = text.strip()
    if digits.upper().startswith(ids.PUBLIC_ID_PREFIX):
        digits = digits[len(ids.PUBLIC_ID_PREFIX) :]
    return whole_number(digits)


def lookup_page(
    request: web.Request, *, value: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    content = fragment(
        "<h1>Track a ticket</h1>"
        "<p>Enter the ticket ID you got when you submitted your ticket to see where it "
        "is.</p>{form}",
        form=render_lookup_form(value=value, error=error),
    )
    title = "Track a ticket" if error is None else "Track a ticket: check the ticket ID"
    return page(request, title, content, status=status)


def not_found_page(request: web.Request, public_id: str) -> web.Response:
    content = fragment(
        "<h1>We couldn&rsquo;t find that ticket</h1>"
        '<p>There is no ticket <strong class="public-id">{public_id}</strong>. Check the ticket ID '
        "you were given; it looks like TK-00042.</p>{form}",
        public_id=public_id,
        form=render_lookup_form(value=public_id),
    )
    return page(request, "Ticket not found", content, status=404)


@routes.get("/track")
async def lookup_ticket(request: web.Request) -> web.Response:
    """The lookup form; with ``?publicId=…`` it sends the browser on to that ticket's page."""
    if LOOKUP_FIELD not in request.query:
        return lookup_page(request)
    typed = request.query[LOOKUP_FIELD]
    if not typed.strip():
        return lookup_page(request, error="Enter a ticket ID, such as TK-00042.", status=400)
    number = parse_lookup(typed)
    if number is None:
        return lookup_page(
            request,
            value=typed,
            error=f"“{typed.strip()[:40]}” is not a ticket ID. A ticket ID looks like TK-00042.",
            status=400,
        )
    async with request.app[DB].session() as session:
        found = await TicketRepo(session).by_number(number) is not None
    public_id = ids.public_id(number)
    if not found:
        return lookup_page(
            request, value=public_id, error=f"There is no ticket {public_id}.", status=404
        )
    raise web.HTTPSeeOther(path("track", public_id))


@routes.get("/track/{public_id}")
async def tracking_page(request: web.Request) -> web.Response:
    """One ticket's journey, with its subject and messages when the link carries the token."""
    public_id = request.match_info["public_id"]
    token = tracking_token(request)
    try:
        view = await load_public_view(request.app[DB].reader, public_id, token)
    except ApiError as exc:
        if exc.status == 404:
            return not_found_page(request, public_id)
        raise
    token_given = bool(token)
    content = render_ticket(
        view,
        refresh_url=str(request.rel_url),
        token_rejected=token_given and "subject" not in view,
    )
    if "subject" in view:  # mail out: "Email me updates" (bot.mail.outgoing.unsubscribe)
        content = Html(content + await email_updates_form(request, view["publicId"], token))
    base = request.app[SETTINGS].tracking_poll_seconds
    attributes = {"data-public-id": view["publicId"], "data-stage": view["status"]}
    if poll_schedule.keeps_polling(view["status"]):  # at CLOSED there is nothing to wait for
        attributes |= {
            "data-poll-url": path("api", "tickets", view["publicId"]),
            "data-poll-seconds": f"{base:g}",
            "data-poll-max-seconds": f"{base * POLL_CEILING_FACTOR:g}",
        }
    return page(
        request,
        f"Ticket {view['publicId']}",
        content,
        scripts=["track.js"],
        no_store=True,
        main_attributes=attributes,
    )
