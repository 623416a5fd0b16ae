"""The loan's state machine: every step, who may take it, and what it writes.

docs/lifecycle.md: applied → approved | rejected → trained → contracted → disbursing
→ active → closed, with payments and the written-off flag on an active loan. A
disbursement is recorded by one person and confirmed (or returned) by another: four
eyes on money. Every step function checks the status and the actor, writes a
LoanEvent and an audit entry, flushes, and never commits (the request does, once:
``@writes``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.core.calendar import local_date, local_today
from portal.extensions import db
from portal.loans.models import (
    LOAN_STATUS_LABELS,
    Loan,
    LoanEvent,
    LoanInstalment,
    LoanStatus,
    Repayment,
    RepaymentStatus,
)
from portal.loans.repayments import Due, Standing, allocate
from portal.loans.schedule import RepaymentMethod, schedule

MAX_AMOUNT = Decimal("1000000.00")
MAX_TERM_MONTHS = 60
MAX_RATE_PERCENT = Decimal("24.00")
MAX_OVERDUE_DAYS = 3650


class LoanStepRefused(Refused):
    """A step that may not be taken now; ``message`` is shown to the user as is."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message, field=field)


def may_manage(loan: Loan, user: User) -> bool:
    """The borrower's officer, the head of the branch, or an admin."""
    return loan.borrower.can_manage(user)


def may_decide(loan: Loan, user: User) -> bool:
    """Committee decisions, write-offs and the check of a disbursement: the head of the
    loan's branch, or an admin."""
    return user.can_manage_branch(loan.branch_id)


# Who checks disbursements (those of their branch; an admin's: all), as ``may_decide`` says.
CHECKER_ROLES = (Role.HEAD, Role.ADMIN)


@dataclass(frozen=True)
class Step:
    """One transition: where it may start, where it leads, and who may take it."""

    name: str
    sources: frozenset
    target: LoanStatus
    allowed: Callable[[Loan, User], bool]
    label: object
    who: object
    # A further condition on the loan, beyond its status, and what to say when it fails.
    guard: Callable[[Loan], bool] = lambda loan: True
    guard_message: object = None
    # Four eyes: whoever recorded the disbursement may not take this step.
    second_person: bool = False


A = LoanStatus
MANAGERS_ONLY = _l("Only the borrower's loan officer or the branch head may do this.")
HEADS_ONLY = _l("Only the branch head may do this.")
OWN_DISBURSEMENT = _l(
    "You recorded this disbursement yourself: another head of the branch or an admin must confirm or return it."
)

