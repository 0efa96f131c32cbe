"""``tinydesk sla policies`` and ``tinydesk sla policy show | add | edit | remove | default``:
the SLA policies (``bot.tickets.sla_policies``), as the admin API manages them.

A policy comes from ``--file`` (the JSON document the API takes) or from flags for the common
fields (flags win over the file)::

    tinydesk sla policy add "EU hours" --time-zone Europe/Berlin --hours mon-fri=09:00-17:00 \\
        --holiday 2026-12-24 --holiday-country DE --target critical=30m/4h
    tinydesk sla policy default "EU hours"

Every refusal is one line per problem, naming the flag, and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from bot.cli.serve import run_with_db
from bot.config import Settings
from bot.errors import ApiError
from bot.rules.business_time import WEEKDAYS
from bot.rules.sla import ResponseEnds
from bot.tickets import sla_policies
from bot.views.sla_policies import level_label, minutes_text, policy_view, targets_of
from storage.database import Database
from storage.models import SlaPolicy
from storage.types import utcnow

_DAY_NAMES = {day: day for day in WEEKDAYS} | {day[:3]: day for day in WEEKDAYS}
_DURATION = re.compile(r"^(\d+)([mhd]?)$")
_UNITS = {"": 1, "m": 1, "h": 60, "d": 24 * 60}
# The flag that sets each field of the document, for the validator's messages.
FIELD_FLAGS = {
    "name": "NAME / --name",
    "calendar.timeZone": "--time-zone",
    "calendar.hours": "--hours",
    "calendar.holidays": "--holiday",
    "calendar.holidayCountry": "--holiday-country",
    "calendar.holidaySubdivision": "--holiday-subdivision",
    "targets": "--target",
    "responseEnds": "--response-ends",
    "warnMinutes": "--warn-minutes",
}


class BadFlag(ValueError):
    """A flag's value that cannot be read; the message names the flag."""


