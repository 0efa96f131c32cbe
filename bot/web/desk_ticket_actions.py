"""The ticket page's actions beyond answering (issue 19, item 3): apply a template, link an
existing GitHub issue, have the issue created now, and merge this ticket (a duplicate) into
another. Each is the use case the API and admin use (bot.tickets.apply_template, link,
issue_request, merge), done as the signed-in person; a viewer's POST is a 403."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB
from bot.errors import ApiError
from bot.github.client import GITHUB
from bot.github.issues import existing_issue
from bot.http.bodies import read_form
from bot.jobs.worker import notify_workers
from bot.rules import ids
from bot.rules import merge as merge_rules
from bot.rules import staff as rules
from bot.rules.numbers import MAX_ISSUE_NUMBER, whole_number
from bot.staff.sessions import SignedIn
from bot.tickets import desk, issue_request, merge
from bot.tickets.apikeys import KeyScope
from bot.tickets.apply_template import apply_template
from bot.tickets.audit import Actor
from bot.tickets.link import link_ticket_to_issue, linkable_ticket
from bot.web.admin_auth import redirect
from bot.web.desk_auth import staff_only, staff_scope
from bot.web.desk_ticket import act, page, ticket_path
from storage.models import Ticket


@staff_only(rules.Action.WRITE_TICKETS)
async def use_template(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    filled: dict[str, object] = {}

    async def apply(
        session: AsyncSession,
        scope: KeyScope,
        ticket: Ticket,
        form: MultiDictProxy[str],
        now: dt.datetime,
    ) -> None:
        filled.update(await apply_template(session, scope, ticket, form.get("template", ""), now))

    return await act(request, signed_in, apply, lambda: "template" if filled else "template-none")


async def _request_issue(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    form: MultiDictProxy[str],
    now: dt.datetime,
) -> None:
    await issue_request.request_issue(session, Actor.of(scope), ticket, now)


@staff_only(rules.Action.WRITE_TICKETS)
async def create_issue(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _request_issue, "issue")


async def _merge(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    form: MultiDictProxy[str],
    now: dt.datetime,
) -> None:
    into = merge_rules.validate_merge({"into": form.get("into")})
    await merge.merge_ticket(session, scope, ticket, into, now)


@staff_only(rules.Action.WRITE_TICKETS)
async def merge_ticket(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    return await act(request, signed_in, _merge, "merged")


def _issue_number(form: MultiDictProxy[str]) -> int:
    number = whole_number(form.get("issue", "").strip(), maximum=MAX_ISSUE_NUMBER)
    if number is None:
        raise ApiError(
            400,
            "Invalid issue number",
            f"Enter the issue's number in the product's repository (1 to {MAX_ISSUE_NUMBER}).",
            fields={"issue": "a whole number"},
        )
    return number


@staff_only(rules.Action.WRITE_TICKETS)
async def link_issue(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    """As the admin API links (bot.api.admin.link_ticket): GitHub is asked whether the issue
    exists outside any transaction, and nothing is stored unless it does."""
    form = await read_form(request)
    scope = await staff_scope(request, signed_in)
    ref = request.match_info["public_id"]
    try:
        number = _issue_number(form)
        async with request.app[DB].session() as session:
            public_id = ids.public_id((await desk.find_ticket(session, scope, ref)).id)
            _, product = await linkable_ticket(session, public_id)
        found = await existing_issue(request.app[GITHUB], product, number)
        async with request.app[DB].begin() as session:
            ticket = await desk.find_ticket(session, scope, ref)
            await link_ticket_to_issue(
                session, public_id, number, found, actor=Actor.of(scope), now=request.app[CLOCK]()
            )
    except ApiError as exc:
        return await page(
            request, signed_in, ref, error=f"{exc.error}: {exc.hint or ''}", status=exc.status
        )
    notify_workers(request.app)
    return redirect(ticket_path(ticket, "linked"))


routes = [
    web.post("/desk/tickets/{public_id}/template", use_template),
    web.post("/desk/tickets/{public_id}/link", link_issue),
    web.post("/desk/tickets/{public_id}/create-issue", create_issue),
    web.post("/desk/tickets/{public_id}/merge", merge_ticket),
]
