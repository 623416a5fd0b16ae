"""A loan's instalment schedule from its amount, term, rate and repayment method.

The three methods of docs/lifecycle.md ("Repayment schedule"), with its rounding rules:
every amount is in yuan to the fen, rounded half up at each instalment; the last
instalment takes whatever principal is left, so the principal always sums to the
amount lent exactly.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEN = Decimal("0.01")


class RepaymentMethod(StrEnum):
    EQUAL_INSTALMENTS = "equal_instalments"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本: interest monthly, principal at the end


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: date
    principal: Decimal
    interest: Decimal
    balance_after: Decimal  # principal still owed once this instalment is paid

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def due_date(disbursed_on: date, number: int) -> date:
    """The ``number``-th monthly due date: the disbursement's day of the month, or the
    month's last day when it has fewer days (31 January → 28 or 29 February)."""
    index = disbursed_on.year * 12 + disbursed_on.month - 1 + number
    year, month = divmod(index, 12)
    last = monthrange(year, month + 1)[1]
    return date(year, month + 1, min(disbursed_on.day, last))


def equal_payment(amount: Decimal, monthly_rate: Decimal, months: int) -> Decimal:
    """The rounded monthly payment of equal instalments (the annuity formula)."""
    if monthly_rate == 0:
        return _fen(amount / months)
    growth = (1 + monthly_rate) ** months
    return _fen(amount * monthly_rate * growth / (growth - 1))


def schedule(
    amount: Decimal,
    annual_rate_percent: Decimal,
    months: int,
    method: RepaymentMethod,
    disbursed_on: date,
) -> list[Instalment]:
    """Every instalment of a loan of ``amount`` over ``months`` months, first one month
    after ``disbursed_on``. Interest each month is the balance × the monthly rate
    (the annual rate ÷ 12)."""
    if amount <= 0 or months < 1 or annual_rate_percent < 0:
        raise ValueError("a schedule needs a positive amount and term and a rate of 0 or more")
    rate = Decimal(annual_rate_percent) / 1200
    payment = equal_payment(amount, rate, months)
    straight = _fen(amount / months)
    balance, instalments = amount, []
    for number in range(1, months + 1):
        interest = _fen(balance * rate)
        if number == months:
            principal = balance
        elif method == RepaymentMethod.EQUAL_INSTALMENTS:
            principal = payment - interest
        elif method == RepaymentMethod.EQUAL_PRINCIPAL:
            principal = straight
        else:
            principal = Decimal("0.00")
        balance -= principal
        instalments.append(
            Instalment(number, due_date(disbursed_on, number), principal, interest, balance)
        )
    return instalments
