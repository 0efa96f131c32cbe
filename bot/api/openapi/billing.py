"""The OpenAPI description of billing (seed 003, issue 16): time on tickets, the time report,
clients, contracts with their hour-bank ledgers, rates and invoices under /api/v1/desk, and
seed 003's ``POST /api/tickets/{id}/time`` and ``/comments`` (``bot.api.billing``).

Request bodies say what ``bot.rules.billing_input`` accepts; answers are the JSON of
``bot.views.billing``. What a schema cannot say, the server checks and answers with a 400
naming the field: an amount with more decimals than the currency has (the currency is the
client's, stored), hours that make no whole number of minutes, a time zone its tz database
does not know, an end before its start, an id no row has (404), and the state rules of
contracts and invoices (409)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from babel.numbers import list_currencies

from bot.api.openapi.desk import PAGE_PARAMS, TICKET_ID_PARAM, desk_op
from bot.api.openapi.parts import (
    EXTRA_FIELDS,
    KEY_TEXT,
    MAYBE_TIMESTAMP,
    RATE_HEADERS,
    SPACE_CHARS,
    TEXT,
    TIMESTAMP,
    body,
    errors,
    nullable,
    ok,
    ref,
    required_text,
    text_input,
)
from bot.api.openapi.public import EMAIL
from bot.rules import money
from bot.rules.billing_input import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    MAX_DOMAINS,
    MAX_ENTRY_MINUTES,
    MAX_NOTES,
    MAX_PERIOD_HOURS,
    MAX_SCOPE,
    MAX_TAX_ID,
    MAX_TAX_NAME,
    MAX_TAXES,
    REPORT_GROUPS,
)
from bot.rules.billing_periods import Period
from bot.rules.hour_bank import Kind
from bot.rules.invoicing import ContractKind, LineKind
from bot.rules.rounding import MAX_INCREMENT, RoundingMode
from bot.rules.validation import MAX_EMAIL, MAX_NAME
from bot.tickets import sla_webhook

SPACE = f"[{SPACE_CHARS}]*"
# The currencies bot.rules.money takes (ISO 4217 as babel knows it, funds and metals left out).
CURRENCIES = sorted(code for code in list_currencies() if money.is_currency(code))
CURRENCY = {"type": "string", "enum": CURRENCIES, "description": "ISO 4217, e.g. EUR, USD, JPY"}


def _desk_ref(prefix: str = "[a-z]{3}") -> str:
    return f"{prefix}_[A-Za-z0-9_-]{{1,36}}"


def _ref_input(prefix: str, what: str) -> dict[str, Any]:
    """An id the server trims before it looks it up (any three letters pass the shape)."""
    return {
        "type": "string",
        "minLength": 5,
        "pattern": f"^{SPACE}{_desk_ref()}{SPACE}$",
        "examples": [f"{prefix}_3kq9Xb2LmPq7"],
        "description": f"{what}'s id (`{prefix}_…`)",
    }


# Dates and instants as billing_input reads them: ISO, from FIRST_YEAR to LAST_YEAR (2000 to
# 2100). An instant's year is its UTC year, which a pattern cannot see: it says 2001 to 2099,
# which every offset keeps in range.
DATE = {
    "type": "string",
    "format": "date",
    "minLength": 10,
    "pattern": f"^(20[0-9]{{2}}|{LAST_YEAR})-[0-9]{{2}}-[0-9]{{2}}$",
    "examples": ["2026-12-01"],
    "description": f"YYYY-MM-DD, {FIRST_YEAR} to {LAST_YEAR}",
}
DATE_OUT = {"type": "string", "format": "date", "examples": ["2026-12-01"]}
MAYBE_DATE = nullable(DATE_OUT)
INSTANT = {
    "type": "string",
    "format": "date-time",
    "maxLength": 40,
    "pattern": "^20(0[1-9]|[1-9][0-9])-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]"
    ":[0-5][0-9](\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
    "examples": ["2026-12-02T09:30:00Z"],
    "description": f"ISO 8601 with its offset ({FIRST_YEAR} to {LAST_YEAR} in UTC)",
}

# Money in requests: a decimal string in major units ("95.00"), or a JSON number; never
# negative (but "-0"), at most 8 decimals. As the server checks (the currency is the
# client's, stored), at most the currency's decimals (EUR 2, JPY 0, BHD 3) and below
# money.MAX_MINOR minor units: below MAX_UNITS whole units in a currency without decimals,
# 10^9 in one with 4.
_ZERO = "-0{1,16}(\\.0{1,8})?"
_UNIT_DIGITS = len(str(money.MAX_MINOR)) - 1
MAX_UNITS = money.MAX_MINOR
MONEY_INPUT = {
    "anyOf": [
        {
            "type": "string",
            "pattern": f"^{SPACE}({_ZERO}|0{{0,{16 - _UNIT_DIGITS}}}[0-9]{{1,{_UNIT_DIGITS}}}"
            f"(\\.[0-9]{{1,8}})?){SPACE}$",
        },
        {"type": "number", "minimum": 0, "exclusiveMaximum": MAX_UNITS},
    ],
    "examples": ["95.00"],
    "description": "An amount in major units of the currency: a decimal string (or a JSON "
    "number) with at most the currency's decimals",
}
# Money in answers: always the currency's decimals; credit notes' amounts are negative.
MONEY = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "examples": ["95.00"]}
HOURS = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}([0-9]{2})?$", "examples": ["20.00"]}
# Hours in requests: decimal hours that make whole minutes (20, 7.5, "0.25"), at most
# MAX_PERIOD_HOURS (a power of ten).
_HOUR_DIGITS = len(str(MAX_PERIOD_HOURS))
HOURS_INPUT = {
    "anyOf": [
        {
            "type": "string",
            "pattern": f"^{SPACE}({_ZERO}|0{{0,{17 - _HOUR_DIGITS}}}[0-9]{{1,{_HOUR_DIGITS - 1}}}"
            f"(\\.[0-9]{{1,8}})?|0{{0,{16 - _HOUR_DIGITS}}}{MAX_PERIOD_HOURS}(\\.0{{1,8}})?)"
            f"{SPACE}$",
        },
        {"type": "number", "minimum": 0, "maximum": MAX_PERIOD_HOURS},
    ],
    "examples": [20, "7.5"],
    "description": f"Hours from 0 to {MAX_PERIOD_HOURS} that make whole minutes",
}
POSITIVE_HOURS = {
    "anyOf": [
        {"type": "string", "pattern": "[1-9]"},
        {"type": "number", "exclusiveMinimum": 0},
    ]
}
TAX_RATE_INPUT = {
    "anyOf": [
        {
            "type": "string",
            "pattern": f"^{SPACE}({_ZERO}|0{{0,14}}[0-9]{{1,2}}(\\.[0-9]{{1,4}}0{{0,4}})?|"
            f"0{{0,13}}100(\\.0{{1,8}})?){SPACE}$",
        },
        {"type": "number", "minimum": 0, "maximum": 100},
    ],
    "examples": ["19", "7.5"],
    "description": "Percent, 0 to 100, at most 4 decimals",
}
TAX_INPUT = {
    "type": "object",
    "required": ["name", "rate"],
    "additionalProperties": EXTRA_FIELDS,
    "propertyNames": KEY_TEXT,
    "properties": {"name": required_text(MAX_TAX_NAME), "rate": TAX_RATE_INPUT},
}
TAXES_INPUT = {
    "type": "array",
    "items": TAX_INPUT,
    "maxItems": MAX_TAXES,
    "examples": [[{"name": "VAT", "rate": "19"}]],
}
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_INPUT = {
    "type": "string",
    "pattern": f"^{SPACE}@?(?=[^{SPACE_CHARS}]{{1,253}}{SPACE}$){_LABEL}(\\.{_LABEL})+{SPACE}$",
    "examples": ["example.com"],
    "description": "An email domain (trimmed, lower-cased, a leading @ dropped)",
}
TIME_ZONE = {
    "type": "string",
    "pattern": "^[^/\\u0000][^\\u0000]*$",
    "not": {"pattern": "\\.\\."},
    "minLength": 1,
    "maxLength": 64,
    "examples": ["Europe/Berlin", "UTC"],
    "description": "An IANA time zone, as the server's tz database knows it (an unknown one: "
    "400 naming the field)",
}
# A blank optional text is the same as null.
BLANK = {"type": "string", "pattern": f"^{SPACE}$"}
CONTRACT_KINDS = [k.value for k in ContractKind]
PERIODS = [p.value for p in Period]
ROUNDING_MODES = [m.value for m in RoundingMode]
INVOICE_STATUSES = ["draft", "issued", "paid", "void"]
RATE_SOURCES = ["contract", "bank", "fixed", "client", "technician", "default", "none"]
MINUTES = {"type": "integer", "minimum": 0}


def _id(prefix: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{prefix}_"}


def _object(required: list[str] | None, properties: dict[str, Any], **extra: Any) -> dict:
    """An answer: exactly these keys (all of them, unless ``required`` says which)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties) if required is None else required,
        "properties": properties,
        **extra,
    }


