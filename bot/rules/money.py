"""Money as integers of a currency's ISO 4217 minor units (cents, yen, fils), with ``Decimal``
only where a fraction must be rounded: never a float. Pure.

Amounts cross the API as decimal strings in major units ("95.00", "-12.5" is refused for JPY);
``parse_amount`` takes them in, ``amount_text`` writes them out. Every rounding of money in
TinyDesk is ``ROUND_HALF_UP`` to the minor unit, once per line (``bot.rules.invoice_math``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies

# The largest single amount (a rate or a fee) in minor units: 100 billion euros. With the
# bounded hours and dates of bot.rules.billing_input, every line and sum of an invoice stays
# far inside the signed 64-bit columns.
MAX_MINOR = 10**13
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL = re.compile(r"^-?[0-9]{1,16}(?:\.[0-9]{1,8})?$")
# Funds and precious metals have codes too; they are not what invoices are written in.
_NOT_MONEY = frozenset({"XAG", "XAU", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC",
                        "XBD", "XTS", "XXX"})


class MoneyError(ValueError):
    """An amount or currency a client sent that cannot be money (the message says why)."""


def is_currency(code: object) -> bool:
    """An ISO 4217 code babel knows (upper case, three letters)."""
    return (
        isinstance(code, str)
        and bool(_CURRENCY.match(code))
        and code not in _NOT_MONEY
        and code in _known_currencies()
    )


def _known_currencies() -> frozenset[str]:
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = frozenset(list_currencies())
    return _KNOWN


_KNOWN: frozenset[str] | None = None


def minor_digits(currency: str) -> int:
    """How many decimals the currency has: EUR 2, JPY 0, BHD 3."""
    return int(get_currency_precision(currency))


def to_decimal(value: object) -> Decimal:
    """A JSON number or decimal string as an exact Decimal (floats by their shortest text)."""
    if isinstance(value, bool) or value is None:
        raise MoneyError("must be a decimal number such as \"95.00\"")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str) or not _DECIMAL.match(value.strip()):
        raise MoneyError("must be a decimal number such as \"95.00\"")
    try:
        return Decimal(value.strip())
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise MoneyError("must be a decimal number such as \"95.00\"") from error


def parse_amount(value: object, currency: str, *, negative: bool = False) -> int:
    """An amount in major units as minor units; more decimals than the currency has is an
    error, never a silent rounding ("95.005" EUR, "1.5" JPY)."""
    number = to_decimal(value)
    digits = minor_digits(currency)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > digits and number != number.quantize(Decimal(1).scaleb(-digits)):
        unit = "whole units" if digits == 0 else f"{digits} decimals"
        raise MoneyError(f"{currency} has {unit}; {value!r} has more")
    if number < 0 and not negative:
        raise MoneyError("must not be negative")
    minor = int(number.scaleb(digits))
    if abs(minor) >= MAX_MINOR:
        raise MoneyError("is too large")
    return minor


def amount_text(minor: int, currency: str) -> str:
    """Minor units as a decimal string in major units: 9500 EUR -> "95.00", 95 JPY -> "95"."""
    digits = minor_digits(currency)
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def round_half_up(value: Decimal) -> int:
    """To a whole number of minor units, halves away from zero (the one money rounding)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def time_amount(minutes: int, rate_minor: int) -> int:
    """The price of ``minutes`` at an hourly rate, rounded half up to the minor unit."""
    return round_half_up(Decimal(minutes) * Decimal(rate_minor) / Decimal(60))


def hours_text(minutes: int) -> str:
    """Minutes as decimal hours: 15 -> "0.25", 90 -> "1.50", 20 -> "0.3333" (4 decimals when
    two would not be exact)."""
    hours = Decimal(minutes) / Decimal(60)
    two = hours.quantize(Decimal("0.01"))
    if two == hours:
        return str(two)
    return str(hours.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def parse_tax_rate(value: object) -> Decimal:
    """A tax rate in percent, 0 to 100 with at most 4 decimals ("19", "7.5", "8.875")."""
    rate = to_decimal(value)
    if rate < 0 or rate > 100:
        raise MoneyError("must be a percentage from 0 to 100")
    if rate != rate.quantize(Decimal("0.0001")):
        raise MoneyError("has more than 4 decimals")
    # normalize() alone would write 20 as 2E+1; a whole rate keeps exponent 0 ("20", "19").
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def percent_of(base_minor: int, rate: Decimal) -> int:
    """``rate`` percent of an amount, rounded half up to the minor unit."""
    return round_half_up(Decimal(base_minor) * rate / Decimal(100))


def rate_text(rate: Decimal) -> str:
    """A tax rate for display and JSON: "19", "7.5"."""
    return format(rate.normalize(), "f")