# The one transition table; views, buttons and the demo data all read it.
STEPS = {
    step.name: step
    for step in (
        Step("approve", frozenset({A.APPLIED}), A.APPROVED, may_decide, _l("Approve"), HEADS_ONLY),
        Step("reject", frozenset({A.APPLIED}), A.REJECTED, may_decide, _l("Reject"), HEADS_ONLY),
        # A trained loan is trained again when a newer material version was
        # published before its contract (see ``needs_retraining``).
        Step(
            "train",
            frozenset({A.APPROVED, A.TRAINED}),
            A.TRAINED,
            may_manage,
            _l("Integrity training"),
            MANAGERS_ONLY,
            guard=lambda loan: loan.status == A.APPROVED or needs_retraining(loan),
            guard_message=_l("The borrower holds a current passing sign-off already."),
        ),
        Step(
            "contract",
            frozenset({A.TRAINED}),
            A.CONTRACTED,
            may_manage,
            _l("Record contract"),
            MANAGERS_ONLY,
        ),
        Step(
            "disburse",
            frozenset({A.CONTRACTED}),
            A.DISBURSING,
            may_manage,
            _l("Record disbursement"),
            MANAGERS_ONLY,
        ),
        # The second pair of eyes: the payout as recorded is right, or it goes back.
        Step(
            "confirm_disbursement",
            frozenset({A.DISBURSING}),
            A.ACTIVE,
            may_decide,
            _l("Confirm disbursement"),
            HEADS_ONLY,
            second_person=True,
        ),
        Step(
            "return",
            frozenset({A.DISBURSING}),
            A.CONTRACTED,
            may_decide,
            _l("Return disbursement"),
            HEADS_ONLY,
            second_person=True,
        ),
        # A loan with a schedule records payments; one without, how repayment stands.
        Step(
            "payment",
            frozenset({A.ACTIVE}),
            A.ACTIVE,
            may_manage,
            _l("Record a payment"),
            MANAGERS_ONLY,
            guard=lambda loan: bool(loan.instalments),
            guard_message=_l("This loan has no repayment schedule; update its repayment instead."),
        ),
        Step(
            "repayment",
            frozenset({A.ACTIVE}),
            A.ACTIVE,
            may_manage,
            _l("Update repayment"),
            MANAGERS_ONLY,
            guard=lambda loan: not loan.instalments,
            guard_message=_l(
                "This loan's repayments are recorded as payments against its schedule."
            ),
        ),
        Step(
            "write_off",
            frozenset({A.ACTIVE}),
            A.ACTIVE,
            may_decide,
            _l("Write off"),
            HEADS_ONLY,
            guard=lambda loan: not loan.written_off,
            guard_message=_l("This loan is written off already."),
        ),
        Step("close", frozenset({A.ACTIVE}), A.CLOSED, may_manage, _l("Close loan"), MANAGERS_ONLY),
    )
}
DECISION_STEPS = ("approve", "reject")


# --- checks -----------------------------------------------------------------


def status_refusal(loan: Loan, step: Step) -> LoanStepRefused | None:
    """Why ``step`` cannot start from the loan's status, or None."""
    if loan.status not in step.sources:
        return LoanStepRefused(
            _l(
                "The loan is “%(current)s”; it cannot go to “%(wanted)s” from there.",
                current=LOAN_STATUS_LABELS[loan.status],
                wanted=LOAN_STATUS_LABELS[step.target],
            )
        )
    if not step.guard(loan):
        return LoanStepRefused(step.guard_message)
    return None


def needs_retraining(loan: Loan) -> bool:
    """A trained loan whose borrower no longer holds a current passing sign-off."""
    return retraining_reason(loan) is not None


def retraining_reason(loan: Loan):
    """Why a trained loan must be trained again (a newer material version), or None.

    The loan's badge says "Retraining needed" with this reason instead of "Trained".
    """
    from portal.training.queries import gate_refusal

    if loan.status != A.TRAINED:
        return None
    return gate_refusal(loan.borrower)


def contract_gate(loan: Loan):
    """The integrity-training gate's refusal for a loan on its way to the contract, or None."""
    from portal.training.queries import gate_refusal

    if loan.status not in (A.APPROVED, A.TRAINED):
        return None
    return gate_refusal(loan.borrower)


def refusal(loan: Loan, step_name: str, user: User) -> LoanStepRefused | None:
    """Why ``user`` cannot take the step now (status first, then role, then four eyes), or None."""
    step = STEPS[step_name]
    problem = status_refusal(loan, step)
    if problem is None and not step.allowed(loan, user):
        problem = LoanStepRefused(step.who)
    if problem is None and step.second_person and loan.disbursement_recorded_by_id == user.id:
        problem = LoanStepRefused(OWN_DISBURSEMENT)
    return problem


def check(loan: Loan, step_name: str, user: User) -> Step:
    """Raise LoanStepRefused unless ``user`` may take the step now."""
    problem = refusal(loan, step_name, user)
    if problem is not None:
        raise problem
    return STEPS[step_name]


def available_steps(loan: Loan, user: User) -> list[Step]:
    """The steps ``user`` may take on the loan now, for its action buttons."""
    return [step for name, step in STEPS.items() if refusal(loan, name, user) is None]