def _input(properties: dict[str, Any], required: Sequence[str] = (), **extra: Any) -> dict:
    """A request body: the fields named, and any others ignored (storable JSON)."""
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": EXTRA_FIELDS,
        "propertyNames": KEY_TEXT,
        "properties": properties,
        **extra,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _optional_text(max_length: int) -> dict[str, Any]:
    return nullable(text_input(max_length))


CLIENT_REF = nullable(_object(None, {"id": _id("cli"), "name": TEXT}))
CONTRACT_REF = nullable(_object(None, {"id": _id("con"), "name": TEXT}))
TICKET_REF = _object(
    None,
    {
        "id": {"type": "string", "pattern": "^tkt_"},
        "publicId": {"type": "string", "pattern": "^TK-\\d{5,}$"},
    },
)
TAX_OUT = _object(None, {"name": TEXT, "rate": {"type": "string", "examples": ["19"]}})
MINUTE_SUMS = {"minutes": MINUTES, "billableMinutes": MINUTES}

TIME_ENTRY_FIELDS: dict[str, Any] = {
    "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_ENTRY_MINUTES},
    "description": required_text(
        MAX_DESCRIPTION, description=f"Not blank; trimmed, then at most {MAX_DESCRIPTION}"
    ),
    "billable": {**nullable({"type": "boolean"}), "default": True},
    "startedAt": {
        **nullable(INSTANT),
        "description": "When the work started (default: now); it decides the contract "
        "period the time falls in",
    },
    "contract": {
        **nullable(_ref_input("con", "A contract of the ticket's client")),
        "description": "A contract of the client the ticket bills to (another client's: "
        "400); null: none",
    },
}

