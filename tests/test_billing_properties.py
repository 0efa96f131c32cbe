"""Properties of the billing rules under Hypothesis: the hour bank's ledger adds up in every
period for random terms and draws, and invoices composed one after another over random
contracts and time entries charge everything exactly once, leave nothing behind, and total
what their lines say."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import hour_bank, invoicing
from bot.rules.billing_periods import Period, Span, local_date, span, span_of, spans
from bot.rules.hour_bank import BankTerms, Draw, Kind
from bot.rules.invoicing import Charge, Contract, ContractKind, Line, LineKind, Tax, Work
from bot.rules.money import amount_text, parse_amount, parse_tax_rate, rate_text
from bot.rules.rounding import RoundingMode, round_minutes

D = dt.date
DAY = dt.timedelta(days=1)
BANK_PERIODS = [Period.MONTH, Period.QUARTER, Period.YEAR]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"]
# An open-ended contract gets draws up to this long after its start.
HORIZON = dt.timedelta(days=400)
PROPERTY = settings(max_examples=300, deadline=None)
# How each kind of ledger entry changes the balance, in units of its minutes.
SIGN = {Kind.ROLLOVER: 1, Kind.PURCHASE: 1, Kind.DRAW: -1, Kind.OVERAGE: 0, Kind.EXPIRY: -1}
BillingCase = tuple[list[Contract], list[Work], list[dt.date], str, list[Tax]]


def last_day_of(starts_on: dt.date, period: Period, ends_on: dt.date | None) -> dt.date:
    """The last day a draw may be dated on: the end of the period holding ``ends_on``."""
    if ends_on is None:
        return starts_on + HORIZON
    holding = span_of(starts_on, period, ends_on)
    assert holding is not None
    return holding.last_day


def begun(
    starts_on: dt.date, period: Period, ends_on: dt.date | None, through: dt.date
) -> list[Span]:
    """The periods that have begun by ``through``."""
    return list(
        itertools.takewhile(lambda s: s.start <= through, spans(starts_on, period, ends_on))
    )


# ------------------------------------------------------------------------- the ledger


@st.composite
def bank_cases(draw: st.DrawFn) -> tuple[BankTerms, list[Draw], dt.date]:
    starts_on = draw(st.dates(D(2020, 1, 1), D(2030, 12, 31)))
    period = draw(st.sampled_from([Period.MONTH, *BANK_PERIODS]))  # months: more periods
    ends_on = draw(st.none() | st.integers(0, 1500).map(lambda n: starts_on + n * DAY))
    terms = BankTerms(
        starts_on,
        ends_on,
        period,
        draw(st.integers(0, 3000)),
        rollover=draw(st.booleans()),
        rollover_cap=draw(st.none() | st.integers(0, 5000)),
    )
    last = last_day_of(starts_on, period, ends_on)
    days = st.dates(starts_on, last)
    # Minutes 0 too: a rounding down bills nothing.
    draws = draw(st.lists(st.tuples(days, st.integers(0, 2000)), max_size=30))
    # Half the time on a period's edge: its first day, or the last day of the one before.
    edge = (
        span(starts_on, period, draw(st.integers(0, 16))).start
        - draw(st.sampled_from([0, 1])) * DAY
    )
    through = (
        edge if draw(st.booleans()) else draw(st.dates(starts_on - 10 * DAY, last + 100 * DAY))
    )
    return terms, [Draw(i, day, minutes) for i, (day, minutes) in enumerate(draws, 1)], through


@PROPERTY
@given(bank_cases())
def test_the_ledger_adds_up_in_every_period(case: tuple[BankTerms, list[Draw], dt.date]):
    terms, draws, through = case
    entries = hour_bank.ledger(terms, draws, through)
    periods = begun(terms.starts_on, terms.period, terms.ends_on, through)
    by_period: dict[int, list[hour_bank.Entry]] = collections.defaultdict(list)
    for entry in entries:
        by_period[entry.period.index].append(entry)
    assert list(by_period) == [p.index for p in periods]
    assert [e.period.index for e in entries] == sorted(e.period.index for e in entries)

    unused_before: int | None = None  # of the period before, once it has closed
    for period in periods:
        book = by_period[period.index]
        sums = dict.fromkeys(Kind, 0)
        running = 0
        for entry in book:
            assert entry.period == period
            assert period.start <= entry.day <= min(period.last_day, through)
            running += entry.change
            assert entry.balance == running >= 0
            sums[entry.kind] += entry.minutes
            assert entry.change == SIGN[entry.kind] * entry.minutes
            if entry.kind in (Kind.DRAW, Kind.OVERAGE):
                assert entry.minutes > 0
            if entry.kind is Kind.OVERAGE:
                assert entry.balance == 0  # the draw before took all there was
        kinds = [e.kind for e in book]
        head = [Kind.ROLLOVER, Kind.PURCHASE] if kinds[0] is Kind.ROLLOVER else [Kind.PURCHASE]
        assert kinds[: len(head)] == head
        middle = [e for e in book[len(head) :] if e.kind is not Kind.EXPIRY]
        assert all(e.kind in (Kind.DRAW, Kind.OVERAGE) for e in middle)
        assert [(e.day, e.entry_id) for e in middle] == sorted((e.day, e.entry_id) for e in middle)
        assert kinds.count(Kind.EXPIRY) <= 1 and Kind.EXPIRY not in kinds[:-1]
        assert sums[Kind.PURCHASE] == terms.minutes_per_period
        assert running == (
            sums[Kind.ROLLOVER] + sums[Kind.PURCHASE] - sums[Kind.DRAW] - sums[Kind.EXPIRY]
        )

        # What the period before left is carried in, up to the cap (none without rollover).
        if unused_before is None:
            assert sums[Kind.ROLLOVER] == 0
        elif not terms.rollover:
            assert sums[Kind.ROLLOVER] == 0
        elif terms.rollover_cap is None:
            assert sums[Kind.ROLLOVER] == unused_before
        else:
            assert sums[Kind.ROLLOVER] == min(unused_before, terms.rollover_cap)

        unused = sums[Kind.ROLLOVER] + sums[Kind.PURCHASE] - sums[Kind.DRAW]
        if period.end <= through:  # closed: everything left expires
            assert running == 0
            assert sums[Kind.EXPIRY] == unused
            if unused:
                assert book[-1].kind is Kind.EXPIRY and book[-1].day == period.last_day
            unused_before = unused
        else:
            assert sums[Kind.EXPIRY] == 0
            assert period is periods[-1]
        assert hour_bank.balance_on(entries, min(period.last_day, through)) == running

    totals = hour_bank.totals(entries, through)
    assert [t.period for t in totals] == periods
    for t in totals:
        assert t.balance == t.rolled_in + t.purchased - t.drawn - t.expired >= 0
        assert t.closed == (t.period.end <= through)

    # Every draw up to ``through`` is accounted for exactly once: drawn + over = its minutes.
    for d in draws:
        mine = [e for e in entries if e.entry_id == d.entry_id]
        kinds = [e.kind for e in mine]
        assert len(set(kinds)) == len(kinds)
        assert set(kinds) <= {Kind.DRAW, Kind.OVERAGE}
        if d.day <= through:
            assert sum(e.minutes for e in mine) == d.minutes
            assert all(e.day == d.day for e in mine)
        else:
            assert mine == []


# ------------------------------------------------------------------ composing invoices


@st.composite
def contracts(draw: st.DrawFn, contract_id: int) -> Contract:
    kind = draw(st.sampled_from(ContractKind))
    periods = BANK_PERIODS + ([Period.ONE_OFF] if kind is ContractKind.FIXED_PRICE else [])
    starts_on = draw(st.dates(D(2025, 1, 1), D(2026, 12, 31)))
    return Contract(
        id=contract_id,
        name=draw(st.sampled_from(["Alpha", "Beta", "Beta", "Gamma"])),
        kind=kind,
        period=draw(st.sampled_from(periods)),
        starts_on=starts_on,
        ends_on=draw(st.none() | st.integers(0, 800).map(lambda n: starts_on + n * DAY)),
        time_zone=draw(st.sampled_from(ZONES)),
        rounding_increment=draw(st.sampled_from([1, 5, 6, 10, 15, 30, 60])),
        rounding_mode=draw(st.sampled_from(RoundingMode)),
        minutes_per_period=draw(st.integers(0, 3000)),
        hourly_rate=draw(st.integers(0, 20000)),
        overage_rate=draw(st.integers(0, 30000)),
        rollover=draw(st.booleans()),
        rollover_cap=draw(st.none() | st.integers(0, 5000)),
        fee=draw(st.integers(0, 200000)),
    )


def on_wall_clock(day: dt.date, minute_of_day: int, zone: str) -> dt.datetime:
    hour, minute = divmod(minute_of_day, 60)
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    instant = local.astimezone(dt.UTC)
    # None of ZONES moves its clocks across midnight, so the local date is kept.
    assert local_date(instant, zone) == day
    return instant


@st.composite
def work_items(draw: st.DrawFn, entry_id: int, deals: list[Contract]) -> Work:
    deal = draw(st.none() | st.sampled_from(deals)) if deals else None
    minutes = draw(st.integers(1, 600))
    clock = draw(st.integers(0, 24 * 60 - 1))
    if deal is None:
        day = draw(st.dates(D(2024, 12, 1), D(2028, 12, 31)))
        return Work(
            entry_id,
            on_wall_clock(day, clock, "UTC"),
            minutes,
            None,
            rate=draw(st.integers(0, 20000)),
            rate_source=draw(st.sampled_from(["client", "technician", "default"])),
        )
    last = last_day_of(deal.starts_on, deal.period, deal.ends_on)
    if deal.period is Period.ONE_OFF:
        last = deal.starts_on + HORIZON
    day = draw(st.dates(deal.starts_on, last))
    return Work(entry_id, on_wall_clock(day, clock, deal.time_zone), minutes, deal.id)


@st.composite
def billing_cases(draw: st.DrawFn) -> BillingCase:
    deals = [draw(contracts(i)) for i in range(1, draw(st.integers(0, 3)) + 1)]
    count = draw(st.integers(0, 25))
    work = [draw(work_items(i, deals)) for i in range(1, count + 1)]
    throughs = sorted(
        draw(st.sets(st.dates(D(2024, 12, 1), D(2028, 12, 31)), min_size=1, max_size=6))
    )
    client_zone = draw(st.sampled_from(ZONES))
    rates = st.decimals(0, 100, places=4, allow_nan=False, allow_infinity=False)
    taxes = draw(st.lists(rates.map(lambda r: Tax(f"tax {r}", r)), max_size=3))
    return deals, work, throughs, client_zone, taxes


def billed_once_ended(item: Work, deals: dict[int, Contract], client_zone: str) -> dt.date:
    """The first ``through`` from which this entry belongs on an invoice."""
    if item.contract_id is None:
        return local_date(item.started_at, client_zone)
    deal = deals[item.contract_id]
    day = local_date(item.started_at, deal.time_zone)
    if deal.kind is ContractKind.FIXED_PRICE:
        return day
    holding = span_of(deal.starts_on, deal.period, day)
    assert holding is not None
    return holding.last_day


@PROPERTY
@given(billing_cases())
def test_invoices_in_sequence_charge_everything_once_and_leave_nothing_behind(
    case: BillingCase,
):
    deals, work, throughs, client_zone, taxes = case
    charged: list[Charge] = []
    drafted: dict[int, int] = {}  # entry -> the draft (index of its through) it is on
    lines: list[Line] = []
    for step, through in enumerate(throughs):
        draft = invoicing.compose(through, deals, work, charged, client_zone)
        assert len(set(draft.entry_ids)) == len(draft.entry_ids)
        for entry_id in draft.entry_ids:
            assert entry_id not in drafted, "an entry on two drafts"
            drafted[entry_id] = step
        assert len(set(draft.charges)) == len(draft.charges)
        assert not set(draft.charges) & set(charged), "a charge made twice"
        for line in draft.lines:
            assert line.amount >= 0
            assert line.day is not None and line.day <= through
        amounts = [line.amount for line in draft.lines]
        figures = invoicing.totals(amounts, taxes)
        assert figures.subtotal == sum(amounts)
        assert figures.total == figures.subtotal + sum(t.amount for t in figures.taxes)
        assert all(t.base == figures.subtotal for t in figures.taxes)
        # A credit note for it negates every figure exactly (half up is away from zero).
        credit = invoicing.totals([-a for a in amounts], taxes)
        assert credit.subtotal == -figures.subtotal and credit.total == -figures.total
        assert [t.amount for t in credit.taxes] == [-t.amount for t in figures.taxes]

        charged.extend(draft.charges)
        lines.extend(draft.lines)
        work = [
            dataclasses.replace(w, invoiced=w.invoiced or w.id in draft.entry_ids) for w in work
        ]

    # Each entry is on the first draft whose through reaches its day (a bank's: the last day
    # of its period), and on no draft if none does.
    by_id = {deal.id: deal for deal in deals}
    for item in work:
        due = billed_once_ended(item, by_id, client_zone)
        first = next((i for i, through in enumerate(throughs) if through >= due), None)
        assert drafted.get(item.id) == first, (item, due)

    # Each begun period of a contract is charged once: its fee or purchase, and (a bank's,
    # once it has ended) its overage.
    last = throughs[-1]
    expected: list[Charge] = []
    for deal in sorted(deals, key=lambda c: (c.name, c.id)):
        for period in begun(deal.starts_on, deal.period, deal.ends_on, last):
            if deal.kind is ContractKind.FIXED_PRICE:
                expected.append(Charge(deal.id, LineKind.FIXED_FEE, period.start))
                continue
            expected.append(Charge(deal.id, LineKind.BANK_PURCHASE, period.start))
            if period.last_day <= last:
                expected.append(Charge(deal.id, LineKind.OVERAGE, period.start))
    assert collections.Counter(charged) == collections.Counter(expected)

    # However the time is cut into invoices, together they hold what one invoice would.
    fresh = [dataclasses.replace(w, invoiced=False) for w in work]
    whole = invoicing.compose(last, deals, fresh, [], client_zone)
    assert collections.Counter(lines) == collections.Counter(whole.lines)
    assert collections.Counter(charged) == collections.Counter(whole.charges)


@PROPERTY
@given(billing_cases())
def test_bank_overage_lines_bill_what_the_ledger_ran_over(case: BillingCase):
    deals, work, throughs, client_zone, _ = case
    through = throughs[-1]
    draft = invoicing.compose(through, deals, work, [], client_zone)
    for deal in deals:
        if deal.kind is not ContractKind.TIME_BASED:
            continue
        draws = [
            Draw(w.id, local_date(w.started_at, deal.time_zone), deal.billed(w.minutes))
            for w in work
            if w.contract_id == deal.id
        ]
        ledger = hour_bank.ledger(deal.bank_terms(), draws, through)
        over: dict[dt.date, int] = collections.defaultdict(int)
        for entry in ledger:
            if entry.kind is Kind.OVERAGE and entry.period.last_day <= through:
                over[entry.period.start] += entry.minutes
        billed = {
            line.period_start: line.billed_minutes
            for line in draft.lines
            if line.kind is LineKind.OVERAGE and line.contract_id == deal.id
        }
        assert billed == {start: minutes for start, minutes in over.items() if minutes}
        for line in draft.lines:
            if line.contract_id == deal.id and line.kind is LineKind.BANK_PURCHASE:
                assert line.billed_minutes == deal.minutes_per_period


# ------------------------------------------------------------------ smaller pieces


@PROPERTY
@given(
    st.dates(D(2000, 1, 1), D(2100, 12, 31)),
    st.sampled_from(list(Period)),
    st.integers(0, 5000),
)
def test_every_day_from_the_start_is_in_exactly_one_period(
    starts_on: dt.date, period: Period, offset: int
):
    day = starts_on + offset * DAY
    holding = span_of(starts_on, period, day)
    assert holding is not None and day in holding
    assert holding == span(starts_on, period, holding.index)
    if holding.index:
        before = span(starts_on, period, holding.index - 1)
        assert before.end == holding.start and day not in before
    assert span_of(starts_on, period, starts_on - DAY) is None


@PROPERTY
@given(st.integers(0, 10_000), st.integers(1, 240))
def test_rounding_moves_less_than_one_increment(minutes: int, increment: int):
    up = round_minutes(minutes, increment, RoundingMode.UP)
    nearest = round_minutes(minutes, increment, RoundingMode.NEAREST)
    down = round_minutes(minutes, increment, RoundingMode.DOWN)
    assert down <= minutes <= up
    assert up - down in (0, increment)
    assert nearest in (up, down)
    assert 2 * abs(nearest - minutes) <= increment
    if 2 * (minutes - down) == increment:
        assert nearest == up  # a half increment goes up
    for billed in (up, nearest, down):
        assert billed % increment == 0


@PROPERTY
@given(st.integers(-(10**13) + 1, 10**13 - 1), st.sampled_from(["EUR", "JPY", "BHD", "USD", "KWD"]))
def test_amounts_read_back_as_they_were_written(minor: int, currency: str):
    assert parse_amount(amount_text(minor, currency), currency, negative=True) == minor


@PROPERTY
@given(st.decimals(0, 100, places=4, allow_nan=False, allow_infinity=False))
def test_tax_rates_read_back_as_they_are_written(rate: Decimal):
    parsed = parse_tax_rate(format(rate, "f"))
    assert parsed == rate
    assert str(parsed) == rate_text(parsed) == rate_text(rate)
    assert "E" not in str(parsed)