def previous_step_date(loan: Loan, step_name: str) -> date | None:
    """The date the step may not precede (the date of the step before it)."""
    if step_name in DECISION_STEPS:
        return loan.applied_on
    if step_name == "contract":
        return _training_date(loan) or loan.decision_date
    if step_name == "disburse":
        return loan.contract_signed_on
    if step_name in ("close", "payment"):
        return loan.disbursed_on
    return None


def _training_date(loan: Loan) -> date | None:
    from portal.training.models import TrainingSignoff

    if loan.training_signoff_id is None:
        return None
    return local_date(db.session.get(TrainingSignoff, loan.training_signoff_id).signed_at)


def date_problem(loan: Loan, step_name: str, day: date | None):
    """A message when ``day`` is in the future or before the previous step's date."""
    if day is None:
        return None
    if day > local_today():
        return _l("The date cannot be in the future.")
    earliest = previous_step_date(loan, step_name)
    if earliest is not None and day < earliest:
        return _l(
            "The date cannot be before %(date)s, the date of the previous step.",
            date=earliest.isoformat(),
        )
    return None


def _check_date(loan: Loan, step_name: str, day: date, field: str) -> None:
    problem = date_problem(loan, step_name, day)
    if problem is not None:
        raise LoanStepRefused(problem, field=field)


def amount_problem(amount: Decimal | None):
    """A message unless 0 < amount ≤ MAX_AMOUNT."""
    if amount is not None and not Decimal("0") < amount <= MAX_AMOUNT:
        return _l("Enter an amount above 0 and at most 1,000,000 yuan.")
    return None


def repayment_problems(loan: Loan, status: RepaymentStatus, days: int, balance: Decimal) -> dict:
    """Field name → message for an inconsistent repayment update."""
    problems = {}
    if status == RepaymentStatus.ON_TIME and days:
        problems["overdue_days"] = _l("A loan repaid on time has 0 overdue days.")
    if status == RepaymentStatus.OVERDUE and not 1 <= days <= MAX_OVERDUE_DAYS:
        problems["overdue_days"] = _l("An overdue loan is overdue by 1 to 3650 days.")
    limit = loan.approved_amount or loan.amount_requested
    if balance < 0 or balance > limit:
        problems["outstanding_balance"] = _l(
            "The outstanding balance must be between 0 and the approved amount (%(amount)s).",
            amount=f"{limit:,.2f}",
        )
    elif status == RepaymentStatus.OVERDUE and balance == 0:
        problems["outstanding_balance"] = _l("A loan with nothing outstanding cannot be overdue.")
    return problems


# --- the steps --------------------------------------------------------------


def _event(loan: Loan, actor: User | None, action: str, from_status, note="", **details):
    event = LoanEvent(
        loan_id=loan.id,
        from_status=from_status,
        to_status=loan.status,
        actor_id=actor.id if actor else None,
        action=action,
        details={key: _plain(value) for key, value in details.items()},
        note=note.strip(),
    )
    db.session.add(event)
    return event


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value.value if isinstance(value, LoanStatus | RepaymentStatus) else value


def _move(loan: Loan, step: Step, actor: User, note: str = "", **details) -> LoanEvent:
    before = loan.status
    loan.status = step.target
    db.session.flush()
    event = _event(loan, actor, step.name, before, note, **details)
    summary = f"{before.value} → {loan.status.value}" if before != loan.status else step.name
    facts = " ".join(f"{key}={_plain(value)}" for key, value in details.items())
    record(f"loan.{step.name}", loan, f"{summary} {facts}".strip(), actor=actor)
    return event