CLIENT_FIELDS: dict[str, Any] = {
    "name": required_text(MAX_NAME, description="Unique; trimmed"),
    "address": _optional_text(MAX_ADDRESS),
    "taxId": _optional_text(MAX_TAX_ID),
    "email": {"anyOf": [{**EMAIL, "maxLength": MAX_EMAIL}, BLANK, {"type": "null"}]},
    "currency": {
        **CURRENCY,
        "description": "Default: TINYDESK_BILLING_CURRENCY (EUR); fixed "
        "once the client has an invoice (409)",
    },
    "hourlyRate": {
        **nullable(MONEY_INPUT),
        "description": "The client's rate for time on no "
        "contract (rates: contract > client > technician > default); null: none",
    },
    "timeZone": {**nullable(TIME_ZONE), "description": "For dates on its invoices (default UTC)"},
    "taxes": {**nullable(TAXES_INPUT), "description": "Tax lines of its invoices; null: none"},
    "paymentDays": {"type": "integer", "minimum": 0, "maximum": 365, "default": 14},
    "domains": {
        **nullable({"type": "array", "items": DOMAIN_INPUT, "maxItems": MAX_DOMAINS}),
        "description": "Email domains: a ticket whose requester has one bills to this client "
        "(a domain another client has: 409)",
    },
    "products": {
        **nullable(
            {
                "type": "array",
                "maxItems": 100,
                "items": text_input(64, minLength=1),
            }
        ),
        "description": "Slugs of the products whose tickets bill to this client (an unknown "
        "slug: 400); the list replaces the last one",
    },
    "webhookUrl": nullable(
        {"type": "string", "pattern": sla_webhook.URL_PATTERN, "maxLength": sla_webhook.MAX_URL}
    )
    | {
        "description": "Where hour-bank warnings (80 % and 95 %) are POSTed, signed like the "
        "SLA webhooks: https, or http to 127.0.0.1 or localhost; null removes it. The first "
        "URL makes a signing secret, returned once as `webhookSecret`."
    },
    "rotateWebhookSecret": {
        "const": True,
        "description": "Make a new signing secret (shown once in the response)",
    },
}

ROUNDING_INPUT = {
    **nullable(
        {
            "type": "object",
            "additionalProperties": EXTRA_FIELDS,
            "propertyNames": KEY_TEXT,
            "properties": {
                "increment": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_INCREMENT,
                    "default": 1,
                },
                "mode": {"enum": ROUNDING_MODES, "default": "up"},
            },
        }
    ),
    "description": "How each entry's minutes are rounded at invoice time, in the contract's "
    "time zone (default: to 1 minute, up, i.e. not at all)",
}

CONTRACT_FIELDS: dict[str, Any] = {
    "name": required_text(MAX_NAME),
    "kind": {
        "enum": CONTRACT_KINDS,
        "description": "time_based: a bank of hours per period; "
        "fixed_price: a fee per period (or one-off), its time recorded, not billed",
    },
    "period": {
        "enum": PERIODS,
        "default": "month",
        "description": "one_off: a fixed price charged once (a bank of hours renews)",
    },
    "startsOn": {**DATE, "description": "The first day; periods are counted from it"},
    "endsOn": {
        **nullable(DATE),
        "description": "The last day (on or after startsOn); null: open-ended",
    },
    "timeZone": {**nullable(TIME_ZONE), "description": "Default: the client's"},
    "rounding": ROUNDING_INPUT,
    "hoursPerPeriod": {
        **nullable(HOURS_INPUT),
        "description": "The bank's hours per period (time-based: above 0)",
    },
    "hourlyRate": {
        **nullable(MONEY_INPUT),
        "description": "The bank's price per hour (time-based: required on create)",
    },
    "overageRate": {
        **nullable(MONEY_INPUT),
        "description": "The price of an hour beyond the "
        "bank (time-based: required on create; 0 gives overage away)",
    },
    "rollover": {
        **nullable({"type": "boolean"}),
        "default": False,
        "description": "Unused hours carry into the next period (else they expire)",
    },
    "rolloverCapHours": {
        **nullable(HOURS_INPUT),
        "description": "The most hours a period carries over; null: no cap",
    },
    "fee": {
        **nullable(MONEY_INPUT),
        "description": "Fixed price: the fee per period (required on create)",
    },
    "scope": {**_optional_text(MAX_SCOPE), "description": "What a fixed price covers"},
}

# A new contract's terms by kind (as anyOf: more tools read it than if/then).
CONTRACT_BY_KIND = [
    {"properties": {"kind": {"const": "fixed_price"}}, "required": ["fee"]},
    {
        "properties": {
            "kind": {"const": "time_based"},
            "hoursPerPeriod": POSITIVE_HOURS,
            "period": {"enum": [p for p in PERIODS if p != Period.ONE_OFF]},
        },
        "required": ["hoursPerPeriod", "hourlyRate", "overageRate"],
    },
]

TIME_ENTRY = _object(
    None,
    {
        "id": _id("tim"),
        "ticket": nullable(TICKET_REF),
        "technician": {**TEXT, "description": "Who logged it: the key's name"},
        "minutes": {"type": "integer", "minimum": 1},
        "description": TEXT,
        "billable": {"type": "boolean"},
        "startedAt": TIMESTAMP,
        "client": {
            **CLIENT_REF,
            "description": "The client the ticket billed to when it was logged",
        },
        "contract": CONTRACT_REF,
        "invoice": {
            **nullable(
                _object(
                    None,
                    {
                        "id": _id("inv"),
                        "number": nullable(TEXT),
                        "status": {"enum": INVOICE_STATUSES},
                    },
                )
            ),
            "description": "The invoice it is on (then it is locked: edits and deletes are 409)",
        },
        "billedMinutes": {**nullable(MINUTES), "description": "After rounding, once issued"},
        "rate": {**nullable(MONEY), "description": "The hourly rate it was billed at, once issued"},
        "rateSource": {
            **nullable({"enum": RATE_SOURCES}),
            "description": "Where the rate came from",
        },
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    },
)

