"""Instalment schedules (portal/loans/schedule.py) against tables computed by hand."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.loans.schedule import RepaymentMethod, due_date, schedule


def rows(instalments):
    return [
        (i.number, i.due_on, i.principal, i.interest, i.amount, i.balance_after)
        for i in instalments
    ]


def test_equal_instalments_1000_yuan_12_percent_3_months():
    # Payment 1000 × 0.01 × 1.01³ / (1.01³ − 1) = 340.0221… → 340.02; interest on the
    # balance each month; the last instalment takes the 336.66 left, so it is 340.03.
    assert rows(
        schedule(
            Decimal("1000"), Decimal("12"), 3, RepaymentMethod.EQUAL_INSTALMENTS, date(2026, 1, 31)
        )
    ) == [
        (
            1,
            date(2026, 2, 28),
            Decimal("330.02"),
            Decimal("10.00"),
            Decimal("340.02"),
            Decimal("669.98"),
        ),
        (
            2,
            date(2026, 3, 31),
            Decimal("333.32"),
            Decimal("6.70"),
            Decimal("340.02"),
            Decimal("336.66"),
        ),
        (
            3,
            date(2026, 4, 30),
            Decimal("336.66"),
            Decimal("3.37"),
            Decimal("340.03"),
            Decimal("0.00"),
        ),
    ]


def test_equal_principal_1000_yuan_12_percent_3_months():
    # 1000 / 3 = 333.33 a month; the last takes the 333.34 left.
    assert rows(
        schedule(
            Decimal("1000"), Decimal("12"), 3, RepaymentMethod.EQUAL_PRINCIPAL, date(2026, 3, 10)
        )
    ) == [
        (
            1,
            date(2026, 4, 10),
            Decimal("333.33"),
            Decimal("10.00"),
            Decimal("343.33"),
            Decimal("666.67"),
        ),
        (
            2,
            date(2026, 5, 10),
            Decimal("333.33"),
            Decimal("6.67"),
            Decimal("340.00"),
            Decimal("333.34"),
        ),
        (
            3,
            date(2026, 6, 10),
            Decimal("333.34"),
            Decimal("3.33"),
            Decimal("336.67"),
            Decimal("0.00"),
        ),
    ]


def test_equal_principal_12000_yuan_12_percent_a_year():
    table = schedule(
        Decimal("12000"), Decimal("12"), 12, RepaymentMethod.EQUAL_PRINCIPAL, date(2026, 1, 5)
    )
    assert [i.principal for i in table] == [Decimal("1000.00")] * 12
    assert [i.interest for i in table] == [Decimal(120 - 10 * n) for n in range(12)]


def test_interest_monthly_and_the_principal_at_the_end():
    # 50,000 at 8.5 %: 50000 × 0.085 / 12 = 354.1666… → 354.17 every month.
    table = schedule(
        Decimal("50000"), Decimal("8.50"), 12, RepaymentMethod.INTEREST_ONLY, date(2026, 1, 25)
    )
    assert [i.interest for i in table] == [Decimal("354.17")] * 12
    assert [i.principal for i in table[:-1]] == [Decimal("0.00")] * 11
    assert (table[-1].principal, table[-1].amount, table[-1].balance_after) == (
        Decimal("50000"),
        Decimal("50354.17"),
        Decimal("0"),
    )


def test_no_interest_splits_the_amount_evenly_with_the_fen_left_at_the_end():
    table = schedule(
        Decimal("1000"), Decimal("0"), 3, RepaymentMethod.EQUAL_INSTALMENTS, date(2026, 1, 1)
    )
    assert [i.amount for i in table] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]


def test_due_dates_keep_the_day_or_take_the_months_last():
    assert [due_date(date(2028, 1, 31), n) for n in (1, 2, 12)] == [
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2029, 1, 31),
    ]


@pytest.mark.parametrize(
    "amount, rate, months",
    [
        (Decimal("0"), Decimal("8"), 12),
        (Decimal("1000"), Decimal("8"), 0),
        (Decimal("1000"), Decimal("-1"), 12),
    ],
)
def test_a_schedule_needs_an_amount_a_term_and_a_rate(amount, rate, months):
    with pytest.raises(ValueError):
        schedule(amount, rate, months, RepaymentMethod.EQUAL_PRINCIPAL, date(2026, 1, 1))


@given(
    amount=st.decimals(min_value=Decimal("100"), max_value=Decimal("3000000"), places=2),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("24"), places=2),
    months=st.integers(1, 60),
    method=st.sampled_from(list(RepaymentMethod)),
)
def test_the_principal_always_sums_to_the_amount_lent(amount, rate, months, method):
    table = schedule(amount, rate, months, method, date(2026, 1, 15))
    assert sum(i.principal for i in table) == amount
    assert table[-1].balance_after == 0
    assert all(i.principal >= 0 and i.interest >= 0 for i in table)
    if method == RepaymentMethod.EQUAL_INSTALMENTS:
        # Equal payments but for the last, which settles the rounding of the others.
        assert len({i.amount for i in table[:-1]}) <= 1