def apply(
    borrower: Borrower,
    actor: User,
    *,
    amount: Decimal,
    term_months: int,
    purpose: str,
    annual_rate_percent: Decimal,
) -> Loan:
    """Record a loan application for ``borrower``."""
    if not borrower.can_manage(actor):
        raise LoanStepRefused(MANAGERS_ONLY)
    problem = amount_problem(amount)
    if problem is not None:
        raise LoanStepRefused(problem, field="amount")
    loan = Loan(
        borrower=borrower,
        branch_id=borrower.branch_id,
        status=A.APPLIED,
        amount_requested=amount,
        term_months_requested=term_months,
        purpose=purpose.strip(),
        annual_rate_percent=annual_rate_percent,
        applied_on=local_today(),
        created_by_id=actor.id,
    )
    db.session.add(loan)
    db.session.flush()
    _event(loan, actor, "apply", None, amount=amount, term_months=term_months)
    record("loan.apply", loan, f"borrower={borrower.id} amount={amount:.2f}", actor=actor)
    return loan


def approve(
    loan: Loan,
    actor: User,
    *,
    decided_on: date,
    amount: Decimal,
    term_months: int,
    note: str = "",
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALMENTS,
) -> None:
    """The committee approves, possibly with another amount or term, and sets how it is repaid."""
    step = check(loan, "approve", actor)
    _check_date(loan, "approve", decided_on, "decision_date")
    if amount_problem(amount) is not None or amount > loan.amount_requested:
        raise LoanStepRefused(
            _l("The approved amount must be above 0 and at most the amount applied for."),
            field="approved_amount",
        )
    _decide(loan, actor, decided_on, note)
    loan.approved_amount = amount
    loan.approved_term_months = term_months
    loan.repayment_method = method
    _move(
        loan,
        step,
        actor,
        note,
        decided_on=decided_on,
        amount=amount,
        term_months=term_months,
        method=method.value,
    )


def reject(loan: Loan, actor: User, *, decided_on: date, reason: str) -> None:
    """The committee rejects the application, giving a reason."""
    step = check(loan, "reject", actor)
    _check_date(loan, "reject", decided_on, "decision_date")
    if not reason.strip():
        raise LoanStepRefused(_l("Give the reason for the rejection."), field="note")
    _decide(loan, actor, decided_on, reason)
    _move(loan, step, actor, reason, decided_on=decided_on)


def _decide(loan: Loan, actor: User, decided_on: date, note: str) -> None:
    loan.decision_date = decided_on
    loan.decided_by_id = actor.id
    loan.decision_note = note.strip()


def record_training(loan: Loan, actor: User, signoff) -> None:
    """Enter a new sign-off in the loan's history; a passing one makes the loan trained.

    The caller runs ``check(loan, "train", actor)`` before adding the sign-off:
    once it is in the session, the borrower holds it and retraining looks needless.
    """
    step = STEPS["train"]
    if loan.status not in step.sources:
        raise status_refusal(loan, step)
    if not step.allowed(loan, actor):
        raise LoanStepRefused(step.who)
    if signoff.borrower_id != loan.borrower_id:
        raise LoanStepRefused(_l("The sign-off belongs to another borrower."))
    facts = {"signoff_id": signoff.id, "score": signoff.score_percent}
    if not signoff.passed:
        _event(loan, actor, "train_failed", loan.status, **facts)
        record("loan.train_failed", loan, f"signoff={signoff.id}", actor=actor)
        return
    loan.training_signoff_id = signoff.id
    _move(loan, step, actor, **facts)


def sign_contract(loan: Loan, actor: User, *, number: str, signed_on: date) -> None:
    """Record the signed loan contract, behind the integrity-training gate."""
    gate = contract_gate(loan)
    if gate is not None:
        raise LoanStepRefused(gate)
    step = check(loan, "contract", actor)
    _check_date(loan, "contract", signed_on, "contract_signed_on")
    number = number.strip().upper()
    if contract_number_taken(number, loan):
        raise LoanStepRefused(
            _l("Another loan already has this contract number."), "contract_number"
        )
    loan.contract_number = number
    loan.contract_signed_on = signed_on
    _move(loan, step, actor, contract_number=number, signed_on=signed_on)


