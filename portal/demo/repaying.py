"""How demo and generated borrowers repay: the payments that tell a loan's story.

Most borrowers pay each instalment on its due date (some a day or two before it); some
let one instalment slip a few days. A borrower in trouble stops paying at one
instalment: some pay part of it on its due date, some catch up later with one payment
of everything fallen due by then and go on paying on time, some never pay again. The
payments are then split by ``portal/loans/repayments.allocate``, like any other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from portal.loans.repayments import Due

ZERO = Decimal("0.00")
# What a borrower in trouble still manages on the first instalment missed, when anything.
PARTIAL_SHARE = Decimal("0.4")


@dataclass(frozen=True)
class Trouble:
    """The borrower stops paying at instalment ``first``."""

    first: int
    # Days after that instalment's due date when everything fallen due is paid at once;
    # None when the borrower never pays again.
    caught_up_after: int | None = None
    partial: bool = False  # part of the first instalment missed is paid on its due date


@dataclass(frozen=True)
class Habit:
    """How one borrower pays over the life of a loan."""

    early_days: int = 0  # each instalment paid this many days before it falls due
    slip: tuple[int, int] | None = None  # (instalment number, days late): one paid late
    trouble: Trouble | None = None
    paid_off_on: date | None = None  # everything still owed paid that day (an early closing)


def payments(schedule: Sequence[Due], habit: Habit, until: date) -> list[tuple[date, Decimal]]:
    """The ``(paid_on, amount)`` of a borrower with ``habit``, up to ``until``, by date."""
    dues = sorted(schedule, key=lambda d: d.number)
    trouble = habit.trouble
    stop = trouble.first if trouble else len(dues) + 1
    paid = [_on_time(due, habit) for due in dues if due.number < stop]
    if trouble is not None and trouble.first <= len(dues):
        paid += _in_trouble(dues, trouble, habit)
    paid = [(day, amount) for day, amount in paid if day <= until]
    if habit.paid_off_on is not None and habit.paid_off_on <= until:
        paid = [p for p in paid if p[0] <= habit.paid_off_on]
        left = sum((d.amount for d in dues), ZERO) - sum((a for _, a in paid), ZERO)
        if left > 0:
            paid.append((habit.paid_off_on, left))
    return sorted(paid, key=lambda p: p[0])


def _on_time(due: Due, habit: Habit) -> tuple[date, Decimal]:
    if habit.slip is not None and habit.slip[0] == due.number:
        return due.due_on + timedelta(days=habit.slip[1]), due.amount
    return due.due_on - timedelta(days=habit.early_days), due.amount


def _in_trouble(dues: list[Due], trouble: Trouble, habit: Habit) -> list[tuple[date, Decimal]]:
    """From the first instalment missed: a part paid, a catching up, then on time again."""
    first = dues[trouble.first - 1]
    paid = []
    if trouble.partial:
        part = (first.amount * PARTIAL_SHARE).quantize(Decimal("1"), rounding=ROUND_DOWN)
        paid.append((first.due_on, part))
    if trouble.caught_up_after is None:
        return [p for p in paid if p[1] > 0]
    day = first.due_on + timedelta(days=trouble.caught_up_after)
    fallen = [d for d in dues[trouble.first - 1 :] if d.due_on <= day]
    arrears = sum((d.amount for d in fallen), ZERO) - sum((a for _, a in paid), ZERO)
    paid.append((day, arrears))
    later = dues[trouble.first - 1 + len(fallen) :]
    return [p for p in paid if p[1] > 0] + [_on_time(due, habit) for due in later]
