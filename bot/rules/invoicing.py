"""What an invoice for a client holds, and what its figures are: a pure function of the
client's contracts, its billable time entries and what earlier invoices already charged.

``compose`` takes everything up to the invoice period's last day that no live (not void)
invoice has charged yet, so nothing is left behind by a narrow period:

- **time-based contracts** (a bank of hours): a ``bankPurchase`` line for each bank period
  that has begun (hours x hourly rate, billed in advance); once a bank period has ended, its
  entries (amount 0: drawn from the bank) and an ``overage`` line (the minutes the bank did
  not cover x the overage rate; no line when there were none) are charged together, so a bank
  period's overage is billed once and only when it is known;
- **fixed-price contracts**: a ``fixedFee`` line for each period that has begun (a one-off:
  once); their entries are listed at amount 0 (recorded, not billed);
- **time on no contract**: one ``time`` line per entry at its rate (client > technician >
  default, resolved by the caller and printed with its source).

Minutes are billed after the contract's rounding (``bot.rules.rounding``); dates are local
dates in the contract's time zone (the client's for time on no contract). Each line's amount
is rounded half up to the minor unit; taxes are each a percentage of the subtotal, rounded
half up; the total is the subtotal plus the taxes. ``totals`` is the only arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal

from bot.rules import hour_bank
from bot.rules.billing_periods import Period, local_date, spans
from bot.rules.money import percent_of, time_amount
from bot.rules.rounding import RoundingMode, round_minutes


class ContractKind(enum.StrEnum):
    TIME_BASED = "time_based"
    FIXED_PRICE = "fixed_price"


class LineKind(enum.StrEnum):
    TIME = "time"
    BANK_PURCHASE = "bankPurchase"
    OVERAGE = "overage"
    FIXED_FEE = "fixedFee"
    CREDIT = "credit"


@dataclasses.dataclass(frozen=True)
class Contract:
    id: int
    name: str
    kind: ContractKind
    period: Period
    starts_on: dt.date
    ends_on: dt.date | None
    time_zone: str
    rounding_increment: int = 1
    rounding_mode: RoundingMode = RoundingMode.UP
    # time-based
    minutes_per_period: int = 0
    hourly_rate: int = 0
    overage_rate: int = 0
    rollover: bool = False
    rollover_cap: int | None = None
    # fixed-price
    fee: int = 0

    def billed(self, minutes: int) -> int:
        return round_minutes(minutes, self.rounding_increment, self.rounding_mode)

    def bank_terms(self) -> hour_bank.BankTerms:
        return hour_bank.BankTerms(
            self.starts_on, self.ends_on, self.period, self.minutes_per_period,
            self.rollover, self.rollover_cap,
        )


@dataclasses.dataclass(frozen=True)
class Work:
    """A billable time entry. ``rate``/``rate_source`` matter for time on no contract."""

    id: int
    started_at: dt.datetime
    minutes: int
    contract_id: int | None
    invoiced: bool = False
    rate: int | None = None
    rate_source: str | None = None


@dataclasses.dataclass(frozen=True)
class Charge:
    """A contract's charge for one period; each is made by one live invoice at most."""

    contract_id: int
    kind: LineKind
    period_start: dt.date


@dataclasses.dataclass(frozen=True)
class Line:
    kind: LineKind
    amount: int
    day: dt.date | None = None
    entry_id: int | None = None
    contract_id: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None  # last day
    raw_minutes: int | None = None
    billed_minutes: int | None = None
    rate: int | None = None
    rate_source: str | None = None


@dataclasses.dataclass(frozen=True)
class Draft:
    lines: tuple[Line, ...]
    charges: tuple[Charge, ...]

    @property
    def entry_ids(self) -> tuple[int, ...]:
        return tuple(line.entry_id for line in self.lines if line.entry_id is not None)


class Unbillable(ValueError):
    """An entry on no contract has no rate (the message says which)."""