def contract_number_taken(number: str, loan: Loan | None = None) -> bool:
    """True when another loan carries ``number``."""
    stmt = db.select(Loan.id).where(Loan.contract_number == number.strip().upper())
    if loan is not None:
        stmt = stmt.where(Loan.id != loan.id)
    return db.session.scalar(stmt) is not None


def disburse(loan: Loan, actor: User, *, disbursed_on: date) -> None:
    """Record the payout; the loan waits for another person's confirmation (four eyes)."""
    step = check(loan, "disburse", actor)
    _check_date(loan, "disburse", disbursed_on, "disbursed_on")
    loan.disbursed_on = disbursed_on
    loan.disbursement_recorded_by_id = actor.id
    loan.disbursement_confirmed_by_id = None
    _move(loan, step, actor, disbursed_on=disbursed_on, amount=loan.approved_amount)


def confirm_disbursement(loan: Loan, actor: User, *, seen_version: int) -> None:
    """A second person confirms the recorded payout: the loan becomes active, owes its
    approved amount, and stores its schedule from the recorded disbursement date."""
    step = check(loan, "confirm_disbursement", actor)
    _check_seen(loan, seen_version)
    loan.disbursement_confirmed_by_id = actor.id
    store_schedule(loan)
    follow_schedule(loan)
    _move(
        loan,
        step,
        actor,
        disbursed_on=loan.disbursed_on,
        balance=loan.outstanding_balance,
        recorded_by=loan.disbursement_recorded_by_id,
    )


def return_disbursement(loan: Loan, actor: User, *, reason: str, seen_version: int) -> None:
    """The checker finds the recorded payout wrong: the loan goes back to contracted, to be
    recorded again."""
    step = check(loan, "return", actor)
    _check_seen(loan, seen_version)
    if not reason.strip():
        raise LoanStepRefused(_l("Give the reason for returning the disbursement."), field="reason")
    recorded_on, recorded_by = loan.disbursed_on, loan.disbursement_recorded_by_id
    loan.disbursed_on = None
    loan.disbursement_recorded_by_id = None
    _move(loan, step, actor, reason, disbursed_on=recorded_on, recorded_by=recorded_by)


def stale_check(loan: Loan, seen_version: int | None):
    """A message when a disbursement is checked on a page that shows an older state of the
    loan (it was returned and recorded again meanwhile, say); else None."""
    if seen_version != loan.version:
        return _l(
            "This loan changed after you opened the page: look at the disbursement again, then confirm or return it."
        )
    return None


def _check_seen(loan: Loan, seen_version: int) -> None:
    problem = stale_check(loan, seen_version)
    if problem is not None:
        raise LoanStepRefused(problem, field="version")


def store_schedule(loan: Loan) -> None:
    """The loan's instalments, from its approved amount, term, rate and method and the
    recorded disbursement date (stored when the disbursement is confirmed)."""
    loan.instalments = [
        LoanInstalment(
            number=i.number,
            due_on=i.due_on,
            principal=i.principal,
            interest=i.interest,
            balance_after=i.balance_after,
        )
        for i in schedule(
            loan.approved_amount,
            loan.annual_rate_percent,
            loan.approved_term_months,
            loan.repayment_method or RepaymentMethod.EQUAL_INSTALMENTS,
            loan.disbursed_on,
        )
    ]


def standing_of(loan: Loan, as_of: date | None = None) -> Standing:
    """Where a loan with a schedule stands on ``as_of`` (default: today)."""
    return loan.standing(as_of or local_today())


def record_payment(loan: Loan, actor: User, *, paid_on: date, amount: Decimal, note: str = ""):
    """The officer records money paid on a loan with a schedule (the "payment" step)."""
    step = check(loan, "payment", actor)
    _check_date(loan, "payment", paid_on, "paid_on")
    repayment = add_repayment(loan, paid_on=paid_on, amount=amount, recorded_by=actor)
    _move(loan, step, actor, note, paid_on=paid_on, amount=amount, principal=repayment.principal)


