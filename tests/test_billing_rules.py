"""The billing rules (bot/rules: money, rounding, billing_periods, hour_bank, invoicing) on
fixtures computed by hand: every figure is written out here, never recomputed with the code
under test. The arithmetic is in the comments beside each expected value."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bot.rules import hour_bank, invoicing
from bot.rules.billing_periods import Period, Span, add_months, local_date, span, span_of, spans
from bot.rules.hour_bank import BankTerms, Draw, Kind
from bot.rules.invoicing import (
    Charge,
    Contract,
    ContractKind,
    Line,
    LineKind,
    Tax,
    TaxLine,
    Totals,
    Work,
)
from bot.rules.money import (
    MoneyError,
    amount_text,
    hours_text,
    is_currency,
    minor_digits,
    parse_amount,
    parse_tax_rate,
    percent_of,
    rate_text,
    time_amount,
)
from bot.rules.rounding import RoundingMode, round_minutes

D = dt.date
JAN, FEB, MAR, APR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)


def at(day: dt.date) -> dt.datetime:
    """09:00 UTC on ``day``: the same date in Berlin."""
    return dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)


def rows(entries: list[hour_bank.Entry]) -> list[tuple[object, ...]]:
    return [(e.kind, e.day, e.change, e.minutes, e.balance, e.entry_id) for e in entries]


# --------------------------------------------------- the 20 h/month bank, three months

# 20 h a month = 1200 minutes; a cap of 10 h = 600 minutes.
# January draws 15 h (900 = 600 + 300): 5 h unused, which expire (300) and roll over (300).
# February draws 25 h (1500 = 900 + 600): covered exactly by 20 h + 5 h rolled over.
# March draws 23 h (1380 = 480 + 840 + 60): 20 h covered, 3 h (180) overage, split as
# 120 of entry 6 (840 = 720 drawn + 120 over) and all 60 of entry 7.
DRAWS = [
    Draw(1, D(2026, 1, 5), 600),
    Draw(2, D(2026, 1, 20), 300),
    Draw(3, D(2026, 2, 3), 900),
    Draw(4, D(2026, 2, 12), 600),
    Draw(5, D(2026, 3, 3), 480),
    Draw(6, D(2026, 3, 17), 840),
    Draw(7, D(2026, 3, 30), 60),
]


def bank(rollover: bool = True, cap: int | None = 600) -> BankTerms:
    return BankTerms(JAN, None, Period.MONTH, 1200, rollover=rollover, rollover_cap=cap)


def test_a_20_hour_bank_with_rollover_across_three_months_ends_with_3_hours_overage():
    entries = hour_bank.ledger(bank(), DRAWS, D(2026, 3, 31))
    assert rows(entries) == [
        # January: 1200 bought, 600 and 300 drawn, 300 left, expired on 31 January.
        (Kind.PURCHASE, D(2026, 1, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 1, 5), -600, 600, 600, 1),
        (Kind.DRAW, D(2026, 1, 20), -300, 300, 300, 2),
        (Kind.EXPIRY, D(2026, 1, 31), -300, 300, 0, None),
        # February: 300 rolled in (under the 600 cap) + 1200 = 1500; 900 + 600 drawn = 0,
        # so nothing expires.
        (Kind.ROLLOVER, D(2026, 2, 1), 300, 300, 300, None),
        (Kind.PURCHASE, D(2026, 2, 1), 1200, 1200, 1500, None),
        (Kind.DRAW, D(2026, 2, 3), -900, 900, 600, 3),
        (Kind.DRAW, D(2026, 2, 12), -600, 600, 0, 4),
        # March: nothing to roll; 1200 bought; 480 drawn (720 left); entry 6 takes the 720
        # and is 120 over; entry 7 is 60 over. March is still open on 31 March: no expiry.
        (Kind.PURCHASE, D(2026, 3, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 3, 3), -480, 480, 720, 5),
        (Kind.DRAW, D(2026, 3, 17), -720, 720, 0, 6),
        (Kind.OVERAGE, D(2026, 3, 17), 0, 120, 0, 6),
        (Kind.OVERAGE, D(2026, 3, 30), 0, 60, 0, 7),
    ]
    assert [e.period.start for e in entries] == [JAN] * 4 + [FEB] * 4 + [MAR] * 5
    assert hour_bank.totals(entries, D(2026, 3, 31)) == [
        hour_bank.PeriodTotals(
            Span(0, JAN, FEB),
            rolled_in=0,
            purchased=1200,
            drawn=900,
            overage=0,
            expired=300,
            closed=True,
            balance=0,
        ),
        hour_bank.PeriodTotals(
            Span(1, FEB, MAR),
            rolled_in=300,
            purchased=1200,
            drawn=1500,
            overage=0,
            expired=0,
            closed=True,
            balance=0,
        ),
        hour_bank.PeriodTotals(
            Span(2, MAR, APR),
            rolled_in=0,
            purchased=1200,
            drawn=1200,
            overage=180,
            expired=0,
            closed=False,
            balance=0,
        ),
    ]
    balances = {
        D(2025, 12, 31): 0,  # before the contract
        D(2026, 1, 1): 1200,
        D(2026, 1, 4): 1200,
        D(2026, 1, 5): 600,
        D(2026, 1, 30): 300,
        D(2026, 1, 31): 0,  # the expiry is dated on the last day
        D(2026, 2, 1): 1500,
        D(2026, 2, 11): 600,
        D(2026, 2, 28): 0,
        D(2026, 3, 2): 1200,
        D(2026, 3, 10): 720,
        D(2026, 3, 31): 0,
    }
    assert {day: hour_bank.balance_on(entries, day) for day in balances} == balances
    # (used, available): January 900 of 1200; February 1500 of 300 + 1200; March 1380 of 1200.
    assert hour_bank.used_fraction(entries, Span(0, JAN, FEB)) == (900, 1200)
    assert hour_bank.used_fraction(entries, Span(1, FEB, MAR)) == (1500, 1500)
    assert hour_bank.used_fraction(entries, Span(2, MAR, APR)) == (1380, 1200)


def test_an_open_period_has_no_expiry_yet_and_the_next_one_starts_on_its_first_day():
    # Through 31 January: January has not closed, its 300 are still there.
    january = hour_bank.ledger(bank(), DRAWS, D(2026, 1, 31))
    assert rows(january) == [
        (Kind.PURCHASE, D(2026, 1, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 1, 5), -600, 600, 600, 1),
        (Kind.DRAW, D(2026, 1, 20), -300, 300, 300, 2),
    ]
    assert hour_bank.balance_on(january, D(2026, 1, 31)) == 300
    # Through 15 January: only entry 1 so far.
    assert rows(hour_bank.ledger(bank(), DRAWS, D(2026, 1, 15))) == [
        (Kind.PURCHASE, D(2026, 1, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 1, 5), -600, 600, 600, 1),
    ]
    # Through 1 April: March closes with 0 left (no expiry, nothing to roll) and April buys.
    april = hour_bank.ledger(bank(), DRAWS, APR)
    assert rows(april)[-2:] == [
        (Kind.OVERAGE, D(2026, 3, 30), 0, 60, 0, 7),
        (Kind.PURCHASE, D(2026, 4, 1), 1200, 1200, 1200, None),
    ]
    assert hour_bank.ledger(bank(), DRAWS, D(2025, 12, 31)) == []


def test_without_rollover_januarys_hours_are_lost_and_february_runs_5_hours_over():
    entries = hour_bank.ledger(bank(rollover=False), DRAWS, D(2026, 3, 31))
    assert rows(entries) == [
        (Kind.PURCHASE, D(2026, 1, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 1, 5), -600, 600, 600, 1),
        (Kind.DRAW, D(2026, 1, 20), -300, 300, 300, 2),
        (Kind.EXPIRY, D(2026, 1, 31), -300, 300, 0, None),
        # No rollover: 1200; 900 drawn (300 left); entry 4's 600 = 300 drawn + 300 over.
        (Kind.PURCHASE, D(2026, 2, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 2, 3), -900, 900, 300, 3),
        (Kind.DRAW, D(2026, 2, 12), -300, 300, 0, 4),
        (Kind.OVERAGE, D(2026, 2, 12), 0, 300, 0, 4),
        (Kind.PURCHASE, D(2026, 3, 1), 1200, 1200, 1200, None),
        (Kind.DRAW, D(2026, 3, 3), -480, 480, 720, 5),
        (Kind.DRAW, D(2026, 3, 17), -720, 720, 0, 6),
        (Kind.OVERAGE, D(2026, 3, 17), 0, 120, 0, 6),
        (Kind.OVERAGE, D(2026, 3, 30), 0, 60, 0, 7),
    ]
    assert [
        (t.rolled_in, t.drawn, t.overage, t.expired)
        for t in hour_bank.totals(entries, D(2026, 3, 31))
    ] == [
        (0, 900, 0, 300),
        (0, 1200, 300, 0),
        (0, 1200, 180, 0),
    ]


def test_a_cap_smaller_than_the_unused_hours_carries_only_the_cap():
    # Cap 2 h = 120: January's 300 unused all expire, 120 come back in February.
    entries = hour_bank.ledger(bank(cap=120), DRAWS, D(2026, 3, 31))
    assert rows(entries)[3:9] == [
        (Kind.EXPIRY, D(2026, 1, 31), -300, 300, 0, None),
        (Kind.ROLLOVER, D(2026, 2, 1), 120, 120, 120, None),
        (Kind.PURCHASE, D(2026, 2, 1), 1200, 1200, 1320, None),
        (Kind.DRAW, D(2026, 2, 3), -900, 900, 420, 3),
        # Entry 4's 600 = 420 drawn + 180 over.
        (Kind.DRAW, D(2026, 2, 12), -420, 420, 0, 4),
        (Kind.OVERAGE, D(2026, 2, 12), 0, 180, 0, 4),
    ]
    assert [
        (t.rolled_in, t.purchased, t.drawn, t.overage, t.expired)
        for t in hour_bank.totals(entries, D(2026, 3, 31))
    ] == [
        (0, 1200, 900, 0, 300),
        (120, 1200, 1320, 180, 0),
        (0, 1200, 1200, 180, 0),
    ]
    # A cap of 0 is rollover in name only.
    zero = hour_bank.ledger(bank(cap=0), DRAWS, D(2026, 2, 1))
    assert [e.kind for e in zero] == [
        Kind.PURCHASE,
        Kind.DRAW,
        Kind.DRAW,
        Kind.EXPIRY,
        Kind.PURCHASE,
    ]


def test_the_last_period_of_a_contract_rolls_nothing_over():
    # Ends 15 February: February is the last period; January still rolls into it.
    terms = BankTerms(JAN, D(2026, 2, 15), Period.MONTH, 1200, rollover=True)
    entries = hour_bank.ledger(terms, [Draw(1, D(2026, 2, 3), 200)], D(2026, 6, 30))
    assert rows(entries) == [
        (Kind.PURCHASE, D(2026, 1, 1), 1200, 1200, 1200, None),
        (Kind.EXPIRY, D(2026, 1, 31), -1200, 1200, 0, None),
        (Kind.ROLLOVER, D(2026, 2, 1), 1200, 1200, 1200, None),  # no cap
        (Kind.PURCHASE, D(2026, 2, 1), 1200, 1200, 2400, None),
        (Kind.DRAW, D(2026, 2, 3), -200, 200, 2200, 1),
        (Kind.EXPIRY, D(2026, 2, 28), -2200, 2200, 0, None),
    ]
    with pytest.raises(hour_bank.DrawOutsideContract):
        hour_bank.ledger(terms, [Draw(9, D(2026, 3, 1), 10)], D(2026, 6, 30))
    with pytest.raises(hour_bank.DrawOutsideContract):
        hour_bank.ledger(terms, [Draw(9, D(2025, 12, 31), 10)], D(2026, 6, 30))


# ------------------------------------------------------------- invoices of that bank

SUPPORT = Contract(
    id=1,
    name="Support 20 h",
    kind=ContractKind.TIME_BASED,
    period=Period.MONTH,
    starts_on=JAN,
    ends_on=None,
    time_zone="Europe/Berlin",
    minutes_per_period=1200,
    hourly_rate=8000,
    overage_rate=12000,  # 80.00 and 120.00 EUR
    rollover=True,
    rollover_cap=600,
)
WORK = [Work(d.entry_id, at(d.day), d.minutes, contract_id=1) for d in DRAWS]


def purchase(contract: int, start: dt.date, last: dt.date) -> Line:
    # 1200 minutes = 20 h x 80.00 = 1600.00
    return Line(
        LineKind.BANK_PURCHASE,
        160000,
        day=start,
        contract_id=contract,
        period_start=start,
        period_end=last,
        billed_minutes=1200,
        rate=8000,
        rate_source="contract",
    )


def drawn(
    entry: int, day: dt.date, minutes: int, billed: int | None = None, contract: int = 1
) -> Line:
    return Line(
        LineKind.TIME,
        0,
        day=day,
        entry_id=entry,
        contract_id=contract,
        raw_minutes=minutes,
        billed_minutes=minutes if billed is None else billed,
        # Drawn from the bank: no rate of its own (what it ran over is the overage line).
        rate=None,
        rate_source="bank",
    )


def test_an_invoice_through_march_bills_three_purchases_and_three_hours_overage():
    draft = invoicing.compose(D(2026, 3, 31), [SUPPORT], WORK, [], "Europe/Berlin")
    assert draft.lines == (
        purchase(1, JAN, D(2026, 1, 31)),
        drawn(1, D(2026, 1, 5), 600),
        drawn(2, D(2026, 1, 20), 300),
        purchase(1, FEB, D(2026, 2, 28)),
        drawn(3, D(2026, 2, 3), 900),
        drawn(4, D(2026, 2, 12), 600),
        purchase(1, MAR, D(2026, 3, 31)),
        drawn(5, D(2026, 3, 3), 480),
        drawn(6, D(2026, 3, 17), 840),
        drawn(7, D(2026, 3, 30), 60),
        # 180 minutes = 3 h x 120.00 = 360.00
        Line(
            LineKind.OVERAGE,
            36000,
            day=D(2026, 3, 31),
            contract_id=1,
            period_start=MAR,
            period_end=D(2026, 3, 31),
            billed_minutes=180,
            rate=12000,
            rate_source="contract",
        ),
    )
    assert draft.entry_ids == (1, 2, 3, 4, 5, 6, 7)
    assert draft.charges == (
        Charge(1, LineKind.BANK_PURCHASE, JAN),
        Charge(1, LineKind.OVERAGE, JAN),
        Charge(1, LineKind.BANK_PURCHASE, FEB),
        Charge(1, LineKind.OVERAGE, FEB),
        Charge(1, LineKind.BANK_PURCHASE, MAR),
        Charge(1, LineKind.OVERAGE, MAR),
    )
    # 3 x 1600.00 + 360.00 = 5160.00
    assert invoicing.totals([line.amount for line in draft.lines], []) == Totals(516000, (), 516000)

    # Composed again with what it charged and its entries invoiced: nothing is new.
    invoiced = [Work(w.id, w.started_at, w.minutes, 1, invoiced=True) for w in WORK]
    again = invoicing.compose(D(2026, 3, 31), [SUPPORT], invoiced, draft.charges, "Europe/Berlin")
    assert again == invoicing.Draft((), ())


def test_an_invoice_through_mid_february_bills_februarys_purchase_but_not_its_entries():
    draft = invoicing.compose(D(2026, 2, 15), [SUPPORT], WORK, [], "Europe/Berlin")
    assert draft.lines == (
        purchase(1, JAN, D(2026, 1, 31)),
        drawn(1, D(2026, 1, 5), 600),
        drawn(2, D(2026, 1, 20), 300),
        purchase(1, FEB, D(2026, 2, 28)),
    )
    assert draft.charges == (
        Charge(1, LineKind.BANK_PURCHASE, JAN),
        Charge(1, LineKind.OVERAGE, JAN),
        Charge(1, LineKind.BANK_PURCHASE, FEB),
    )


def test_overage_known_mid_period_waits_for_the_periods_end():
    # Without rollover February is 300 over after entry 4 (12 February, see the ledger
    # above), but through 15 February the period has not ended: no overage, no entries.
    plain = dataclasses.replace(SUPPORT, id=5, rollover=False, rollover_cap=None)
    work = [Work(w.id, w.started_at, w.minutes, 5) for w in WORK]
    so_far = hour_bank.ledger(plain.bank_terms(), DRAWS, D(2026, 2, 15))
    assert rows(so_far)[-1] == (Kind.OVERAGE, D(2026, 2, 12), 0, 300, 0, 4)
    first = invoicing.compose(D(2026, 2, 15), [plain], work, [], "Europe/Berlin")
    assert [line.kind for line in first.lines] == [
        LineKind.BANK_PURCHASE,
        LineKind.TIME,
        LineKind.TIME,
        LineKind.BANK_PURCHASE,
    ]
    marked = [
        Work(w.id, w.started_at, w.minutes, 5, invoiced=w.id in first.entry_ids) for w in work
    ]
    second = invoicing.compose(D(2026, 2, 28), [plain], marked, first.charges, "Europe/Berlin")
    assert second.lines == (
        drawn(3, D(2026, 2, 3), 900, contract=5),
        drawn(4, D(2026, 2, 12), 600, contract=5),
        # 300 minutes = 5 h x 120.00 = 600.00
        Line(
            LineKind.OVERAGE,
            60000,
            day=D(2026, 2, 28),
            contract_id=5,
            period_start=FEB,
            period_end=D(2026, 2, 28),
            billed_minutes=300,
            rate=12000,
            rate_source="contract",
        ),
    )
    assert second.charges == (Charge(5, LineKind.OVERAGE, FEB),)


# --------------------------------------------------------------- fixed-price contracts


def test_a_fixed_price_contract_bills_a_fee_per_begun_month_and_lists_time_at_zero():
    managed = Contract(
        id=3,
        name="Managed care",
        kind=ContractKind.FIXED_PRICE,
        period=Period.MONTH,
        starts_on=JAN,
        ends_on=None,
        time_zone="Europe/Berlin",
        rounding_increment=15,
        rounding_mode=RoundingMode.UP,
        fee=50000,  # 500.00 EUR
    )
    work = [
        Work(21, at(D(2026, 1, 10)), 90, 3),
        Work(22, at(D(2026, 2, 5)), 20, 3),  # billed 30: rounded up to 15 minutes
        Work(23, at(D(2026, 3, 2)), 45, 3),
    ]
    draft = invoicing.compose(D(2026, 2, 15), [managed], work, [], "Europe/Berlin")
    assert draft.lines == (
        Line(
            LineKind.FIXED_FEE,
            50000,
            day=JAN,
            contract_id=3,
            period_start=JAN,
            period_end=D(2026, 1, 31),
        ),
        Line(
            LineKind.FIXED_FEE,
            50000,
            day=FEB,
            contract_id=3,
            period_start=FEB,
            period_end=D(2026, 2, 28),
        ),
        Line(
            LineKind.TIME,
            0,
            day=D(2026, 1, 10),
            entry_id=21,
            contract_id=3,
            raw_minutes=90,
            billed_minutes=90,
            rate_source="fixed",
        ),
        Line(
            LineKind.TIME,
            0,
            day=D(2026, 2, 5),
            entry_id=22,
            contract_id=3,
            raw_minutes=20,
            billed_minutes=30,
            rate_source="fixed",
        ),
    )
    # 2 x 500.00 = 1000.00
    assert invoicing.totals([line.amount for line in draft.lines], []).total == 100000
    marked = [Work(w.id, w.started_at, w.minutes, 3, invoiced=w.id in (21, 22)) for w in work]
    march = invoicing.compose(D(2026, 3, 31), [managed], marked, draft.charges, "Europe/Berlin")
    assert march.lines == (
        Line(
            LineKind.FIXED_FEE,
            50000,
            day=MAR,
            contract_id=3,
            period_start=MAR,
            period_end=D(2026, 3, 31),
        ),
        Line(
            LineKind.TIME,
            0,
            day=D(2026, 3, 2),
            entry_id=23,
            contract_id=3,
            raw_minutes=45,
            billed_minutes=45,
            rate_source="fixed",
        ),
    )
    assert march.charges == (Charge(3, LineKind.FIXED_FEE, MAR),)


def test_a_one_off_fixed_price_contract_bills_its_fee_once_ever():
    project = Contract(
        id=4,
        name="Migration",
        kind=ContractKind.FIXED_PRICE,
        period=Period.ONE_OFF,
        starts_on=D(2026, 3, 10),
        ends_on=None,
        time_zone="Europe/Berlin",
        fee=250000,
    )
    assert invoicing.compose(D(2026, 3, 9), [project], [], [], "UTC") == invoicing.Draft((), ())
    first = invoicing.compose(D(2026, 3, 31), [project], [], [], "UTC")
    assert first.lines == (
        Line(
            LineKind.FIXED_FEE,
            250000,
            day=D(2026, 3, 10),
            contract_id=4,
            period_start=D(2026, 3, 10),
            period_end=None,
        ),
    )
    assert first.charges == (Charge(4, LineKind.FIXED_FEE, D(2026, 3, 10)),)
    later = invoicing.compose(D(2027, 12, 31), [project], [], first.charges, "UTC")
    assert later == invoicing.Draft((), ())


def test_time_on_no_contract_is_billed_at_its_own_rate_on_the_clients_date():
    # 23:30 UTC on 31 January is 00:30 on 1 February in Berlin.
    work = [
        Work(
            31,
            dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC),
            90,
            None,
            rate=9500,
            rate_source="client",
        )
    ]
    assert invoicing.compose(D(2026, 1, 31), [], work, [], "Europe/Berlin").lines == ()
    # 90 minutes = 1.5 h x 95.00 = 142.50
    assert invoicing.compose(D(2026, 2, 1), [], work, [], "Europe/Berlin").lines == (
        Line(
            LineKind.TIME,
            14250,
            day=D(2026, 2, 1),
            entry_id=31,
            raw_minutes=90,
            billed_minutes=90,
            rate=9500,
            rate_source="client",
        ),
    )
    with pytest.raises(invoicing.Unbillable):
        invoicing.compose(D(2026, 2, 1), [], [Work(32, at(JAN), 10, None)], [], "UTC")


# ------------------------------------------------------------- rounding in local time


def test_seven_minutes_just_after_midnight_in_berlin_bill_15_in_february():
    berlin = Contract(
        id=2,
        name="Berlin bank",
        kind=ContractKind.TIME_BASED,
        period=Period.MONTH,
        starts_on=JAN,
        ends_on=None,
        time_zone="Europe/Berlin",
        rounding_increment=15,
        rounding_mode=RoundingMode.UP,
        minutes_per_period=1200,
        hourly_rate=8000,
        overage_rate=12000,
    )
    started = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 Feb in Berlin
    assert local_date(started, "Europe/Berlin") == D(2026, 2, 1)
    assert local_date(started, "UTC") == D(2026, 1, 31)
    work = [Work(11, started, 7, 2)]
    january = invoicing.compose(D(2026, 1, 31), [berlin], work, [], "UTC")
    assert january.lines == (purchase(2, JAN, D(2026, 1, 31)),)  # not in January's period
    february = invoicing.compose(D(2026, 2, 28), [berlin], work, january.charges, "UTC")
    assert february.lines == (
        purchase(2, FEB, D(2026, 2, 28)),
        drawn(11, D(2026, 2, 1), 7, billed=15, contract=2),
    )
    ledger = hour_bank.ledger(berlin.bank_terms(), [Draw(11, D(2026, 2, 1), 15)], D(2026, 2, 1))
    assert rows(ledger)[-1] == (Kind.DRAW, D(2026, 2, 1), -15, 15, 1185, 11)  # 1200 - 15
    # The same instant on a contract kept in UTC is January's.
    in_utc = dataclasses.replace(berlin, time_zone="UTC")
    assert invoicing.compose(D(2026, 1, 31), [in_utc], work, [], "UTC").entry_ids == (11,)


@pytest.mark.parametrize(
    ("minutes", "up", "nearest", "down"),
    [
        (0, 0, 0, 0),
        (1, 15, 0, 0),
        (7, 15, 0, 0),  # 7 < 7.5: nearest goes down
        (8, 15, 15, 0),  # 8 > 7.5: nearest goes up
        (14, 15, 15, 0),
        (15, 15, 15, 15),
        (16, 30, 15, 15),
        (22, 30, 15, 15),  # 22 < 22.5
        (23, 30, 30, 15),
    ],
)
def test_rounding_to_15_minutes(minutes: int, up: int, nearest: int, down: int):
    assert round_minutes(minutes, 15, RoundingMode.UP) == up
    assert round_minutes(minutes, 15, RoundingMode.NEAREST) == nearest
    assert round_minutes(minutes, 15, RoundingMode.DOWN) == down


def test_nearest_takes_an_exact_half_increment_up_and_increment_1_is_exact():
    assert round_minutes(5, 10, RoundingMode.NEAREST) == 10  # 5 of 10 is the half
    assert round_minutes(4, 10, RoundingMode.NEAREST) == 0
    assert round_minutes(7, 1, RoundingMode.UP) == 7
    assert round_minutes(7, 1, RoundingMode.DOWN) == 7
    with pytest.raises(ValueError):
        round_minutes(-1, 15, RoundingMode.UP)
    with pytest.raises(ValueError):
        round_minutes(5, 0, RoundingMode.UP)


# ------------------------------------------------------------- taxes and credit notes

VAT = [Tax("VAT 19 %", Decimal("19")), Tax("VAT 7 %", Decimal("7"))]


def test_two_tax_rates_on_a_subtotal_with_half_cents():
    # 1600.00 + 360.00 + 142.50 (90 min x 95.00) = 2102.50
    # 19 % of 2102.50 = 399.475 -> 399.48; 7 % of 2102.50 = 147.175 -> 147.18
    # total 2102.50 + 399.48 + 147.18 = 2649.16
    assert time_amount(90, 9500) == 14250
    assert invoicing.totals([160000, 36000, 14250], VAT) == Totals(
        210250,
        (
            TaxLine("VAT 19 %", Decimal("19"), 210250, 39948),
            TaxLine("VAT 7 %", Decimal("7"), 210250, 14718),
        ),
        264916,
    )


def test_a_credit_note_negates_every_figure_exactly():
    # Half up is away from zero: -399.475 -> -399.48, -147.175 -> -147.18.
    assert invoicing.totals([-160000, -36000, -14250], VAT) == Totals(
        -210250,
        (
            TaxLine("VAT 19 %", Decimal("19"), -210250, -39948),
            TaxLine("VAT 7 %", Decimal("7"), -210250, -14718),
        ),
        -264916,
    )


def test_line_and_tax_amounts_round_half_up_to_the_cent():
    assert time_amount(1, 30) == 1  # 0.30/h for a minute = 0.005 -> 0.01
    assert time_amount(20, 9500) == 3167  # 31.6666... -> 31.67
    assert time_amount(7, 9500) == 1108  # 11.0833... -> 11.08
    assert percent_of(1050, Decimal("19")) == 200  # 1.995 -> 2.00
    assert percent_of(-1050, Decimal("19")) == -200
    assert percent_of(1000, Decimal("8.875")) == 89  # 0.8875 -> 0.89


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("19", "19"),
        (19, "19"),
        ("19.00", "19"),
        ("7.5", "7.5"),
        ("7.50", "7.5"),
        ("8.875", "8.875"),
        ("20", "20"),
        ("10", "10"),
        ("100", "100"),
        ("0", "0"),
    ],
)
def test_tax_rates_are_percentages_written_as_they_are_read(value: object, text: str):
    # The rate itself, not only rate_text, prints plainly: "20", never "2E+1".
    rate = parse_tax_rate(value)
    assert rate == Decimal(text)
    assert str(rate) == text
    assert rate_text(rate) == text


@pytest.mark.parametrize("value", ["-1", "100.01", "7.12345", True, None, "1e1", "19 %"])
def test_tax_rates_that_are_not_percentages(value: object):
    with pytest.raises(MoneyError):
        parse_tax_rate(value)


# ------------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("95", 9500),
        ("95.5", 9550),
        ("95.50", 9550),
        (95, 9500),
        (95.5, 9550),
        (" 95.50 ", 9550),
        ("95.500", 9550),
        ("0", 0),
    ],
)
def test_amounts_in_euros(value: object, cents: int):
    assert parse_amount(value, "EUR") == cents


def test_amounts_in_other_currencies():
    assert parse_amount("1500", "JPY") == 1500
    assert parse_amount("1.234", "BHD") == 1234
    assert parse_amount("-12.5", "EUR", negative=True) == -1250
    assert minor_digits("EUR") == 2
    assert minor_digits("JPY") == 0
    assert minor_digits("BHD") == 3


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("95.005", "EUR"),
        ("1.5", "JPY"),
        ("1.2345", "BHD"),
        ("-1", "EUR"),
        (True, "EUR"),
        (None, "EUR"),
        ("1e3", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        ("", "EUR"),
        (".5", "EUR"),
        ("95.", "EUR"),
        ("+5", "EUR"),
        (0.1 + 0.2, "EUR"),
        ([95], "EUR"),
        ("10000000000000", "EUR"),
    ],
)
def test_amounts_that_are_not_money(value: object, currency: str):
    with pytest.raises(MoneyError):
        parse_amount(value, currency)


def test_amount_and_hours_texts():
    assert amount_text(9500, "EUR") == "95.00"
    assert amount_text(5, "EUR") == "0.05"
    assert amount_text(-264916, "EUR") == "-2649.16"
    assert amount_text(95, "JPY") == "95"
    assert amount_text(1234, "BHD") == "1.234"
    assert amount_text(0, "BHD") == "0.000"
    assert hours_text(15) == "0.25"
    assert hours_text(90) == "1.50"
    assert hours_text(1200) == "20.00"
    assert hours_text(20) == "0.3333"
    assert hours_text(40) == "0.6667"
    assert hours_text(0) == "0.00"


def test_currency_codes():
    assert is_currency("EUR")
    assert is_currency("JPY")
    assert not is_currency("XAU")  # gold
    assert not is_currency("eur")
    assert not is_currency("EURO")
    assert not is_currency("ZZZ")
    assert not is_currency(None)


# ------------------------------------------------------------------- billing periods


def test_months_from_the_31st_clamp_to_the_months_last_day_without_drifting():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)  # a leap year
    assert add_months(D(2026, 1, 31), 2) == D(2026, 3, 31)
    assert add_months(D(2026, 1, 31), 3) == D(2026, 4, 30)
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert add_months(D(2026, 3, 31), -1) == D(2026, 2, 28)
    end_of_january = [
        (s.start, s.end)
        for s, _ in zip(spans(D(2026, 1, 31), Period.MONTH, None), range(3), strict=False)
    ]
    assert end_of_january == [
        (D(2026, 1, 31), D(2026, 2, 28)),
        (D(2026, 2, 28), D(2026, 3, 31)),
        (D(2026, 3, 31), D(2026, 4, 30)),
    ]


def test_the_period_holding_a_day():
    assert span_of(JAN, Period.MONTH, JAN) == Span(0, JAN, FEB)  # first day
    assert span_of(JAN, Period.MONTH, D(2026, 1, 31)) == Span(0, JAN, FEB)  # last day
    assert span_of(JAN, Period.MONTH, FEB) == Span(1, FEB, MAR)
    assert span_of(JAN, Period.MONTH, D(2025, 12, 31)) is None  # the day before the start
    assert Span(0, JAN, FEB).last_day == D(2026, 1, 31)
    assert D(2026, 1, 31) in Span(0, JAN, FEB)
    assert FEB not in Span(0, JAN, FEB)
    # From 31 January: 27 February is still the first period, 28 February the second.
    march_31 = D(2026, 3, 31)
    first, second = Span(0, D(2026, 1, 31), D(2026, 2, 28)), Span(1, D(2026, 2, 28), march_31)
    assert span_of(D(2026, 1, 31), Period.MONTH, D(2026, 2, 27)) == first
    assert span_of(D(2026, 1, 31), Period.MONTH, D(2026, 2, 28)) == second
    assert span_of(D(2026, 1, 31), Period.MONTH, D(2026, 3, 30)) == second
    assert span_of(D(2026, 1, 31), Period.MONTH, march_31) == Span(2, march_31, D(2026, 4, 30))


def test_quarters_and_years():
    assert span_of(JAN, Period.QUARTER, D(2026, 3, 31)) == Span(0, JAN, APR)
    assert span_of(JAN, Period.QUARTER, APR) == Span(1, APR, D(2026, 7, 1))
    assert span(D(2025, 11, 30), Period.QUARTER, 0) == Span(0, D(2025, 11, 30), D(2026, 2, 28))
    assert span(D(2025, 11, 30), Period.QUARTER, 1) == Span(1, D(2026, 2, 28), D(2026, 5, 30))
    assert span_of(JAN, Period.YEAR, D(2026, 12, 31)) == Span(0, JAN, D(2027, 1, 1))
    assert span_of(JAN, Period.YEAR, D(2027, 1, 1)) == Span(1, D(2027, 1, 1), D(2028, 1, 1))
    leap = D(2024, 2, 29)
    assert span(leap, Period.YEAR, 1) == Span(1, D(2025, 2, 28), D(2026, 2, 28))
    assert span(leap, Period.YEAR, 4) == Span(4, D(2028, 2, 29), D(2029, 2, 28))
    # A contract ending 15 March has periods January, February, March (the whole month).
    assert [s.start for s in spans(JAN, Period.MONTH, D(2026, 3, 15))] == [JAN, FEB, MAR]
    assert [s.start for s in spans(JAN, Period.QUARTER, D(2026, 12, 31))] == [
        JAN,
        APR,
        D(2026, 7, 1),
        D(2026, 10, 1),
    ]


def test_a_one_off_is_one_period_for_ever():
    start = D(2026, 3, 10)
    assert span(start, Period.ONE_OFF, 0) == Span(0, start, dt.date.max)
    assert list(spans(start, Period.ONE_OFF, None)) == [Span(0, start, dt.date.max)]
    assert span_of(start, Period.ONE_OFF, D(2099, 1, 1)) == Span(0, start, dt.date.max)
    assert span_of(start, Period.ONE_OFF, D(2026, 3, 9)) is None
    with pytest.raises(ValueError):
        span(start, Period.ONE_OFF, 1)
