"""The workspace's Settings (``/desk/settings``, seed 003's "Settings → SLA Policy"): the
settings areas, which live in the admin console (bot.web.admin), and for a staff admin the
way in. "Open" is a CSRF-checked POST that starts an admin-console session for the person
(``admin_auth.open_for_staff``, logged with their id) and lands on the area; the admin token
stays the break-glass way in. An agent or viewer sees the areas without the buttons, and
their POST is a 403 whatever they send.
"""

from __future__ import annotations

from aiohttp import web

from bot.http.bodies import read_form
from bot.rules import staff as rules
from bot.staff.sessions import SignedIn
from bot.web.admin_auth import open_for_staff, redirect, safe_next
from bot.web.desk_auth import csrf_input, desk_page, staff_only
from bot.web.html import Html, fragment, join

OPEN_PATH = "/desk/settings/open"
# The areas (label, admin page, what is there), in the order a new desk sets them up.
AREAS = (
    ("Products", "/admin/products", "The GitHub repositories tickets go to."),
    (
        "SLA policies and calendars",
        "/admin/sla",
        "Response and resolution targets by priority, business hours and holidays.",
    ),
    ("Templates", "/admin/templates", "Ticket templates that pre-fill a new ticket."),
    ("Staff accounts", "/admin/staff", "Invite people, change roles and products, disable."),
    ("API keys", "/admin/api-keys", "Desk API keys for help desks and integrations."),
    ("Clients and contracts", "/admin/contracts", "Contracts with their hour bank ledger."),
    ("Invoices", "/admin/invoices", "Invoices from logged time, with PDF download."),
    ("GitHub App", "/admin/setup", "The GitHub App TinyDesk acts as."),
)


def _open_button(signed_in: SignedIn, target: str, label: Html) -> Html:
    return fragment(
        '<form class="inline" method="post" action="{action}">{csrf}'
        '<input type="hidden" name="next" value="{target}">'
        '<button type="submit">{label}</button></form>',
        action=OPEN_PATH,
        csrf=csrf_input(signed_in.csrf_token),
        target=target,
        label=label,
    )


@staff_only()
async def show_settings(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    may_manage = rules.allows(signed_in.account.role, rules.Action.MANAGE)
    items = join(
        fragment(
            "<li><strong>{label}</strong>: {what} {button}</li>",
            label=label,
            what=what,
            button=_open_button(
                signed_in, href, fragment('Open<span class="visually-hidden"> {l}</span>', l=label)
            )
            if may_manage
            else "",
        )
        for label, href, what in AREAS
    )
    if may_manage:
        lead = fragment(
            "<p>Settings are kept in the admin console. Opening it takes you there as "
            "yourself, for as long as you stay signed in here.</p>{button}",
            button=_open_button(signed_in, "/admin", Html("Open settings")),
        )
    else:
        lead = Html(
            '<p class="notice" role="status">Only an admin changes settings; ask one of your '
            "admins.</p>"
        )
    content = fragment(
        '<h1>Settings</h1>{lead}<ul class="settings-areas">{items}</ul>', lead=lead, items=items
    )
    return desk_page(request, "settings", content, signed_in)


@staff_only(rules.Action.MANAGE)
async def open_settings(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    """Start an admin-console session for this staff admin and go to the area asked for."""
    form = await read_form(request)
    response = redirect(safe_next(form.get("next")))
    open_for_staff(request, response, signed_in.account.desk_id)
    return response


routes = [web.get("/desk/settings", show_settings), web.post(OPEN_PATH, open_settings)]