def add_repayment(
    loan: Loan,
    *,
    paid_on: date,
    amount: Decimal,
    recorded_by: User | None,
    source: str = "officer",
    reference: str | None = None,
) -> Repayment:
    """Store one payment on a loan with a schedule: the one place every payment goes
    through (typed by an officer, imported from a lending system). All the loan's
    payments are split again in date order, each instalment's settling day follows, and
    so do the loan's figures for today. Refuses an amount above what is still owed."""
    # Two payments on one loan at once take turns (PostgreSQL): each splits after the other.
    db.session.refresh(loan, with_for_update=True)
    left = standing_of(loan, date.max).total_owed
    if amount_problem(amount) is not None or amount > left:
        raise LoanStepRefused(
            _l("Enter an amount above 0 and at most the %(left)s yuan still owed.", left=left),
            field="amount",
        )
    repayment = Repayment(
        paid_on=paid_on,
        amount=amount,
        principal=Decimal("0.00"),
        interest=Decimal("0.00"),
        source=source,
        reference=reference,
        recorded_by_id=recorded_by.id if recorded_by else None,
    )
    loan.repayments.append(repayment)
    reallocate(loan)
    return repayment


def reallocate(loan: Loan) -> None:
    """Split every payment of the loan over its schedule in date order (a payment dated
    before others changes their split) and set each instalment's settling day."""
    payments = sorted(loan.repayments, key=lambda r: (r.paid_on, r.id or 0))
    schedule_now = [Due(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments]
    allocation = allocate(schedule_now, [(r.paid_on, r.amount) for r in payments])
    for repayment, (principal, interest) in zip(payments, allocation.splits, strict=True):
        repayment.principal, repayment.interest = principal, interest
    for instalment in loan.instalments:
        instalment.settled_on = allocation.settled_on[instalment.number]
    follow_schedule(loan)


def follow_schedule(loan: Loan) -> None:
    """The loan's repayment figures as its schedule and payments give them today."""
    now = standing_of(loan)
    loan.outstanding_balance = now.principal_outstanding
    loan.overdue_days = now.overdue_days
    loan.repayment_status = RepaymentStatus.OVERDUE if now.overdue_days else RepaymentStatus.ON_TIME


def update_repayment(
    loan: Loan,
    actor: User,
    *,
    status: RepaymentStatus,
    overdue_days: int,
    balance: Decimal,
    note: str = "",
) -> None:
    """The officer records how repayment stands on an active loan."""
    step = check(loan, "repayment", actor)
    problems = repayment_problems(loan, status, overdue_days, balance)
    if problems:
        field, message = next(iter(problems.items()))
        raise LoanStepRefused(message, field=field)
    loan.repayment_status = status
    loan.overdue_days = overdue_days
    loan.outstanding_balance = balance
    _move(loan, step, actor, note, repayment=status, overdue_days=overdue_days, balance=balance)


def write_off(loan: Loan, actor: User, *, reason: str) -> None:
    """The branch head writes off what an active loan still owes."""
    step = check(loan, "write_off", actor)
    if not reason.strip():
        raise LoanStepRefused(_l("Give the reason for the write-off."), field="reason")
    loan.written_off = True
    loan.written_off_on = local_today()
    _move(loan, step, actor, reason, balance=loan.outstanding_balance or Decimal("0"))


def close(loan: Loan, actor: User, *, closed_on: date, note: str = "") -> None:
    """Close an active loan: repaid in full, or written off."""
    step = check(loan, "close", actor)
    _check_date(loan, "close", closed_on, "closed_on")
    balance = loan.outstanding_balance or Decimal("0")
    if balance > 0 and not loan.written_off:
        raise LoanStepRefused(
            _l(
                "%(balance)s yuan are still outstanding: record the repayment first, or have the branch head write the loan off.",
                balance=f"{balance:,.2f}",
            )
        )
    loan.closed_on = closed_on
    _move(loan, step, actor, note, closed_on=closed_on, balance=balance)
