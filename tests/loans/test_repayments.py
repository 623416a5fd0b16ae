"""A loan against its schedule on a given day: partial, early and late repayments
(portal/loans/repayments.py), on a schedule computed by hand in test_schedule.py."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.loans.repayments import Due, allocate, standing

# 1,000 yuan at 12 % over 3 months, equal principal, disbursed 10 March 2026.
SCHEDULE = [
    Due(1, date(2026, 4, 10), Decimal("333.33"), Decimal("10.00")),  # 343.33
    Due(2, date(2026, 5, 10), Decimal("333.33"), Decimal("6.67")),  # 340.00
    Due(3, date(2026, 6, 10), Decimal("333.34"), Decimal("3.33")),  # 336.67
]


def test_nothing_paid_before_the_first_due_date_is_nothing_late():
    now = standing(SCHEDULE, [], date(2026, 4, 10))
    assert (now.principal_outstanding, now.overdue_days, now.overdue_amount) == (
        Decimal("1000.00"),
        0,
        Decimal("0.00"),
    )
    assert now.next_due.due.number == 1


def test_a_partial_payment_pays_the_interest_first_and_leaves_the_rest_late():
    now = standing(SCHEDULE, [(date(2026, 4, 10), Decimal("200.00"))], date(2026, 4, 11))
    first = now.instalments[0]
    assert (first.interest_paid, first.principal_paid, first.owed) == (
        Decimal("10.00"),
        Decimal("190.00"),
        Decimal("143.33"),
    )
    assert now.principal_outstanding == Decimal("810.00")
    assert (now.overdue_days, now.overdue_amount) == (1, Decimal("143.33"))


def test_late_instalments_add_up_and_the_days_count_from_the_oldest():
    now = standing(SCHEDULE, [(date(2026, 4, 10), Decimal("200.00"))], date(2026, 5, 20))
    assert [p.due.number for p in now.late] == [1, 2]
    assert now.overdue_amount == Decimal("483.33")  # 143.33 + 340.00
    assert now.overdue_days == 40  # since 10 April


def test_an_early_payment_settles_the_next_instalments_in_order():
    now = standing(SCHEDULE, [(date(2026, 4, 1), Decimal("700.00"))], date(2026, 4, 11))
    assert [p.settled for p in now.instalments] == [True, True, False]
    last = now.instalments[2]
    assert (last.interest_paid, last.principal_paid) == (Decimal("3.33"), Decimal("13.34"))
    assert now.principal_outstanding == Decimal("320.00")
    assert (now.overdue_days, now.next_due.owed) == (0, Decimal("320.00"))


def test_paid_on_the_due_date_is_on_time_and_everything_paid_settles_the_loan():
    payments = [
        (date(2026, 4, 10), Decimal("343.33")),
        (date(2026, 5, 10), Decimal("340.00")),
        (date(2026, 6, 10), Decimal("336.67")),
    ]
    assert standing(SCHEDULE, payments[:1], date(2026, 4, 11)).overdue_days == 0
    done = standing(SCHEDULE, payments, date(2026, 6, 30))
    assert (done.principal_outstanding, done.total_owed, done.next_due) == (
        Decimal("0.00"),
        Decimal("0.00"),
        None,
    )


def test_a_day_in_the_past_does_not_change_when_later_payments_arrive():
    on_time = [(date(2026, 4, 10), Decimal("343.33"))]
    april = standing(SCHEDULE, on_time, date(2026, 4, 30))
    later = standing(SCHEDULE, [*on_time, (date(2026, 5, 2), Decimal("340.00"))], date(2026, 4, 30))
    assert (april.principal_outstanding, april.overdue_days) == (
        later.principal_outstanding,
        later.overdue_days,
    )


def _splits(payments):
    return allocate(SCHEDULE, payments).splits


def test_a_payment_divides_into_principal_and_interest_as_it_settles():
    april = date(2026, 4, 10)
    assert _splits([(april, Decimal("200.00"))]) == [(Decimal("190.00"), Decimal("10.00"))]
    assert _splits([(april, Decimal("700.00"))]) == [(Decimal("680.00"), Decimal("20.00"))]
    assert _splits([(april, Decimal("200.00")), (april, Decimal("143.33"))])[1] == (
        Decimal("143.33"),
        Decimal("0.00"),
    )
    # 10 more: the second instalment's interest (6.67) first, then 3.33 of its principal.
    assert _splits([(april, Decimal("200.00")), (april, Decimal("153.33"))])[1] == (
        Decimal("146.66"),
        Decimal("6.67"),
    )


def test_each_instalment_is_settled_the_day_the_payments_reach_it():
    payments = [
        (date(2026, 4, 10), Decimal("200.00")),  # part of the first
        (date(2026, 4, 25), Decimal("143.33")),  # the rest of the first, late
        (date(2026, 5, 5), Decimal("500.00")),  # the second early, part of the third
    ]
    assert allocate(SCHEDULE, payments).settled_on == {
        1: date(2026, 4, 25),
        2: date(2026, 5, 5),
        3: None,
    }


@given(
    st.lists(
        st.tuples(
            st.dates(date(2026, 3, 10), date(2026, 8, 1)),
            st.decimals("0.01", "400.00", places=2),
        ),
        max_size=6,
    ),
    st.dates(date(2026, 3, 10), date(2026, 8, 1)),
)
def test_the_splits_and_settling_days_agree_with_the_standing_on_any_day(payments, day):
    payments = sorted(payments)
    allocation = allocate(SCHEDULE, payments)
    now = standing(SCHEDULE, payments, day)
    repaid = sum(
        (
            split[0]
            for (paid_on, _), split in zip(payments, allocation.splits, strict=True)
            if paid_on <= day
        ),
        Decimal("0.00"),
    )
    assert Decimal("1000.00") - repaid == now.principal_outstanding
    late = [n for n, settled in allocation.settled_on.items() if settled is None or settled > day]
    assert [p.due.number for p in now.instalments if not p.settled] == late