def register(commands: argparse._SubParsersAction) -> None:
    sla = commands.add_parser(
        "sla",
        help="SLA policies: response and resolution targets, business hours",
        description="SLA policies: response and resolution targets per priority, on "
        "wall-clock time or a business-hours calendar.",
    ).add_subparsers(metavar="ACTION")
    listing = sla.add_parser("policies", help="list the SLA policies")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_policies)

    policy = sla.add_parser(
        "policy", help="show, add, edit, remove an SLA policy, or make it the default"
    ).add_subparsers(metavar="ACTION")
    show = policy.add_parser("show", help="one policy: targets, calendar, products")
    show.add_argument("policy", metavar="NAME", help="the policy's name (any case) or id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_show)

    add = policy.add_parser("add", help="create a policy (seed 003's targets unless given)")
    add.add_argument("name", metavar="NAME", nargs="?", help="its name (or in --file)")
    _document_flags(add)
    add.add_argument("--default", action="store_true", help="make it the default policy")
    add.set_defaults(func=cmd_add)

    edit = policy.add_parser("edit", help="change a policy; what is not given is kept")
    edit.add_argument("policy", metavar="NAME", help="the policy's name (any case) or id")
    edit.add_argument("--name", dest="new_name", metavar="NEW_NAME", help="rename it")
    _document_flags(edit)
    edit.set_defaults(func=cmd_edit)

    remove = policy.add_parser(
        "remove", help="delete a policy; its products and tickets move to the default"
    )
    remove.add_argument("policy", metavar="NAME")
    remove.set_defaults(func=cmd_remove)

    default = policy.add_parser("default", help="make a policy the default")
    default.add_argument("policy", metavar="NAME")
    default.set_defaults(func=cmd_default)


def _document_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", type=Path, help="the policy as JSON (the admin API's document); flags win"
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="LEVEL=RESPONSE/RESOLUTION",
        help="e.g. critical=30m/4h or low=24h/7d (minutes without a unit); repeatable; "
        "levels: critical (or urgent), high, medium, low",
    )
    calendar = parser.add_argument_group("business hours (without them: 24x7)")
    calendar.add_argument("--time-zone", metavar="ZONE", help="IANA time zone, e.g. Europe/Berlin")
    calendar.add_argument(
        "--hours",
        action="append",
        default=[],
        metavar="DAYS=HH:MM-HH:MM[,...]",
        help="working intervals, e.g. mon-fri=09:00-17:00 or sat=10:00-12:00,13:00-15:00; "
        "repeatable; given, they replace the whole week",
    )
    calendar.add_argument(
        "--holiday",
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="a day without working time; repeatable; given, they replace the list",
    )
    calendar.add_argument(
        "--holiday-country", metavar="CC", help="also a country's public holidays, e.g. DE"
    )
    calendar.add_argument(
        "--holiday-subdivision", metavar="REGION", help="a region of that country, e.g. BY"
    )
    calendar.add_argument(
        "--24x7",
        dest="wall_clock",
        action="store_true",
        help="no calendar: count wall-clock time",
    )
    parser.add_argument(
        "--response-ends",
        choices=[e.value for e in ResponseEnds],
        help="what ends the response clock (default comment_or_status)",
    )
    parser.add_argument(
        "--warn-minutes", type=int, metavar="N", help="warn this long before a breach"
    )


# -- reading the flags ----------------------------------------------------------------------


def _minutes(text: str, flag: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise BadFlag(f"{flag}: {text!r} is not a duration such as 30, 30m, 4h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _targets(values: list[str]) -> dict[str, dict[str, int]]:
    targets: dict[str, dict[str, int]] = {}
    for value in values:
        level, _, times = value.partition("=")
        response, slash, resolution = times.partition("/")
        if not level or not times:
            raise BadFlag(f"--target: {value!r} is not LEVEL=RESPONSE/RESOLUTION (critical=30m/4h)")
        target: dict[str, int] = {}
        if response:
            target["response"] = _minutes(response, "--target")
        if slash and resolution:
            target["resolution"] = _minutes(resolution, "--target")
        targets[level.strip().lower()] = target
    return targets


def _days(text: str) -> list[str]:
    days: list[str] = []
    for part in text.split(","):
        first, dash, last = part.strip().lower().partition("-")
        if first not in _DAY_NAMES or (dash and last not in _DAY_NAMES):
            raise BadFlag(f"--hours: {text!r} does not name weekdays (mon, tue, ... or mon-fri)")
        start = WEEKDAYS.index(_DAY_NAMES[first])
        end = WEEKDAYS.index(_DAY_NAMES[last]) if dash else start
        if end < start:
            raise BadFlag(f"--hours: {part!r} runs backwards (write mon-fri, not fri-mon)")
        days += WEEKDAYS[start : end + 1]
    return days


def _hours(values: list[str]) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for value in values:
        days, _, intervals = value.partition("=")
        if not intervals:
            raise BadFlag(f"--hours: {value!r} is not DAYS=HH:MM-HH:MM (mon-fri=09:00-17:00)")
        pairs = []
        for interval in intervals.split(","):
            start, dash, end = interval.strip().partition("-")
            if not dash:
                raise BadFlag(f"--hours: {interval!r} is not an interval such as 09:00-17:00")
            pairs.append([start.strip(), end.strip()])
        for day in _days(days):
            hours.setdefault(day, []).extend(pairs)
    return hours


def _document(args: argparse.Namespace, current: SlaPolicy | None) -> dict[str, Any]:
    """The API document the flags (over ``--file``) describe; on an edit, the calendar flags
    change the current calendar, the rest is left to the edit's merge."""
    doc: dict[str, Any] = {}
    if args.file is not None:
        try:
            loaded = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise BadFlag(f"--file: cannot read {str(args.file)!r}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BadFlag(f"--file: {str(args.file)!r} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise BadFlag(f"--file: {str(args.file)!r} must hold a JSON object")
        doc.update(loaded)
    if args.target:
        doc["targets"] = {**doc.get("targets", {}), **_targets(args.target)}
    calendar_flags = (
        args.time_zone,
        args.hours,
        args.holiday,
        args.holiday_country,
        args.holiday_subdivision,
    )
    if args.wall_clock:
        if any(calendar_flags):
            raise BadFlag("--24x7: leave out the calendar flags (--time-zone, --hours, ...)")
        doc["calendar"] = None
    elif any(calendar_flags):
        calendar = dict(doc.get("calendar") or (current.calendar if current else None) or {})
        if args.time_zone is not None:
            calendar["timeZone"] = args.time_zone
        if args.hours:
            calendar["hours"] = _hours(args.hours)
        if args.holiday:
            calendar["holidays"] = [h.strip() for h in args.holiday]
        if args.holiday_country is not None:
            calendar["holidayCountry"] = args.holiday_country
        if args.holiday_subdivision is not None:
            calendar["holidaySubdivision"] = args.holiday_subdivision
        doc["calendar"] = calendar
    if args.response_ends is not None:
        doc["responseEnds"] = args.response_ends
    if args.warn_minutes is not None:
        doc["warnMinutes"] = args.warn_minutes
    return doc


# -- saying it --------------------------------------------------------------------------------


def _fail(lines: list[str]) -> int:
    for line in lines:
        print(f"tinydesk: {line}", file=sys.stderr)
    return 1


def _refusal(exc: ApiError) -> list[str]:
    """One line per problem, naming the flag that sets the field."""
    if exc.status == 404:
        return [f"{exc.error}: tinydesk sla policies lists their names"]
    fields: dict[str, str] = exc.extra.get("fields") or {}
    if not fields:
        return [exc.error + (f" ({exc.hint})" if exc.hint else "")]
    lines = []
    for field, message in fields.items():
        flag = next(
            (f for prefix, f in FIELD_FLAGS.items() if field.split("[")[0].startswith(prefix)),
            field,
        )
        where = flag if flag == field else f"{flag} ({field})"
        lines.append(f"{where}: {message}")
    if exc.status == 400 and "default" in fields and exc.hint:
        lines.append(exc.hint)
    return lines


def _calendar_text(calendar: dict[str, Any] | None) -> str:
    if calendar is None:
        return "24x7 (wall-clock time)"
    days = []
    for day in WEEKDAYS:
        intervals = calendar.get("hours", {}).get(day) or []
        if intervals:
            days.append(f"{day[:3]} " + ",".join(f"{a}-{b}" for a, b in intervals))
    text = f"{calendar['timeZone']}: " + "; ".join(days)
    holidays = calendar.get("holidays") or []
    if holidays:
        text += f"; {len(holidays)} holiday" + ("s" if len(holidays) != 1 else "")
    if calendar.get("holidayCountry"):
        region = calendar.get("holidaySubdivision")
        text += f"; public holidays of {calendar['holidayCountry']}" + (
            f"-{region}" if region else ""
        )
    return text


def _show(policy: SlaPolicy, products: list[str]) -> None:
    marker = " (default)" if policy.is_default else ""
    print(f"{policy.name}{marker}  id {policy.id}")
    print(f"  calendar: {_calendar_text(policy.calendar)}")
    for level, target in targets_of(policy).items():
        label = level_label(level)
        response = minutes_text(target["response"])
        resolution = minutes_text(target["resolution"])
        print(f"  {label:<18} response {response:<8} resolution {resolution}")
    ends = "first public staff comment"
    if policy.response_ends == ResponseEnds.COMMENT_OR_STATUS.value:
        ends += " or status change"
    print(f"  response ends at: {ends}; warning {policy.warn_minutes} min before a breach")
    print(f"  products: {', '.join(products) if products else '(none)'}")


# -- the commands -----------------------------------------------------------------------------


def cmd_policies(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            policies = await sla_policies.list_policies(session)
            used = await sla_policies.products_by_policy(session)
        if args.json:
            views = [policy_view(p, used.get(p.id, [])) for p in policies]
            print(json.dumps(views, indent=2))
            return 0
        for policy in policies:
            _show(policy, used.get(policy.id, []))
        return 0

    return run_with_db(settings, work)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            try:
                policy = await sla_policies.find_policy(session, args.policy)
            except ApiError as exc:
                return _fail(_refusal(exc))
            used = (await sla_policies.products_by_policy(session)).get(policy.id, [])
        if args.json:
            print(json.dumps(policy_view(policy, used), indent=2))
        else:
            _show(policy, used)
        return 0

    return run_with_db(settings, work)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        doc = _document(args, None)
    except BadFlag as exc:
        return _fail([str(exc)])
    if args.name is not None:
        doc["name"] = args.name
    if args.default:
        doc["default"] = True

    async def work(db: Database) -> int:
        try:
            async with db.begin() as session:
                policy = await sla_policies.create_policy(session, doc, utcnow())
        except ApiError as exc:
            return _fail(_refusal(exc))
        marker = " (the default)" if policy.is_default else ""
        print(f"added SLA policy {policy.name!r}{marker}, id {policy.id}")
        return 0

    return run_with_db(settings, work)


def cmd_edit(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        try:
            async with db.begin() as session:
                current = await sla_policies.find_policy(session, args.policy)
                doc = _document(args, current)
                if args.new_name is not None:
                    doc["name"] = args.new_name
                if not doc:
                    return _fail(
                        [
                            "nothing to change: give --name, --target, --time-zone, --hours, "
                            "--holiday, --24x7, --response-ends, --warn-minutes or --file"
                        ]
                    )
                policy, recomputed = await sla_policies.edit_policy(
                    session, current.id, doc, utcnow()
                )
        except BadFlag as exc:
            return _fail([str(exc)])
        except ApiError as exc:
            return _fail(_refusal(exc))
        print(
            f"updated SLA policy {policy.name!r}; due times of {recomputed} open "
            f"ticket{'s' if recomputed != 1 else ''} computed again"
        )
        return 0

    return run_with_db(settings, work)


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        try:
            async with db.begin() as session:
                removed = await sla_policies.delete_policy(session, args.policy, utcnow())
        except ApiError as exc:
            return _fail([exc.hint or exc.error] if exc.status == 400 else _refusal(exc))
        print(
            f"removed SLA policy {removed.name!r}; {removed.products_moved} product(s) and "
            f"{removed.tickets_moved} ticket(s) now follow {removed.default_name!r}"
        )
        return 0

    return run_with_db(settings, work)


def cmd_default(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        try:
            async with db.begin() as session:
                policy = await sla_policies.make_default(session, args.policy, utcnow())
        except ApiError as exc:
            return _fail(_refusal(exc))
        print(f"{policy.name!r} is the default SLA policy")
        return 0

    return run_with_db(settings, work)
