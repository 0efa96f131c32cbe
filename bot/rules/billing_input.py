"""What staff may send the billing API (issue 16): time entries, clients, contracts, rates and
invoices, checked field by field (every failing field at once, ``{"error", "hint",
"fields"}``). Pure: whether a contract or client exists is asked by ``bot.billing``.

Money fields are decimal strings (or JSON numbers) in major units of the currency, at most
its ISO 4217 decimals (``bot.rules.money``); hours are decimals that make whole minutes.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.errors import ApiError
from bot.rules import money
from bot.rules.billing_periods import Period
from bot.rules.invoicing import ContractKind
from bot.rules.money import MoneyError
from bot.rules.numbers import bounded_int
from bot.rules.rounding import MAX_INCREMENT, RoundingMode
from bot.rules.validation import MAX_EMAIL, MAX_NAME, FieldErrors, is_email

MAX_ENTRY_MINUTES = 24 * 60
MAX_DESCRIPTION = 2000
MAX_ADDRESS = 1000
MAX_TAX_ID = 64
MAX_TAXES = 5
MAX_TAX_NAME = 40
MAX_DOMAINS = 50
MAX_SCOPE = 4000
MAX_NOTES = 2000
MAX_PERIOD_HOURS = 10_000
# Billing dates and times lie in this range (a contract's periods are counted from its start,
# so an unbounded year would make millions of them).
FIRST_YEAR, LAST_YEAR = 2000, 2100
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
_DESK_REF = re.compile(r"^[a-z]{3}_[A-Za-z0-9_-]{1,36}$")

HINTS = {
    "minutes": f"Send minutes as a whole number from 1 to {MAX_ENTRY_MINUTES}.",
    "description": f"Describe the work in at most {MAX_DESCRIPTION} characters.",
    "billable": "Send billable as true or false (default true).",
    "startedAt": "Send startedAt as an ISO 8601 time with its offset, e.g. 2026-12-02T09:30:00Z.",
    "contract": (
        "Send the id of one of the ticket's client's contracts (GET /api/v1/desk/contracts), "
        "or null."
    ),
    "client": "Send a client's id (GET /api/v1/desk/clients), or null.",
    "name": f"Send a name of at most {MAX_NAME} characters.",
    "currency": "Send an ISO 4217 currency code such as EUR, USD or JPY.",
    "hourlyRate": 'Send an amount such as "95.00" with at most the currency\'s decimals.',
    "overageRate": 'Send an amount such as "120.00" with at most the currency\'s decimals.',
    "fee": 'Send an amount such as "500.00" with at most the currency\'s decimals.',
    "rate": 'Send an amount such as "95.00" with at most the currency\'s decimals.',
    "timeZone": "Send an IANA time zone such as Europe/Berlin or America/New_York.",
    "taxes": f'Send up to {MAX_TAXES} taxes as [{{"name": "VAT", "rate": "19"}}] (percent).',
    "domains": f'Send up to {MAX_DOMAINS} email domains such as ["example.com"].',
    "paymentDays": "Send paymentDays as a whole number from 0 to 365.",
    "kind": "Use time_based (a bank of hours) or fixed_price.",
    "period": "Use month, quarter, year or one_off.",
    "startsOn": "Send a date such as 2026-12-01.",
    "endsOn": "Send a date on or after startsOn, or null.",
    "hoursPerPeriod": "Send the bank's hours per period, e.g. 20 or 7.5 (whole minutes).",
    "rolloverCapHours": (
        "Send the most unused hours a period may carry into the next, or null (no cap)."
    ),
    "rounding": (
        f'Send {{"increment": 1..{MAX_INCREMENT} (minutes), "mode": "up", "nearest" or "down"}}.'
    ),
    "periodStart": "Send a date such as 2026-11-01.",
    "periodEnd": "Send the period's last day, e.g. 2026-11-30 (on or after periodStart).",
    "issueDate": "Send a date such as 2026-12-02.",
    "dueDate": "Send a date on or after the issue date.",
    "paidOn": "Send a date such as 2026-12-10.",
    "from": "Send a date such as 2026-11-01.",
    "to": "Send a date on or after from.",
    "technician": "Send a technician's name as it appears on their time entries.",
    "groupBy": "Use day, week or month.",
    "through": "Send a date such as 2026-12-31.",
    "lines": "Send the ids of lines of the invoice to credit, or leave lines out to credit all.",
}


def raise_if_invalid(errors: FieldErrors) -> None:
    if errors.fields:
        field, message = next(iter(errors.fields.items()))
        raise ApiError(
            400, message, HINTS.get(field, "Fix the fields listed."), fields=errors.fields
        )


def _bool(errors: FieldErrors, data: Mapping[str, Any], field: str, default: bool) -> bool:
    value = data.get(field, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        errors.add(field, f"{field} must be true or false")
        return default
    return value


def _date(errors: FieldErrors, data: Mapping[str, Any], field: str) -> dt.date | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= day.year <= LAST_YEAR:
                return day
    errors.add(field, f"{field} must be a date such as 2026-12-01 ({FIRST_YEAR} to {LAST_YEAR})")
    return None


def _instant(errors: FieldErrors, data: Mapping[str, Any], field: str) -> dt.datetime | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            instant = parsed.astimezone(dt.UTC)
            if FIRST_YEAR <= instant.year <= LAST_YEAR:
                return instant
    errors.add(field, f"{field} must be an ISO 8601 time with an offset")
    return None


def _ref(errors: FieldErrors, data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _DESK_REF.match(value.strip()):
        errors.add(field, f"{field} must be an id such as con_3kq9…")
        return None
    return value.strip()


def is_time_zone(value: object) -> bool:
    if not isinstance(value, str) or not value or len(value) > 64 or value.startswith("/"):
        return False
    if ".." in value or "\x00" in value:
        return False
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone(errors: FieldErrors, data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not is_time_zone(value):
        errors.add(field, f"{field} must be an IANA time zone")
        return None
    assert isinstance(value, str)
    return value


def _amount(
    errors: FieldErrors, data: Mapping[str, Any], field: str, currency: str | None
) -> int | None:
    value = data.get(field)
    if value is None or currency is None:
        return None
    try:
        return money.parse_amount(value, currency)
    except MoneyError as error:
        errors.add(field, f"{field} {error}")
        return None


def _hours(errors: FieldErrors, data: Mapping[str, Any], field: str) -> int | None:
    """Decimal hours as whole minutes (20 -> 1200; 7.5 -> 450; 0.01 is refused)."""
    value = data.get(field)
    if value is None:
        return None
    try:
        hours = money.to_decimal(value)
    except MoneyError:
        hours = Decimal(-1)
    minutes = hours * 60
    if hours < 0 or hours > MAX_PERIOD_HOURS or minutes != minutes.to_integral_value():
        errors.add(
            field, f"{field} must be hours that make whole minutes, from 0 to {MAX_PERIOD_HOURS}"
        )
        return None
    return int(minutes)


# -- time entries -------------------------------------------------------------------------------


def validate_time_entry(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """A new time entry (seed 003: minutes, description, billable), or the fields an edit
    sends. Keys: minutes, description, billable, started_at, contract (a ref, or None to
    unlink). The technician is never taken from the body."""
    errors = FieldErrors()
    out: dict[str, Any] = {}
    if not partial or "minutes" in data:
        minutes = bounded_int(data.get("minutes"), maximum=MAX_ENTRY_MINUTES, minimum=1)
        if minutes is None:
            errors.add("minutes", f"minutes must be a whole number from 1 to {MAX_ENTRY_MINUTES}")
        out["minutes"] = minutes
    if not partial or "description" in data:
        out["description"] = errors.required_text(
            dict(data), "description", max_chars=MAX_DESCRIPTION
        )
    if not partial or "billable" in data:
        out["billable"] = _bool(errors, data, "billable", True)
    if "startedAt" in data:
        out["started_at"] = _instant(errors, data, "startedAt")
    if "contract" in data:
        out["contract"] = _ref(errors, data, "contract")
    raise_if_invalid(errors)
    return out


# -- clients --------------------------------------------------------------------------------------


def _taxes(errors: FieldErrors, value: object) -> list[dict[str, str]] | None:
    if not isinstance(value, list) or len(value) > MAX_TAXES:
        errors.add("taxes", f"taxes must be a list of at most {MAX_TAXES}")
        return None
    taxes: list[dict[str, str]] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_TAX_NAME:
            errors.add("taxes", f"each tax needs a name of at most {MAX_TAX_NAME} characters")
            return None
        try:
            rate = money.parse_tax_rate(item.get("rate"))
        except MoneyError as error:
            errors.add("taxes", f"tax rate {error}")
            return None
        taxes.append({"name": name.strip(), "rate": money.rate_text(rate)})
    return taxes


def _domains(errors: FieldErrors, value: object) -> list[str] | None:
    if not isinstance(value, list) or len(value) > MAX_DOMAINS:
        errors.add("domains", f"domains must be a list of at most {MAX_DOMAINS}")
        return None
    domains: list[str] = []
    for item in value:
        domain = item.strip().lower().removeprefix("@") if isinstance(item, str) else ""
        if not _DOMAIN.match(domain):
            errors.add("domains", f"{str(item)[:60]!r} is not an email domain")
            return None
        if domain not in domains:
            domains.append(domain)
    return domains


def validate_client(
    data: Mapping[str, Any], *, default_currency: str, current_currency: str | None = None
) -> dict[str, Any]:
    """A new client (``current_currency`` None) or a client's changes (only the fields sent).
    Keys as the model's: name, address, tax_id, email, currency, hourly_rate, time_zone,
    taxes, payment_days, domains."""
    creating = current_currency is None
    errors = FieldErrors()
    out: dict[str, Any] = {}
    body = dict(data)
    if creating or "name" in data:
        out["name"] = errors.required_text(body, "name", max_chars=MAX_NAME)
    for field, key, limit in (
        ("address", "address", MAX_ADDRESS),
        ("taxId", "tax_id", MAX_TAX_ID),
    ):
        if field in data:
            out[key] = errors.optional_text(body, field, max_chars=limit)
    if "email" in data:
        email = errors.optional_text(body, "email", max_chars=MAX_EMAIL)
        if email is not None and not is_email(email):
            errors.add("email", "email must be an email address")
        out["email"] = email
    currency = current_currency or default_currency
    if "currency" in data:
        if not money.is_currency(data["currency"]):
            errors.add("currency", "currency must be an ISO 4217 code")
        else:
            currency = data["currency"]
    if creating or "currency" in data:
        out["currency"] = currency
    if "hourlyRate" in data:
        out["hourly_rate"] = _amount(errors, data, "hourlyRate", currency)
    if "timeZone" in data or creating:
        out["time_zone"] = _zone(errors, data, "timeZone") or "UTC"
    if "taxes" in data:
        out["taxes"] = _taxes(errors, data["taxes"] if data["taxes"] is not None else [])
    elif creating:
        out["taxes"] = []
    if "paymentDays" in data:
        days = bounded_int(data["paymentDays"], maximum=365, minimum=0)
        if days is None:
            errors.add("paymentDays", "paymentDays must be a whole number from 0 to 365")
        out["payment_days"] = days
    if "domains" in data:
        out["domains"] = _domains(errors, data["domains"] if data["domains"] is not None else [])
    raise_if_invalid(errors)
    return out


# -- contracts ------------------------------------------------------------------------------------

TERMS = (
    "kind",
    "period",
    "starts_on",
    "time_zone",
    "rounding_increment",
    "rounding_mode",
    "minutes_per_period",
    "hourly_rate",
    "overage_rate",
    "rollover",
    "rollover_cap",
    "fee",
)


def validate_contract(
    data: Mapping[str, Any],
    *,
    currency: str,
    default_zone: str,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new contract (``current`` None: ``client`` is checked by the caller), or changes to
    one (``current``: its present fields, so the result is checked whole). Keys as the
    model's (``TERMS`` plus name, ends_on, scope)."""
    errors = FieldErrors()
    body = dict(data)
    out: dict[str, Any] = dict(current or {})
    sent: set[str] = set()

    def take(field: str, key: str, value: Any) -> None:
        sent.add(key)
        out[key] = value

    if current is None or "name" in data:
        take("name", "name", errors.required_text(body, "name", max_chars=MAX_NAME))
    if current is None or "kind" in data:
        kind = data.get("kind")
        if kind not in tuple(ContractKind):
            errors.add("kind", "kind must be time_based or fixed_price")
        take("kind", "kind", kind)
    if current is None or "period" in data:
        period = data.get("period", "month")
        if period not in tuple(Period):
            errors.add("period", "period must be month, quarter, year or one_off")
        take("period", "period", period)
    if current is None or "startsOn" in data:
        starts = _date(errors, data, "startsOn")
        if starts is None and "startsOn" not in errors.fields:
            errors.add("startsOn", "startsOn is required")
        take("startsOn", "starts_on", starts)
    if "endsOn" in data or current is None:
        take("endsOn", "ends_on", _date(errors, data, "endsOn"))
    if "timeZone" in data or current is None:
        take("timeZone", "time_zone", _zone(errors, data, "timeZone") or default_zone)
    if "rounding" in data or current is None:
        rounding = data.get("rounding")
        rounding = {} if rounding is None else rounding  # null: exact minutes
        increment = rounding.get("increment", 1) if isinstance(rounding, dict) else None
        mode = rounding.get("mode", "up") if isinstance(rounding, dict) else None
        increment = bounded_int(increment, maximum=MAX_INCREMENT, minimum=1)
        if increment is None or mode not in tuple(RoundingMode):
            errors.add("rounding", "rounding needs an increment of whole minutes and a mode")
        take("rounding", "rounding_increment", increment)
        take("rounding", "rounding_mode", mode)
    for field, key in (
        ("hourlyRate", "hourly_rate"),
        ("overageRate", "overage_rate"),
        ("fee", "fee"),
    ):
        if field in data or current is None:
            take(field, key, _amount(errors, data, field, currency) or 0)
    if "hoursPerPeriod" in data or current is None:
        take("hoursPerPeriod", "minutes_per_period", _hours(errors, data, "hoursPerPeriod") or 0)
    if "rollover" in data or current is None:
        take("rollover", "rollover", _bool(errors, data, "rollover", False))
    if "rolloverCapHours" in data or current is None:
        take("rolloverCapHours", "rollover_cap", _hours(errors, data, "rolloverCapHours"))
    if "scope" in data or current is None:
        take("scope", "scope", errors.optional_text(body, "scope", max_chars=MAX_SCOPE))
    if not errors.fields:
        if out["ends_on"] is not None and out["ends_on"] < out["starts_on"]:
            errors.add("endsOn", "endsOn must be on or after startsOn")
        if out["kind"] == ContractKind.TIME_BASED:
            if out["period"] == Period.ONE_OFF:
                errors.add("period", "a bank of hours renews each month, quarter or year")
            if not out["minutes_per_period"]:
                errors.add("hoursPerPeriod", "a time-based contract needs hoursPerPeriod above 0")
            if not out["hourly_rate"] and "hourlyRate" not in data and current is None:
                errors.add(
                    "hourlyRate",
                    "a time-based contract needs hourlyRate (the bank's price per hour)",
                )
            if not out["overage_rate"] and "overageRate" not in data and current is None:
                errors.add(
                    "overageRate",
                    "a time-based contract needs overageRate (0 to give overage away)",
                )
        elif out["kind"] == ContractKind.FIXED_PRICE:
            if "fee" not in data and current is None:
                errors.add("fee", "a fixed-price contract needs fee")
    raise_if_invalid(errors)
    out["_sent"] = sent
    return out