TICKET_TOTALS = _object(
    None,
    {
        **MINUTE_SUMS,
        "nonBillableMinutes": MINUTES,
        "entries": MINUTES,
        "byTechnician": {
            "type": "array",
            "items": _object(None, {"technician": TEXT, **MINUTE_SUMS}),
        },
    },
)

INVOICE_LINE = _object(
    None,
    {
        "id": _id("inl"),
        "kind": {"enum": [k.value for k in LineKind]},
        "date": MAYBE_DATE,
        "ticket": nullable(
            _object(None, {"publicId": {"type": "string"}, "subject": nullable(TEXT)})
        ),
        "description": TEXT,
        "technician": nullable(TEXT),
        "rawMinutes": {**nullable(MINUTES), "description": "As logged"},
        "billedMinutes": {**nullable({"type": "integer"}), "description": "After rounding"},
        "billedHours": nullable({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]+$"}),
        "rate": nullable(MONEY),
        "rateSource": nullable({"enum": RATE_SOURCES}),
        "amount": MONEY,
        "contract": CONTRACT_REF,
        "periodStart": MAYBE_DATE,
        "periodEnd": MAYBE_DATE,
        "credits": {
            **nullable(_id("inl")),
            "description": "On a credit note: the line it takes back",
        },
    },
)

PARTY = {
    "type": "object",
    "required": ["name", "address", "taxId", "email"],
    "properties": {
        "id": _id("cli"),
        "name": TEXT,
        "address": nullable(TEXT),
        "taxId": nullable(TEXT),
        "email": nullable(TEXT),
    },
    "description": "As copied onto the invoice when it was made",
}

NUMBER = {
    "type": "string",
    "pattern": "^(INV|CN)-[0-9]{4}-[0-9]{4,}$",
    "examples": ["INV-2026-0001"],
}

NOT_BEFORE_ISSUE = (
    "Default: today in the client's time zone; not before the invoice's issue date (400)"
)

SCHEMAS: dict[str, Any] = {
    "TimeEntryCreate": _input(TIME_ENTRY_FIELDS, ["minutes", "description"]),
    "TimeEntryUpdate": _input(
        TIME_ENTRY_FIELDS, description="The fields sent change (an invoiced entry: 409)"
    ),
    "TimeEntry": TIME_ENTRY,
    "TicketTime": _object(
        None,
        {
            "ticket": TICKET_REF,
            "client": {**CLIENT_REF, "description": "Who the ticket bills to now"},
            "entries": {"type": "array", "items": ref("TimeEntry")},
            "totals": TICKET_TOTALS,
        },
    ),
    "TicketClientChoice": _input(
        {
            "client": {
                **nullable(_ref_input("cli", "A client")),
                "description": "null: the automatic choice (the product's client, else the "
                "requester's email domain)",
            }
        },
        ["client"],
    ),
    "TicketClient": _object(
        None,
        {
            "ticket": TICKET_REF,
            "client": CLIENT_REF,
            "chosenByStaff": {"type": "boolean"},
        },
    ),
    "TimeReport": _object(
        ["entries", "hasMore", "totals"],
        {
            "entries": {"type": "array", "items": ref("TimeEntry")},
            "nextCursor": {"type": "string", "description": "Present when hasMore is true"},
            "hasMore": {"type": "boolean"},
            "totals": _object(
                None,
                {
                    **TICKET_TOTALS["properties"],
                    "groupBy": {"enum": list(REPORT_GROUPS)},
                    "timeZone": TEXT,
                    "byPeriod": {
                        "type": "array",
                        "items": _object(
                            None,
                            {
                                "period": {
                                    "type": "string",
                                    "examples": ["2026-12", "2026-W49", "2026-12-02"],
                                },
                                **MINUTE_SUMS,
                            },
                        ),
                    },
                },
                description="Over every entry the filters match (not only this page)",
            ),
        },
    ),
    "ClientCreate": _input(CLIENT_FIELDS, ["name"]),
    "ClientUpdate": _input(CLIENT_FIELDS, description="The fields sent change"),
    "Client": _object(
        [
            *("id", "name", "address", "taxId", "email", "currency", "hourlyRate", "timeZone"),
            *("taxes", "paymentDays", "domains", "products", "webhookUrl", "createdAt"),
            "updatedAt",
        ],
        {
            "id": _id("cli"),
            "name": TEXT,
            "address": nullable(TEXT),
            "taxId": nullable(TEXT),
            "email": nullable(TEXT),
            "currency": CURRENCY,
            "hourlyRate": nullable(MONEY),
            "timeZone": TEXT,
            "taxes": {"type": "array", "items": TAX_OUT},
            "paymentDays": {"type": "integer", "minimum": 0},
            "domains": {"type": "array", "items": TEXT},
            "products": {"type": "array", "items": TEXT},
            "webhookUrl": nullable(TEXT),
            "webhookSecret": {
                "type": "string",
                "description": "The billing webhook's signing secret: only in the answer that "
                "set the first URL or rotated the secret, never again",
            },
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        },
    ),
    "ClientPage": _object(
        ["clients", "hasMore"],
        {
            "clients": {"type": "array", "items": ref("Client")},
            "nextCursor": {"type": "string"},
            "hasMore": {"type": "boolean"},
        },
    ),
    "ContractCreate": _input(
        {"client": _ref_input("cli", "The client"), **CONTRACT_FIELDS},
        ["client", "name", "kind", "startsOn"],
        anyOf=CONTRACT_BY_KIND,
    ),
    "ContractUpdate": _input(
        CONTRACT_FIELDS,
        description="The fields sent change, checked with the rest as a whole; the terms "
        "(kind, period, startsOn, timeZone, rounding, hours, rates, rollover, fee) are fixed "
        "once a period is charged on an invoice (409)",
    ),
    "Contract": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "client",
            "name",
            "kind",
            "period",
            "startsOn",
            "endsOn",
            "timeZone",
            "currency",
            "rounding",
            "scope",
            "createdAt",
            "updatedAt",
        ],
        "properties": {
            "id": _id("con"),
            "client": _object(None, {"id": _id("cli"), "name": TEXT}),
            "name": TEXT,
            "kind": {"enum": CONTRACT_KINDS},
            "period": {"enum": PERIODS},
            "startsOn": DATE_OUT,
            "endsOn": MAYBE_DATE,
            "timeZone": TEXT,
            "currency": CURRENCY,
            "rounding": _object(
                None,
                {"increment": {"type": "integer", "minimum": 1}, "mode": {"enum": ROUNDING_MODES}},
            ),
            "scope": nullable(TEXT),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "hoursPerPeriod": HOURS,
            "minutesPerPeriod": MINUTES,
            "hourlyRate": MONEY,
            "overageRate": MONEY,
            "rollover": {"type": "boolean"},
            "rolloverCapHours": nullable(HOURS),
            "fee": MONEY,
        },
        "anyOf": [
            {
                "properties": {"kind": {"const": "time_based"}},
                "required": [
                    "hoursPerPeriod",
                    "minutesPerPeriod",
                    "hourlyRate",
                    "overageRate",
                    "rollover",
                    "rolloverCapHours",
                ],
            },
            {"properties": {"kind": {"const": "fixed_price"}}, "required": ["fee"]},
        ],
        "description": "A time-based contract has the hour bank's fields, a fixed-price one "
        "its fee",
    },
    "ContractPage": _object(
        ["contracts", "hasMore"],
        {
            "contracts": {"type": "array", "items": ref("Contract")},
            "nextCursor": {"type": "string"},
            "hasMore": {"type": "boolean"},
        },
    ),
    "ContractLedger": _object(
        None,
        {
            "contract": _object(None, {"id": _id("con"), "name": TEXT}),
            "through": DATE_OUT,
            "balanceMinutes": {"type": "integer", "description": "The bank on `through`"},
            "entries": {
                "type": "array",
                "items": _object(
                    None,
                    {
                        "kind": {"enum": [k.value for k in Kind]},
                        "date": DATE_OUT,
                        "periodStart": DATE_OUT,
                        "changeMinutes": {
                            "type": "integer",
                            "description": "What it adds to the balance (0 for overage)",
                        },
                        "minutes": MINUTES,
                        "balanceMinutes": {
                            "type": "integer",
                            "description": "The period's balance after it",
                        },
                        "timeEntry": {
                            **nullable(_id("tim")),
                            "description": "A draw's or overage's time entry",
                        },
                    },
                ),
                "description": "Every purchase, draw, rollover, expiry and overage, in order",
            },
            "periods": {
                "type": "array",
                "items": _object(
                    None,
                    {
                        "start": DATE_OUT,
                        "end": DATE_OUT,
                        "closed": {"type": "boolean"},
                        "rolloverMinutes": MINUTES,
                        "purchaseMinutes": MINUTES,
                        "drawMinutes": MINUTES,
                        "overageMinutes": MINUTES,
                        "expiryMinutes": MINUTES,
                        "balanceMinutes": {"type": "integer"},
                    },
                ),
            },
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "periodStart", "at"],
                    "properties": {
                        "kind": {"type": "string", "examples": ["bank.warning80"]},
                        "periodStart": DATE_OUT,
                        "at": TIMESTAMP,
                        "percent": {"type": "integer"},
                        "usedMinutes": {"type": "integer"},
                        "availableMinutes": {"type": "integer"},
                        "periodEnd": DATE_OUT,
                    },
                },
                "description": "The bank's 80 % and 95 % warnings, each once per period",
            },
        },
    ),
    "RateSet": _input(
        {
            "technician": {
                **nullable(required_text(MAX_NAME)),
                "description": "The technician (a key's name, as on their time entries); "
                "null: the default rate",
            },
            "currency": CURRENCY,
            "rate": {**nullable(MONEY_INPUT), "description": "null: remove the rate"},
        },
        ["currency"],
    ),
    "RateList": _object(
        None,
        {
            "rates": {
                "type": "array",
                "items": _object(
                    None,
                    {
                        "technician": {**nullable(TEXT), "description": "null: the default"},
                        "currency": CURRENCY,
                        "rate": MONEY,
                    },
                ),
            }
        },
    ),
    "InvoiceDraftCreate": _input(
        {
            "client": _ref_input("cli", "The client"),
            "periodStart": {
                **nullable(DATE),
                "description": "Default: the first of periodEnd's month",
            },
            "periodEnd": {**DATE, "description": "The period's last day"},
            "taxes": {**nullable(TAXES_INPUT), "description": "null: the client's"},
            "notes": _optional_text(MAX_NOTES),
        },
        ["client", "periodEnd"],
    ),
    "InvoiceIssue": _input(
        {
            "issueDate": {
                **nullable(DATE),
                "description": "Default: today in the client's time zone; its year is the number's",
            },
            "dueDate": {
                **nullable(DATE),
                "description": "On or after issueDate; default: "
                "issueDate plus the client's paymentDays",
            },
        }
    ),
    "InvoicePay": _input(
        {
            "paidOn": {**nullable(DATE), "description": NOT_BEFORE_ISSUE},
            "reason": _optional_text(MAX_NOTES),
        }
    ),
    "InvoiceVoid": _input(
        {
            "voidedOn": {**nullable(DATE), "description": NOT_BEFORE_ISSUE},
            "reason": _optional_text(MAX_NOTES),
        }
    ),
    "InvoiceCredit": _input(
        {
            "lines": {
                **nullable(
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 10_000,
                        "items": {"type": "string", "pattern": f"^{_desk_ref()}\\n?$"},
                    }
                ),
                "description": "Ids of the lines to take back (`inl_…`); null: every line "
                "not credited yet",
            },
            "reason": required_text(MAX_NOTES),
            "issueDate": {**nullable(DATE), "description": NOT_BEFORE_ISSUE},
        },
        ["reason"],
    ),
    "Invoice": _object(
        None,
        {
            "id": _id("inv"),
            "kind": {"enum": ["invoice", "creditNote"]},
            "number": {**nullable(NUMBER), "description": "null on a draft"},
            "status": {"enum": INVOICE_STATUSES},
            "issueDate": MAYBE_DATE,
            "dueDate": MAYBE_DATE,
            "periodStart": MAYBE_DATE,
            "periodEnd": MAYBE_DATE,
            "currency": CURRENCY,
            "locale": {"const": "en"},
            "seller": {**PARTY, "description": "Who it is from (TINYDESK_SELLER_*)"},
            "client": PARTY,
            "creditFor": {**nullable(NUMBER), "description": "A credit note's invoice"},
            "creditNotes": {"type": "array", "items": NUMBER},
            "lines": {"type": "array", "items": ref("InvoiceLine")},
            "subtotal": MONEY,
            "taxes": {
                "type": "array",
                "items": _object(
                    None, {"name": TEXT, "rate": TEXT, "base": MONEY, "amount": MONEY}
                ),
            },
            "taxTotal": MONEY,
            "total": MONEY,
            "rounding": {**TEXT, "description": "How its figures were rounded, in words"},
            "issuedAt": MAYBE_TIMESTAMP,
            "paidOn": MAYBE_DATE,
            "voidedOn": MAYBE_DATE,
            "voidReason": nullable(TEXT),
            "notes": nullable(TEXT),
            "pdf": {"type": "boolean", "description": "Whether its PDF is stored (issued)"},
            "createdAt": TIMESTAMP,
        },
    ),
    "InvoiceLine": INVOICE_LINE,
    "InvoiceSummary": _object(
        None,
        {
            "id": _id("inv"),
            "kind": {"enum": ["invoice", "creditNote"]},
            "number": nullable(NUMBER),
            "status": {"enum": INVOICE_STATUSES},
            "client": CLIENT_REF,
            "issueDate": MAYBE_DATE,
            "periodStart": MAYBE_DATE,
            "periodEnd": MAYBE_DATE,
            "currency": CURRENCY,
            "total": MONEY,
            "createdAt": TIMESTAMP,
        },
    ),
    "InvoicePage": _object(
        ["invoices", "hasMore"],
        {
            "invoices": {"type": "array", "items": ref("InvoiceSummary")},
            "nextCursor": {"type": "string"},
            "hasMore": {"type": "boolean"},
        },
    ),
}

