"""The admin SLA pages: the policies with their targets and the products each governs,
the form that creates or edits one (targets, what ends the response clock, the warning, and
the calendar: time zone, hours per weekday, holidays one per line, a country's public
holidays), making one the default, and deleting one. The rules are
``bot.tickets.sla_policies``'; the form is turned into the admin API's document here, and
a refused field is shown beside its input."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.appkeys import CLOCK, DB
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules.business_time import WEEKDAYS
from bot.rules.sla import Level, ResponseEnds
from bot.rules.sla_policy import default_targets_doc
from bot.tickets import sla_policies
from bot.views.sla_policies import level_label, minutes_text, targets_of
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query, redirect
from bot.web.html import Html, cells, fragment, join, path, table
from bot.web.sessions import AdminSession
from storage.models import SlaPolicy

CLOCKS = ("response", "resolution")
RESPONSE_ENDS_CHOICES = {
    ResponseEnds.COMMENT_OR_STATUS.value: "The first public staff comment or status change",
    ResponseEnds.COMMENT.value: "The first public staff comment only",
}
BUSINESS_HOURS = "businessHours"
FORM_ERROR = "_form"
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def target_field(level: str, clock: str) -> str:
    return f"targets.{level}.{clock}"


def hours_field(day: str) -> str:
    return f"calendar.hours.{day}"


# -- the form's values: from a stored policy, from a post; the document from them ----------


def values_of(policy: SlaPolicy | None) -> dict[str, str]:
    """What the form shows for ``policy`` (None: a new one, with seed 003's targets)."""
    values: dict[str, str] = {"name": "", "warnMinutes": "30"}
    values["responseEnds"] = ResponseEnds.COMMENT_OR_STATUS.value
    targets = targets_of(policy) if policy is not None else default_targets_doc()
    for level, target in targets.items():
        for clock in CLOCKS:
            values[target_field(level, clock)] = str(target[clock])
    calendar = policy.calendar if policy is not None else None
    values[BUSINESS_HOURS] = "on" if calendar is not None else ""
    values["calendar.timeZone"] = (calendar or {}).get("timeZone", "")
    hours = (calendar or {}).get("hours", {})
    for day in WEEKDAYS:
        default = "09:00-17:00" if calendar is None and WEEKDAYS.index(day) < 5 else ""
        intervals = hours.get(day)
        values[hours_field(day)] = (
            ", ".join(f"{a}-{b}" for a, b in intervals) if intervals else default
        )
    values["calendar.holidays"] = "\n".join((calendar or {}).get("holidays", []))
    values["calendar.holidayCountry"] = (calendar or {}).get("holidayCountry", "")
    values["calendar.holidaySubdivision"] = (calendar or {}).get("holidaySubdivision", "")
    if policy is not None:
        values["name"] = policy.name
        values["warnMinutes"] = str(policy.warn_minutes)
        values["responseEnds"] = policy.response_ends
    return values


def values_from_form(form: MultiDictProxy[str]) -> dict[str, str]:
    names = [
        "name",
        "warnMinutes",
        "responseEnds",
        BUSINESS_HOURS,
        "calendar.timeZone",
        "calendar.holidays",
        "calendar.holidayCountry",
        "calendar.holidaySubdivision",
        "default",
        *(target_field(level.value, clock) for level in Level for clock in CLOCKS),
        *(hours_field(day) for day in WEEKDAYS),
    ]
    return {name: str(form.get(name, "")) for name in names}


def document_of(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The admin API's document the form describes, and what could not even be read."""
    problems: dict[str, str] = {}
    doc: dict[str, Any] = {"name": values["name"], "responseEnds": values["responseEnds"]}
    doc["warnMinutes"] = _number(values["warnMinutes"], "warnMinutes", problems)
    targets: dict[str, dict[str, Any]] = {}
    for level in Level:
        for clock in CLOCKS:
            name = target_field(level.value, clock)
            targets.setdefault(level.value, {})[clock] = _number(values[name], name, problems)
    doc["targets"] = targets
    if values.get(BUSINESS_HOURS) != "on":
        doc["calendar"] = None
        return doc, problems
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        text = values[hours_field(day)].strip()
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _INTERVAL.match(part)
            if match is None:
                problems[hours_field(day)] = (
                    f"{part!r} is not an interval such as 09:00-17:00 (separate several with "
                    "commas)"
                )
                break
            pairs.append([_two_digit(match.group(1)), _two_digit(match.group(2))])
        hours[day] = pairs
    calendar: dict[str, Any] = {
        "timeZone": values["calendar.timeZone"].strip(),
        "hours": hours,
        "holidays": [
            line.strip() for line in values["calendar.holidays"].splitlines() if line.strip()
        ],
    }
    for key in ("holidayCountry", "holidaySubdivision"):
        text = values[f"calendar.{key}"].strip()
        if text:
            calendar[key] = text
    doc["calendar"] = calendar
    return doc, problems


def _two_digit(clock_time: str) -> str:
    return clock_time.zfill(5)  # 9:00 -> 09:00


def _number(text: str, name: str, problems: dict[str, str]) -> Any:
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        return int(text)  # the rules refuse it, in their words
    problems[name] = "a whole number of minutes"
    return text


def _error_key(field: str) -> str:
    """Where a refused field is shown: ``calendar.holidays[2]`` beside the holidays box."""
    return re.sub(r"\[\d+\]$", "", field)


# -- the page -------------------------------------------------------------------------------


def _targets_cell(policy: SlaPolicy, level: str) -> str:
    target = targets_of(policy)[level]
    return f"{minutes_text(target['response'])} / {minutes_text(target['resolution'])}"


def _calendar_cell(policy: SlaPolicy) -> Html:
    calendar = policy.calendar
    if calendar is None:
        return Html("24x7 (wall-clock time)")
    days = [
        f"{day[:3].capitalize()} " + ", ".join(f"{a}-{b}" for a, b in calendar["hours"][day])
        for day in WEEKDAYS
        if calendar.get("hours", {}).get(day)
    ]
    extra = []
    if calendar.get("holidays"):
        count = len(calendar["holidays"])
        extra.append(f"{count} holiday" + ("s" if count != 1 else ""))
    if calendar.get("holidayCountry"):
        region = calendar.get("holidaySubdivision")
        extra.append(
            f"public holidays of {calendar['holidayCountry']}" + (f"-{region}" if region else "")
        )
    return fragment(
        "<strong>{zone}</strong><br>{days}{extra}",
        zone=calendar["timeZone"],
        days=join(days, Html("<br>")),
        extra=fragment("<br>{e}", e="; ".join(extra)) if extra else Html(""),
    )


def policy_row(policy: SlaPolicy, products: list[str], admin_session: AdminSession) -> Html:
    if policy.is_default:
        default: Html = Html('<span class="badge ok">Default</span>')
        remove: Html = Html("")
    else:
        default = fragment(
            '<form class="inline" method="post" action="{action}">{csrf}'
            '<button type="submit" class="secondary">Make default'
            '<span class="visually-hidden"> {name}</span></button></form>',
            action=path("admin", "sla", str(policy.id), "default"),
            csrf=csrf_input(admin_session),
            name=policy.name,
        )
        remove = fragment(
            ' · <a href="{href}">Delete<span class="visually-hidden"> {name}</span>…</a>',
            href=path("admin", "sla", str(policy.id), "remove"),
            name=policy.name,
        )
    actions = fragment(
        '<a href="{href}">Edit<span class="visually-hidden"> {name}</span></a>{remove}',
        href=path("admin", "sla", str(policy.id)),
        name=policy.name,
        remove=remove,
    )
    return cells(
        policy.name,
        default,
        _calendar_cell(policy),
        *(_targets_cell(policy, level.value) for level in Level),
        ", ".join(products) if products else "—",
        actions,
    )


@admin_only
async def list_policies(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    async with request.app[DB].session() as session:
        policies = await sla_policies.list_policies(session)
        used = await sla_policies.products_by_policy(session)
    headers = [
        "Policy",
        "Default",
        "Calendar",
        *(level_label(level.value) for level in Level),
        "Products",
        "Actions",
    ]
    content = fragment(
        "<h1>SLA policies</h1>{notice}"
        "<p>Response / resolution targets per priority, counted in the policy's business "
        "hours. A product's policy applies to the tickets opened after it is chosen; each "
        "ticket keeps the policy it was opened under.</p>{table}"
        '<p><a class="button" href="/admin/sla/new">Add a policy</a></p>',
        notice=notice_from_query(request),
        table=table(
            headers,
            [policy_row(p, used.get(p.id, []), admin_session) for p in policies],
            caption="SLA policies: response / resolution",
            empty="No SLA policies.",
        ),
    )
    return admin_page(request, "SLA policies", content, admin_session=admin_session)


def _text_input(
    name: str, label: str, values: Mapping[str, str], errors: Mapping[str, str], hint: str = ""
) -> Html:
    return fragment(
        '<div class="field"><label for="{name}">{label}</label>{hint}{error}'
        '<input id="{name}" name="{name}" type="text" value="{value}"{attrs}></div>',
        name=name,
        label=label,
        hint=fragment('<p class="hint" id="{n}-hint">{h}</p>', n=name, h=hint) if hint else "",
        error=_error(errors, name),
        value=values.get(name, ""),
        attrs=_attrs(errors, name, bool(hint)),
    )


def _error(errors: Mapping[str, str], name: str) -> Html:
    if name not in errors:
        return Html("")
    return fragment(
        '<p class="field-error" id="{name}-error">{message}</p>', name=name, message=errors[name]
    )


def _attrs(errors: Mapping[str, str], name: str, hinted: bool) -> Html:
    described = [f"{name}-hint"] if hinted else []
    if name in errors:
        described.append(f"{name}-error")
    return join(
        [
            fragment(' aria-describedby="{d}"', d=" ".join(described)) if described else "",
            Html(' aria-invalid="true"') if name in errors else "",
        ]
    )


def _targets_table(values: Mapping[str, str], errors: Mapping[str, str]) -> Html:
    rows = []
    for level in Level:
        inputs = []
        for clock in CLOCKS:
            name = target_field(level.value, clock)
            inputs.append(
                fragment(
                    '<label class="visually-hidden" for="{name}">{label} {clock} minutes</label>'
                    '{error}<input id="{name}" name="{name}" type="text" inputmode="numeric" '
                    'value="{value}"{attrs}>',
                    name=name,
                    label=level_label(level.value),
                    clock=clock,
                    error=_error(errors, name),
                    value=values.get(name, ""),
                    attrs=_attrs(errors, name, False),
                )
            )
        rows.append(cells(level_label(level.value), *inputs))
    return table(
        ["Priority", "Response (minutes)", "Resolution (minutes)"],
        rows,
        caption="Targets in business minutes (seed 003: 30 / 240, 120 / 480, 480 / 2880, "
        "1440 / 10080)",
        empty="",
    )


def policy_form(
    admin_session: AdminSession,
    policy: SlaPolicy | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
) -> Html:
    action = path("admin", "sla") if policy is None else path("admin", "sla", str(policy.id))
    general = [errors[k] for k in (FORM_ERROR, "calendar", "calendar.hours", "body") if k in errors]
    response_ends = join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=value,
            t=title,
            sel=Html(" selected") if values.get("responseEnds") == value else Html(""),
        )
        for value, title in RESPONSE_ENDS_CHOICES.items()
    )
    weekdays = join(
        _text_input(hours_field(day), day.capitalize(), values, errors) for day in WEEKDAYS
    )
    default_box = Html("")
    if policy is None:
        default_box = fragment(
            '<div class="field checkbox"><input id="default" name="default" type="checkbox" '
            'value="on"{checked}><label for="default">Make it the default policy</label></div>',
            checked=Html(" checked") if values.get("default") == "on" else Html(""),
        )
    return fragment(
        '<form class="stacked" method="post" action="{action}" novalidate>{csrf}{general}'
        "{name}"
        "{targets}"
        '<div class="field"><label for="responseEnds">The response clock stops at</label>'
        "{ends_error}"
        '<select id="responseEnds" name="responseEnds">{response_ends}</select></div>'
        "{warn}"
        '<fieldset class="field"><legend>Business hours</legend>'
        '<div class="field checkbox"><input id="businessHours" name="businessHours" '
        'type="checkbox" value="on"{business}><label for="businessHours">Count only business '
        "hours</label>"
        '<p class="hint">Unticked: wall-clock time, 24x7.</p></div>'
        "{zone}{weekdays}"
        '<div class="field"><label for="calendar.holidays">Holidays</label>'
        '<p class="hint" id="calendar.holidays-hint">One date per line, YYYY-MM-DD.</p>'
        "{holidays_error}"
        '<textarea id="calendar.holidays" name="calendar.holidays" rows="4"{holidays_attrs}>'
        "{holidays}</textarea></div>"
        "{country}{subdivision}</fieldset>"
        "{default_box}"
        '<div class="actions"><button type="submit">{submit}</button> '
        '<a href="/admin/sla">Cancel</a></div></form>',
        action=action,
        csrf=csrf_input(admin_session),
        general=join(fragment('<p class="field-error">{e}</p>', e=e) for e in general),
        name=_text_input("name", "Name", values, errors, "Unique, whatever the case."),
        targets=_targets_table(values, errors),
        ends_error=_error(errors, "responseEnds"),
        response_ends=response_ends,
        warn=_text_input(
            "warnMinutes",
            "Warning (minutes before a breach)",
            values,
            errors,
            "Business minutes; 0: no warning before the breach itself.",
        ),
        business=Html(" checked") if values.get(BUSINESS_HOURS) == "on" else Html(""),
        zone=_text_input(
            "calendar.timeZone",
            "Time zone",
            values,
            errors,
            "An IANA time zone, such as Europe/Berlin or America/New_York.",
        ),
        weekdays=fragment(
            '<p class="hint">Working hours per weekday, such as 09:00-17:00 or '
            "09:00-12:00, 13:00-17:00; blank: no working time that day.</p>{w}",
            w=weekdays,
        ),
        holidays_error=_error(errors, "calendar.holidays"),
        holidays_attrs=_attrs(errors, "calendar.holidays", True),
        holidays=values.get("calendar.holidays", ""),
        country=_text_input(
            "calendar.holidayCountry",
            "Public holidays of (optional)",
            values,
            errors,
            "An ISO 3166 country code such as DE, US or FR.",
        ),
        subdivision=_text_input(
            "calendar.holidaySubdivision",
            "Region (optional)",
            values,
            errors,
            "A region of that country, such as BY for Bavaria.",
        ),
        default_box=default_box,
        submit="Add policy" if policy is None else "Save policy",
    )


def form_page(
    request: web.Request,
    admin_session: AdminSession,
    policy: SlaPolicy | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.Response:
    heading = "Add an SLA policy" if policy is None else f"Edit SLA policy {policy.name}"
    note = Html("")
    if policy is not None:
        note = Html(
            "<p>Saving a change to the targets, the calendar, what stops the response clock "
            "or the warning computes the due times of this policy's open tickets again, from "
            "their creation.</p>"
        )
    content = fragment(
        "<h1>{heading}</h1>{note}{form}",
        heading=heading,
        note=note,
        form=policy_form(admin_session, policy, values, errors),
    )
    return admin_page(request, heading, content, admin_session=admin_session, status=status)


def _errors_of(exc: ApiError) -> dict[str, str]:
    errors = {_error_key(f): m for f, m in (exc.extra.get("fields") or {}).items()}
    if not errors:
        errors[FORM_ERROR] = f"{exc.error}: {exc.hint}" if exc.hint else exc.error
    return errors


def _not_found(request: web.Request, admin_session: AdminSession) -> web.Response:
    return admin_page(
        request,
        "not found",
        fragment("<h1>No SLA policy {id}</h1>", id=request.match_info["id"]),
        admin_session=admin_session,
        status=404,
    )


async def _policy(request: web.Request) -> SlaPolicy | None:
    async with request.app[DB].session() as session:
        try:
            return await sla_policies.find_policy(session, request.match_info["id"])
        except ApiError:
            return None


@admin_only
async def new_policy(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return form_page(request, admin_session, None, values_of(None), {})


@admin_only
async def add_policy(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    values = values_from_form(await read_form(request))
    doc, problems = document_of(values)
    if values.get("default") == "on":
        doc["default"] = True
    try:
        if problems:
            raise ApiError(400, "Validation failed", fields=problems)
        async with request.app[DB].begin() as session:
            policy = await sla_policies.create_policy(session, doc, request.app[CLOCK]())
    except ApiError as exc:
        return form_page(request, admin_session, None, values, _errors_of(exc), exc.status)
    return redirect(path("admin", "sla", query={"notice": "sla-added", "slug": policy.name}))


@admin_only
async def edit_form(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    policy = await _policy(request)
    if policy is None:
        return _not_found(request, admin_session)
    return form_page(request, admin_session, policy, values_of(policy), {})


@admin_only
async def save_policy(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    policy = await _policy(request)
    if policy is None:
        return _not_found(request, admin_session)
    values = values_from_form(await read_form(request))
    doc, problems = document_of(values)
    try:
        if problems:
            raise ApiError(400, "Validation failed", fields=problems)
        async with request.app[DB].begin() as session:
            saved, recomputed = await sla_policies.edit_policy(
                session, policy.id, doc, request.app[CLOCK]()
            )
    except ApiError as exc:
        return form_page(request, admin_session, policy, values, _errors_of(exc), exc.status)
    return redirect(
        path(
            "admin",
            "sla",
            query={"notice": "sla-saved", "slug": saved.name, "id": str(recomputed)},
        )
    )


@admin_only
async def make_default(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    await read_form(request)
    async with request.app[DB].begin() as session:
        try:
            policy = await sla_policies.make_default(
                session, request.match_info["id"], request.app[CLOCK]()
            )
        except ApiError:
            return _not_found(request, admin_session)
    return redirect(path("admin", "sla", query={"notice": "sla-default", "slug": policy.name}))


@admin_only
async def confirm_remove(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    policy = await _policy(request)
    if policy is None:
        return _not_found(request, admin_session)
    if policy.is_default:
        content = fragment(
            "<h1>{name} is the default policy</h1><p>The default policy cannot be deleted; "
            "make another policy the default first.</p>"
            '<p><a href="/admin/sla">Back to the SLA policies</a></p>',
            name=policy.name,
        )
        return admin_page(request, "not deleted", content, admin_session=admin_session, status=400)
    content = fragment(
        "<h1>Delete SLA policy {name}?</h1>"
        "<p>Its products and tickets move to the default policy; the due times of its open "
        "tickets are computed again on the default.</p>"
        '<form class="actions" method="post" action="{action}">{csrf}'
        '<button type="submit" class="danger">Delete {name}</button> '
        '<a href="/admin/sla">Cancel</a></form>',
        name=policy.name,
        action=path("admin", "sla", str(policy.id), "remove"),
        csrf=csrf_input(admin_session),
    )
    return admin_page(request, f"delete {policy.name}", content, admin_session=admin_session)


@admin_only
async def remove_policy(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    await read_form(request)
    try:
        async with request.app[DB].begin() as session:
            removed = await sla_policies.delete_policy(
                session, request.match_info["id"], request.app[CLOCK]()
            )
    except ApiError as exc:
        if exc.status == 404:
            return _not_found(request, admin_session)
        content = fragment(
            '<h1>Not deleted</h1><p class="field-error">{hint}</p>'
            '<p><a href="/admin/sla">Back to the SLA policies</a></p>',
            hint=exc.hint or exc.error,
        )
        return admin_page(
            request, "not deleted", content, admin_session=admin_session, status=exc.status
        )
    return redirect(path("admin", "sla", query={"notice": "sla-removed", "slug": removed.name}))