# -- rates and invoices ---------------------------------------------------------------------------


def validate_rate(data: Mapping[str, Any]) -> tuple[str, str, int | None]:
    """(technician, currency, rate or None to remove); technician "" is the default rate."""
    errors = FieldErrors()
    technician = data.get("technician")
    if technician is None:
        technician = ""
    elif not isinstance(technician, str) or not technician.strip() or len(technician) > MAX_NAME:
        errors.add(
            "technician", f"technician must be a name of at most {MAX_NAME} characters, or null"
        )
        technician = ""
    currency = data.get("currency")
    if not money.is_currency(currency):
        errors.add("currency", "currency must be an ISO 4217 code")
        currency = None
    rate = None if data.get("rate") is None else _amount(errors, data, "rate", currency)
    raise_if_invalid(errors)
    assert isinstance(currency, str)
    return technician.strip(), currency, rate


def validate_draft(data: Mapping[str, Any]) -> dict[str, Any]:
    """client (ref), period_start, period_end (the last day), taxes (None: the client's),
    notes."""
    errors = FieldErrors()
    client = _ref(errors, data, "client")
    if client is None and "client" not in errors.fields:
        errors.add("client", "client is required")
    end = _date(errors, data, "periodEnd")
    if end is None and "periodEnd" not in errors.fields:
        errors.add("periodEnd", "periodEnd is required")
    start = _date(errors, data, "periodStart")
    if start is None and end is not None:
        start = end.replace(day=1)
    if start is not None and end is not None and start > end:
        errors.add("periodEnd", "periodEnd must be on or after periodStart")
    taxes = _taxes(errors, data["taxes"]) if data.get("taxes") is not None else None
    notes = errors.optional_text(dict(data), "notes", max_chars=MAX_NOTES)
    raise_if_invalid(errors)
    return {
        "client": client,
        "period_start": start,
        "period_end": end,
        "taxes": taxes,
        "notes": notes,
    }


