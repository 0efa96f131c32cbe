"""Staff accounts through the admin API (the admin token): invite (the link is in the answer,
once), list, change role, name or product scope, send a new link, disable, and enable again
(PATCH ``enabled``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.http.bodies import json_response, read_json_object
from bot.http.urls import request_origin
from bot.jobs.worker import notify_workers
from bot.rules import staff as rules
from bot.staff import accounts
from bot.staff import mail as staff_mail
from bot.views.timefmt import iso_ms
from storage.models import StaffAccount
from storage.repos.products import ProductRepo


def staff_view(account: StaffAccount, slugs: dict[int, str]) -> dict[str, Any]:
    """Never the password hash nor the link's token."""
    return {
        "id": account.desk_id,
        "email": account.email,
        "name": account.display_name,
        "role": account.role,
        "products": [slugs.get(p, f"(removed product {p})") for p in account.product_ids],
        "passwordSet": account.password_hash is not None,
        "githubLogin": account.github_login,
        "createdAt": iso_ms(account.created_at),
        "disabledAt": iso_ms(account.disabled_at),
    }


async def _slugs(session: AsyncSession) -> dict[int, str]:
    return {p.id: p.slug for p in await ProductRepo(session).all()}


def link_of(request: web.Request, invitation: accounts.Invitation) -> str:
    return request.config_dict[SETTINGS].base_url(request_origin(request)) + invitation.path


async def _mail_link(
    request: web.Request, session: AsyncSession, invitation: accounts.Invitation, kind: str
) -> bool:
    settings = request.config_dict[SETTINGS]
    link = link_of(request, invitation)
    return await staff_mail.queue_link_mail(session, settings, invitation.account, link, kind)


def _with_link(
    request: web.Request, view: dict[str, Any], invitation: accounts.Invitation, mailed: bool
) -> dict[str, Any]:
    """The view and the invitation's link: shown once, here (give it to the person, unless
    ``mailed`` says it is in their mailbox already)."""
    return {**view, "link": link_of(request, invitation), "mailed": mailed}


async def invite(request: web.Request) -> web.Response:
    fields = rules.validate_invite(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        invitation = await accounts.invite(session, fields, request.config_dict[CLOCK]())
        mailed = await _mail_link(request, session, invitation, staff_mail.INVITE)
        view = staff_view(invitation.account, await _slugs(session))
    notify_workers(request.config_dict)
    return json_response(_with_link(request, view, invitation, mailed), status=201)


async def list_staff(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        slugs = await _slugs(session)
        found = [staff_view(a, slugs) for a in await accounts.all_accounts(session)]
    return json_response({"staff": found})


async def change(request: web.Request) -> web.Response:
    changes = rules.validate_change(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        account = await accounts.change(
            session, request.match_info["id"], changes, request.config_dict[CLOCK]()
        )
        view = staff_view(account, await _slugs(session))
    return json_response(view)


async def new_link(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        invitation = await accounts.new_link(
            session, request.match_info["id"], request.config_dict[CLOCK]()
        )
        kind = staff_mail.RESET if invitation.account.password_hash else staff_mail.INVITE
        mailed = await _mail_link(request, session, invitation, kind)
        view = staff_view(invitation.account, await _slugs(session))
    notify_workers(request.config_dict)
    return json_response(_with_link(request, view, invitation, mailed))


async def disable(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        account = await accounts.disable(
            session, request.match_info["id"], request.config_dict[CLOCK]()
        )
        view = staff_view(account, await _slugs(session))
    return json_response(view)


# Below the admin API's PREFIX, in its guarded sub-application.
routes = [
    web.get("/staff", list_staff),
    web.post("/staff", invite),
    web.patch("/staff/{id}", change),
    web.delete("/staff/{id}", disable),
    web.post("/staff/{id}/link", new_link),
]
