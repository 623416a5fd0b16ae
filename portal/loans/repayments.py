"""Where a loan stands against its schedule on a given day (docs/lifecycle.md).

Payments are pooled: what the borrower paid up to the day settles the instalments
oldest first, each one's interest before its principal. A payment ahead of the
schedule settles the next instalments in order (the schedule is not recomputed). An
instalment is overdue from the day after its due date until it is settled.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Due:
    """One instalment as the schedule has it."""

    number: int
    due_on: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Paid:
    """One instalment and what it has received by the day."""

    due: Due
    principal_paid: Decimal
    interest_paid: Decimal

    @property
    def owed(self) -> Decimal:
        return self.due.amount - self.principal_paid - self.interest_paid

    @property
    def settled(self) -> bool:
        return self.owed == 0


@dataclass(frozen=True)
class Standing:
    """A loan on one day: its instalments, what is outstanding and what is late."""

    as_of: date
    instalments: list[Paid]

    @property
    def principal_outstanding(self) -> Decimal:
        return sum((p.due.principal - p.principal_paid for p in self.instalments), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.principal_paid + p.interest_paid for p in self.instalments), ZERO)

    @property
    def late(self) -> list[Paid]:
        """Instalments past their due date and not settled."""
        return [p for p in self.instalments if p.due.due_on < self.as_of and not p.settled]

    @property
    def overdue_amount(self) -> Decimal:
        return sum((p.owed for p in self.late), ZERO)

    @property
    def overdue_days(self) -> int:
        """Days since the oldest unsettled instalment fell due; 0 when none is late."""
        late = self.late
        return (self.as_of - late[0].due.due_on).days if late else 0

    @property
    def next_due(self) -> Paid | None:
        """The first instalment not settled yet (late or to come), or None when all are."""
        return next((p for p in self.instalments if not p.settled), None)

    @property
    def total_owed(self) -> Decimal:
        """Everything the schedule still asks for, late or to come."""
        return sum((p.owed for p in self.instalments), ZERO)


def standing(schedule: list[Due], payments: list[tuple[date, Decimal]], as_of: date) -> Standing:
    """The loan on ``as_of``: the payments made by then (``(paid_on, amount)``) settle
    the instalments oldest first, interest before principal."""
    pool = sum((amount for paid_on, amount in payments if paid_on <= as_of), ZERO)
    instalments = []
    for due in sorted(schedule, key=lambda d: d.number):
        interest = min(pool, due.interest)
        pool -= interest
        principal = min(pool, due.principal)
        pool -= principal
        instalments.append(Paid(due, principal, interest))
    return Standing(as_of, instalments)


@dataclass(frozen=True)
class Allocation:
    """All payments of a loan taken in date order: each one's split, each instalment's
    settling day (None while unsettled)."""

    splits: list[tuple[Decimal, Decimal]]  # (principal, interest) per payment, in its order
    settled_on: dict[int, date | None]  # instalment number → the day it was settled


def allocate(schedule: list[Due], payments: list[tuple[date, Decimal]]) -> Allocation:
    """Split ``payments`` (in the order given, which must be by date) over ``schedule``.

    The same pooled rule as :func:`standing`, so the principal of the payments made by
    any day adds up to what ``standing`` on that day says was repaid, and an instalment
    is late on a day exactly when its settling day is missing or after that day.
    """
    dues = sorted(schedule, key=lambda d: d.number)
    owed = [due.amount for due in dues]
    settled_on: dict[int, date | None] = {due.number: None for due in dues}
    splits, current = [], 0
    for paid_on, amount in payments:
        pool, principal = amount, ZERO
        while pool > 0 and current < len(dues):
            due = dues[current]
            interest_left = max(owed[current] - due.principal, ZERO)
            take = min(pool, owed[current])
            principal += max(take - interest_left, ZERO)
            owed[current] -= take
            pool -= take
            if owed[current] == 0:
                settled_on[due.number] = paid_on
                current += 1
        splits.append((principal, amount - principal))
    return Allocation(splits, settled_on)