def validate_issue(data: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    errors = FieldErrors()
    issue_date = _date(errors, data, "issueDate")
    due_date = _date(errors, data, "dueDate")
    if issue_date and due_date and due_date < issue_date:
        errors.add("dueDate", "dueDate must be on or after issueDate")
    raise_if_invalid(errors)
    return issue_date, due_date


def validate_status_change(
    data: Mapping[str, Any], date_field: str
) -> tuple[dt.date | None, str | None]:
    errors = FieldErrors()
    day = _date(errors, data, date_field)
    reason = errors.optional_text(dict(data), "reason", max_chars=MAX_NOTES)
    raise_if_invalid(errors)
    return day, reason


def validate_credit(data: Mapping[str, Any]) -> tuple[list[str] | None, str | None, dt.date | None]:
    errors = FieldErrors()
    lines = data.get("lines")
    if lines is not None and (
        not isinstance(lines, list)
        or not lines
        or len(lines) > 10_000
        or not all(isinstance(item, str) and _DESK_REF.match(item) for item in lines)
    ):
        errors.add("lines", "lines must be a non-empty list of line ids")
        lines = None
    reason = errors.required_text(dict(data), "reason", max_chars=MAX_NOTES)
    issue_date = _date(errors, data, "issueDate")
    raise_if_invalid(errors)
    return lines, reason, issue_date


def validate_client_choice(data: Mapping[str, Any]) -> str | None:
    """``{"client": "cli_…" | null}``: the key is required, null is the automatic choice."""
    errors = FieldErrors()
    ref = _ref(errors, data, "client")
    if "client" not in data:
        errors.add("client", "client is required (an id, or null for the automatic choice)")
    raise_if_invalid(errors)
    return ref


def validate_client_ref(data: Mapping[str, Any]) -> str:
    errors = FieldErrors()
    ref = _ref(errors, data, "client")
    if ref is None and "client" not in errors.fields:
        errors.add("client", "client is required")
    raise_if_invalid(errors)
    assert ref is not None
    return ref


def validate_through(query: Mapping[str, str]) -> dt.date | None:
    errors = FieldErrors()
    through = _date(errors, dict(query), "through")
    raise_if_invalid(errors)
    return through


REPORT_GROUPS = ("day", "week", "month")


def validate_time_query(query: Mapping[str, str]) -> dict[str, Any]:
    """GET /desk/time: ``from`` and ``to`` (dates, inclusive, in ``timeZone``, default UTC),
    ``technician``, ``client``, ``billable`` (true/false), ``groupBy`` (day, week, month)."""
    errors = FieldErrors()
    data = {k: v for k, v in query.items() if v != ""}
    zone = _zone(errors, data, "timeZone") or "UTC"
    start = _date(errors, data, "from")
    end = _date(errors, data, "to")
    if start and end and end < start:
        errors.add("to", "to must be on or after from")
    technician = data.get("technician")
    if technician is not None and (len(technician) > MAX_NAME or "\x00" in technician):
        errors.add("technician", f"technician must be at most {MAX_NAME} characters")
    client = _ref(errors, data, "client")
    billable = data.get("billable")
    if billable not in (None, "true", "false"):
        errors.add("billable", "billable must be true or false")
    group = data.get("groupBy", "month")
    if group not in REPORT_GROUPS:
        errors.add("groupBy", "groupBy must be day, week or month")
    raise_if_invalid(errors)
    local = zoneinfo.ZoneInfo(zone)

    def instant(day: dt.date | None) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day, dt.time(), local).astimezone(dt.UTC)

    return {
        "start": instant(start),
        "end": instant(end + dt.timedelta(days=1)) if end else None,
        "technician": technician,
        "client": client,
        "billable": None if billable is None else billable == "true",
        "group": group,
        "zone": zone,
    }