# -- operations -----------------------------------------------------------------------------------

UNSCOPED = ok(
    "Billing needs an unscoped desk key (this one is limited to products)",
    ref("Error"),
    rate_limited=True,
)


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return desk_op(summary, responses, **extra)


# Clients, contracts, rates and invoices span every product: a desk key limited to none.
BILLING: list[dict[str, list[str]]] = [{"billingKey": []}]
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A desk API key limited to no product (`tinydesk keys create --name NAME`); "
    "a key limited to products is refused (403)",
}


def _billing_op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An operation across products: an unscoped key, else 403."""
    return {**desk_op(summary, {**responses, "403": UNSCOPED}, **extra), "security": BILLING}


def _created(description: str, schema: str) -> dict[str, Any]:
    response = ok(description, ref(schema), rate_limited=True)
    response["headers"]["Location"] = {
        "description": "The new resource",
        "schema": {"type": "string"},
    }
    return response


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": TEXT,
    }


ENTRY_PARAM = _path_param("entry", "The time entry's id (`tim_…`)")
CLIENT_PARAM = _path_param("id", "The client's id (`cli_…`)")
CONTRACT_PARAM = _path_param("id", "The contract's id (`con_…`)")
INVOICE_PARAM = _path_param(
    "ref",
    "An invoice's number (`INV-2026-0001`, any case), a credit note's (`CN-2026-0001`) "
    "or a draft's id (`inv_…`)",
)
SHOW_PARAM = _path_param(
    "ref", "As for the other invoice paths; ending in `.pdf` the PDF, in `.csv` the lines as CSV"
)


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _or_blank(schema: dict[str, Any]) -> dict[str, Any]:
    """A query filter: blank is no filter."""
    return {"anyOf": [schema, {"const": ""}]}


CLIENT_FILTER = _query(
    "client", _or_blank(_ref_input("cli", "A client")), "Only this client's (`cli_…`)"
)
TIME_REPORT_PARAMS = [
    _query("from", _or_blank(DATE), "The first day (inclusive), in timeZone"),
    _query("to", _or_blank(DATE), "The last day (inclusive, on or after from), in timeZone"),
    _query("timeZone", _or_blank(TIME_ZONE), "For the days and periods (default UTC)"),
    _query(
        "technician",
        {"type": "string", "pattern": "^[^\\u0000]*$", "maxLength": MAX_NAME},
        "Only this technician's entries (exactly as on them)",
    ),
    CLIENT_FILTER,
    _query("billable", {"enum": ["true", "false", ""]}, "Only billable (true) or not (false)"),
    _query(
        "groupBy",
        {"enum": [*REPORT_GROUPS, ""], "default": "month"},
        "totals.byPeriod by day, ISO week or month",
    ),
    *PAGE_PARAMS,
]

LOG_TIME = _op(
    "Log time on a ticket (seed 003); the technician is the key's name",
    {
        "201": _created("Logged", "TimeEntry"),
        **errors(400, 404, 409, 413, 415, rate_limited=True),
    },
    requestBody=body("TimeEntryCreate"),
    description="Any key that sees the ticket. 400 for a contract of another client than the "
    "ticket's, or a date outside the contract; 404 for an unknown ticket or contract; 409 "
    "when the contract's period holding startedAt is invoiced already.",
)

COMMENT = desk_op(
    "Add a public comment or an internal note (seed 003's path; as "
    "POST /api/v1/desk/tickets/{id}/comments)",
    {
        "201": ok("Added", ref("DeskComment"), rate_limited=True),
        **errors(400, 404, 413, 415, rate_limited=True),
    },
    requestBody=body("DeskCommentCreate"),
)

PATHS: dict[str, Any] = {
    "/api/tickets/{id}/time": {"parameters": [TICKET_ID_PARAM], "post": LOG_TIME},
    "/api/tickets/{id}/comments": {"parameters": [TICKET_ID_PARAM], "post": COMMENT},
    "/api/v1/desk/tickets/{id}/time": {
        "parameters": [TICKET_ID_PARAM],
        "post": LOG_TIME,
        "get": _op(
            "A ticket's time entries, with its totals (billable and not, per technician)",
            {
                "200": ok("The ticket's time", ref("TicketTime"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
    },
    "/api/v1/desk/tickets/{id}/time/{entry}": {
        "parameters": [TICKET_ID_PARAM, ENTRY_PARAM],
        "patch": _op(
            "Change a time entry that is on no invoice",
            {
                "200": ok("Changed", ref("TimeEntry"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("TimeEntryUpdate"),
            description="409 when it is on an invoice (a draft: delete the draft first; an "
            "issued one: credit it) or its contract period is invoiced.",
        ),
        "delete": _op(
            "Delete a time entry that is on no invoice",
            {
                "200": ok("Deleted", ref("Success"), rate_limited=True),
                **errors(404, 409, rate_limited=True),
            },
        ),
    },
    "/api/v1/desk/tickets/{id}/client": {
        "parameters": [TICKET_ID_PARAM],
        "put": _billing_op(
            "Choose the client a ticket bills to (null: the automatic choice again)",
            {
                "200": ok("The ticket's client", ref("TicketClient"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("TicketClientChoice"),
            description="409 when time on the ticket is on a contract of the old client.",
        ),
    },
    "/api/v1/desk/time": {
        "get": _billing_op(
            "The time report: entries across tickets, newest first, with totals in all, per "
            "technician and per period",
            {
                "200": ok("A page, and the totals", ref("TimeReport"), rate_limited=True),
                **errors(400, 404, rate_limited=True),
            },
            parameters=TIME_REPORT_PARAMS,
            description="404 for an unknown client.",
        )
    },
    "/api/v1/desk/clients": {
        "get": _billing_op(
            "List clients, newest first",
            {
                "200": ok("A page", ref("ClientPage"), rate_limited=True),
                **errors(400, rate_limited=True),
            },
            parameters=PAGE_PARAMS,
        ),
        "post": _billing_op(
            "Create a client",
            {
                "201": _created("Created", "Client"),
                **errors(400, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("ClientCreate"),
            description="409 for a name or an email domain another client has.",
        ),
    },
    "/api/v1/desk/clients/{id}": {
        "parameters": [CLIENT_PARAM],
        "get": _billing_op(
            "A client, with its email domains and products",
            {
                "200": ok("The client", ref("Client"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
        "patch": _billing_op(
            "Change a client",
            {
                "200": ok("Changed", ref("Client"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("ClientUpdate"),
            description="409 for a name or domain another client has, or a new currency once "
            "the client has invoices.",
        ),
    },
    "/api/v1/desk/contracts": {
        "get": _billing_op(
            "List contracts, newest first",
            {
                "200": ok("A page", ref("ContractPage"), rate_limited=True),
                **errors(400, 404, rate_limited=True),
            },
            parameters=[CLIENT_FILTER, *PAGE_PARAMS],
        ),
        "post": _billing_op(
            "Create a contract: time-based (a bank of hours per period) or fixed-price",
            {
                "201": _created("Created", "Contract"),
                **errors(400, 404, 413, 415, rate_limited=True),
            },
            requestBody=body("ContractCreate"),
            description="404 for an unknown client. Amounts are in the client's currency.",
        ),
    },
    "/api/v1/desk/contracts/{id}": {
        "parameters": [CONTRACT_PARAM],
        "get": _billing_op(
            "A contract",
            {
                "200": ok("The contract", ref("Contract"), rate_limited=True),
                **errors(404, rate_limited=True),
            },
        ),
        "patch": _billing_op(
            "Change a contract (its terms only until a period is invoiced)",
            {
                "200": ok("Changed", ref("Contract"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("ContractUpdate"),
        ),
    },
    "/api/v1/desk/contracts/{id}/ledger": {
        "parameters": [CONTRACT_PARAM],
        "get": _billing_op(
            "A time-based contract's hour bank: every purchase, draw, rollover, expiry and "
            "overage with its date, each period's sums, and the balance",
            {
                "200": ok("The ledger", ref("ContractLedger"), rate_limited=True),
                **errors(400, 404, 409, rate_limited=True),
            },
            parameters=[
                _query("through", DATE, "The last day (default: today in the contract's time zone)")
            ],
            description="409 for a fixed-price contract (it has no bank).",
        ),
    },
    "/api/v1/desk/rates": {
        "get": _billing_op(
            "The technicians' hourly rates and the default rate, by currency",
            {"200": ok("Rates", ref("RateList"), rate_limited=True)},
        ),
        "put": _billing_op(
            "Set or remove a technician's rate or the default rate in a currency",
            {
                "200": ok("Rates", ref("RateList"), rate_limited=True),
                **errors(400, 413, 415, rate_limited=True),
            },
            requestBody=body("RateSet"),
            description="Time on no contract is billed at the client's rate, else the "
            "technician's, else the default (a contract's own rates come first).",
        ),
    },
    "/api/v1/desk/invoices": {
        "get": _billing_op(
            "List invoices and credit notes, newest first",
            {
                "200": ok("A page", ref("InvoicePage"), rate_limited=True),
                **errors(400, 404, rate_limited=True),
            },
            parameters=[
                CLIENT_FILTER,
                _query("status", {"enum": [*INVOICE_STATUSES, ""]}, "Only those in this state"),
                *PAGE_PARAMS,
            ],
        ),
        "post": _billing_op(
            "Make a draft invoice for a client and period from what is not invoiced yet",
            {
                "201": _created("The draft", "Invoice"),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("InvoiceDraftCreate"),
            description="Billable time, contract fees, bank purchases and overage; a draft "
            "has no number. 404 for an unknown client; 409 when nothing is left to invoice.",
        ),
    },
    "/api/v1/desk/invoices/{ref}": {
        "get": _billing_op(
            "An invoice or credit note: JSON, or with `.pdf` its PDF, with `.csv` its lines",
            {
                "200": {
                    "description": "The invoice (`…/INV-2026-0001`), its PDF (`….pdf`: the one "
                    "stored when issued; a draft's rendered now, marked DRAFT) or its lines "
                    "as CSV (`….csv`)",
                    "headers": {
                        **RATE_HEADERS,
                        "Content-Disposition": {
                            "description": "With `.pdf` and `.csv`: the file name",
                            "schema": {"type": "string"},
                        },
                    },
                    "content": {
                        "application/json": {"schema": ref("Invoice")},
                        # No schema: the bytes are a PDF, not text to validate.
                        "application/pdf": {},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **errors(404, rate_limited=True),
            },
            parameters=[SHOW_PARAM],
        ),
        "delete": _billing_op(
            "Delete a draft (its time and charges can be invoiced again)",
            {
                "200": ok("Deleted", ref("Success"), rate_limited=True),
                **errors(404, 409, rate_limited=True),
            },
            parameters=[INVOICE_PARAM],
            description="409 for an issued invoice: it is never deleted (void or credit it).",
        ),
    },
    "/api/v1/desk/invoices/{ref}/issue": {
        "parameters": [INVOICE_PARAM],
        "post": _billing_op(
            "Issue a draft: the next number of its year (INV-YYYY-NNNN, gapless), the PDF "
            "stored, nothing changed after",
            {
                "200": ok("Issued", ref("Invoice"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("InvoiceIssue"),
            description="409 when it is issued already, or has no lines.",
        ),
    },
    "/api/v1/desk/invoices/{ref}/pay": {
        "parameters": [INVOICE_PARAM],
        "post": _billing_op(
            "Mark an issued invoice paid",
            {
                "200": ok("Paid", ref("Invoice"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("InvoicePay"),
        ),
    },
    "/api/v1/desk/invoices/{ref}/void": {
        "parameters": [INVOICE_PARAM],
        "post": _billing_op(
            "Void an issued, unpaid invoice (its number stays used; its time and charges can "
            "be invoiced again)",
            {
                "200": ok("Void", ref("Invoice"), rate_limited=True),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("InvoiceVoid"),
            description="409 for a draft, a paid invoice (credit it instead), a credit note, "
            "or an invoice with credit notes.",
        ),
    },
    "/api/v1/desk/invoices/{ref}/credit": {
        "parameters": [INVOICE_PARAM],
        "post": _billing_op(
            "Credit an issued or paid invoice: a credit note (CN-YYYY-NNNN), issued at once, "
            "taking back some or all of its lines",
            {
                "201": _created("The credit note", "Invoice"),
                **errors(400, 404, 409, 413, 415, rate_limited=True),
            },
            requestBody=body("InvoiceCredit"),
            description="400 for a line not on the invoice; 409 for a line credited already, "
            "or nothing left to credit.",
        ),
    },
}