def compose(
    through: dt.date,
    contracts: Sequence[Contract],
    work: Iterable[Work],
    charged: Iterable[Charge],
    client_zone: str,
) -> Draft:
    """The lines of a draft for everything up to ``through`` (the period's last day) that is
    not charged yet. ``work`` holds every billable entry of the client that is not on a void
    invoice, invoiced ones included (a bank's ledger needs its earlier draws)."""
    done = set(charged)
    lines: list[Line] = []
    new_charges: list[Charge] = []
    by_contract: dict[int | None, list[Work]] = {}
    for item in work:
        by_contract.setdefault(item.contract_id, []).append(item)

    def charge(contract: Contract, kind: LineKind, start: dt.date) -> bool:
        key = Charge(contract.id, kind, start)
        if key in done:
            return False
        done.add(key)
        new_charges.append(key)
        return True

    for contract in sorted(contracts, key=lambda c: (c.name, c.id)):
        entries = by_contract.get(contract.id, [])
        days = {item.id: local_date(item.started_at, contract.time_zone) for item in entries}
        if contract.kind is ContractKind.FIXED_PRICE:
            for period in spans(contract.starts_on, contract.period, contract.ends_on):
                if period.start > through:
                    break
                if charge(contract, LineKind.FIXED_FEE, period.start):
                    lines.append(Line(
                        LineKind.FIXED_FEE, contract.fee, day=period.start,
                        contract_id=contract.id, period_start=period.start,
                        period_end=None if contract.period is Period.ONE_OFF else period.last_day,
                    ))
            for item in sorted(entries, key=lambda i: (days[i.id], i.id)):
                if not item.invoiced and days[item.id] <= through:
                    lines.append(Line(
                        LineKind.TIME, 0, day=days[item.id], entry_id=item.id,
                        contract_id=contract.id, raw_minutes=item.minutes,
                        billed_minutes=contract.billed(item.minutes), rate_source="fixed",
                    ))
            continue
        draws = [hour_bank.Draw(i.id, days[i.id], contract.billed(i.minutes)) for i in entries]
        ledger = hour_bank.ledger(contract.bank_terms(), draws, through)
        overage_by_entry: dict[int, int] = {}
        for entry in ledger:
            if entry.kind is hour_bank.Kind.OVERAGE and entry.entry_id is not None:
                overage_by_entry[entry.entry_id] = entry.minutes
        for period in spans(contract.starts_on, contract.period, contract.ends_on):
            if period.start > through:
                break
            if charge(contract, LineKind.BANK_PURCHASE, period.start):
                lines.append(Line(
                    LineKind.BANK_PURCHASE,
                    time_amount(contract.minutes_per_period, contract.hourly_rate),
                    day=period.start, contract_id=contract.id, period_start=period.start,
                    period_end=None if contract.period is Period.ONE_OFF else period.last_day,
                    billed_minutes=contract.minutes_per_period, rate=contract.hourly_rate,
                    rate_source="contract",
                ))
            if period.last_day > through or not charge(contract, LineKind.OVERAGE, period.start):
                continue
            in_period = sorted(
                (i for i in entries if period.start <= days[i.id] < period.end),
                key=lambda i: (days[i.id], i.id),
            )
            overage = 0
            for item in in_period:
                overage += overage_by_entry.get(item.id, 0)
                if not item.invoiced:
                    lines.append(Line(
                        LineKind.TIME, 0, day=days[item.id], entry_id=item.id,
                        contract_id=contract.id, raw_minutes=item.minutes,
                        billed_minutes=contract.billed(item.minutes), rate_source="bank",
                    ))
            if overage:
                lines.append(Line(
                    LineKind.OVERAGE, time_amount(overage, contract.overage_rate),
                    day=period.last_day, contract_id=contract.id, period_start=period.start,
                    period_end=period.last_day, billed_minutes=overage,
                    rate=contract.overage_rate, rate_source="contract",
                ))
    loose = [
        (local_date(item.started_at, client_zone), item) for item in by_contract.get(None, [])
        if not item.invoiced
    ]
    for day, item in sorted(loose, key=lambda pair: (pair[0], pair[1].id)):
        if day > through:
            continue
        if item.rate is None:
            raise Unbillable(f"time entry {item.id} has no rate")
        lines.append(Line(
            LineKind.TIME, time_amount(item.minutes, item.rate), day=day, entry_id=item.id,
            raw_minutes=item.minutes, billed_minutes=item.minutes, rate=item.rate,
            rate_source=item.rate_source,
        ))
    return Draft(tuple(lines), tuple(new_charges))


@dataclasses.dataclass(frozen=True)
class Tax:
    name: str
    rate: Decimal


@dataclasses.dataclass(frozen=True)
class TaxLine:
    name: str
    rate: Decimal
    base: int
    amount: int


@dataclasses.dataclass(frozen=True)
class Totals:
    subtotal: int
    taxes: tuple[TaxLine, ...]
    total: int


def totals(amounts: Iterable[int], taxes: Sequence[Tax]) -> Totals:
    """Subtotal (the sum of the lines), each tax on the subtotal, and the total."""
    subtotal = sum(amounts)
    tax_lines = tuple(
        TaxLine(t.name, t.rate, subtotal, percent_of(subtotal, t.rate)) for t in taxes
    )
    return Totals(subtotal, tax_lines, subtotal + sum(t.amount for t in tax_lines))


ROUNDING_STATEMENT = (
    "Each line's amount is its billed hours times its rate, rounded half up to the currency's "
    "minor unit; each tax is its rate of the subtotal, rounded half up; the total is the "
    "subtotal plus the taxes."
)
