"""The loan's state machine: every step, who may take it, and what it writes.

docs/lifecycle.md: applied → approved | rejected → trained → contracted → disbursing
→ active → closed, with payments and the written-off flag on an active loan. A
disbursement is recorded by one person and confirmed (or returned) by another: four
eyes on money. Every step function checks the status and the actor, writes a
LoanEvent and an audit entry, flushes, and never commits (the request does, once:
``@writes``).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

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
from portal.loans.repayments import Due, Standing, allocate, standing
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
    """Store one payment on a loan with a schedule (see :func:`add_repayments`)."""
    add_repayments(
        {loan.id: [(paid_on, amount, reference)]}, recorded_by=recorded_by, source=source
    )
    # The loan is locked until the transaction ends: its newest payment is this one.
    return db.session.scalars(
        sa.select(Repayment).where(Repayment.loan_id == loan.id).order_by(Repayment.id.desc())
    ).first()


# A new payment: the day, the amount, the lending system's reference (None when typed in).
NewPayment = tuple[date, Decimal, str | None]
PAYMENT_CHUNK = 500  # loans read and written together


def add_repayments(
    payments: dict[int, list[NewPayment]],
    *,
    recorded_by: User | None,
    source: str = "officer",
    tails: dict[int, "PaymentTail"] | None = None,
) -> None:
    """Store payments on loans with a schedule, by loan id: the one place every payment
    goes through (typed by an officer, imported from a lending system). Each loan's
    payments are split again in date order (:func:`split_payments`), each instalment's
    settling day follows, and so do the loan's figures for today. Refuses them all when
    a loan's new payments add up to more than it still owes.

    Loans are locked in id order (two payments on one loan at once take turns) and read
    a few hundred at a time, as plain rows and only as far back as the new payments
    reach (:class:`PaymentTail`); what the session holds of their instalments and
    payments is expired, and read afresh when next used. ``tails``: the loans' tails as
    the caller read them in this transaction, the loans locked (an import's check), so
    they are not read twice."""
    db.session.flush()
    ordered = sorted(payments)
    for start in range(0, len(ordered), PAYMENT_CHUNK):
        chunk = {loan_id: payments[loan_id] for loan_id in ordered[start : start + PAYMENT_CHUNK]}
        _add_to_loans(chunk, recorded_by, source, tails or {})


def _add_to_loans(payments: dict[int, list[NewPayment]], recorded_by, source, known) -> None:
    """One chunk of :func:`add_repayments`: its loans locked, read, split, written."""
    loans = db.session.scalars(
        sa.select(Loan)
        .where(among(Loan.id, list(payments), sa.Integer()))
        .order_by(Loan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    tails = _tails_for(payments, known)
    writes: dict[str, list] = {"inserts": [], "resplit": [], "settled": []}
    recorded_by_id, today = (recorded_by.id if recorded_by else None), local_today()
    for loan in loans:
        tail, new = tails[loan.id], payments[loan.id]
        _check_owed(tail, new)
        dated = [(paid_on, amount) for paid_on, amount, _reference in new]
        splits, settled_on = tail.split(dated)
        split_of = {key: (principal, interest) for key, principal, interest in splits}
        writes["inserts"] += [
            {
                "loan_id": loan.id,
                "paid_on": paid_on,
                "amount": amount,
                "principal": split_of[(1, n)][0],
                "interest": split_of[(1, n)][1],
                "source": source,
                "reference": reference,
                "recorded_by_id": recorded_by_id,
            }
            for n, (paid_on, amount, reference) in enumerate(new)
        ]
        writes["resplit"] += [
            {"id": r.id, "principal": split_of[(0, r.id)][0], "interest": split_of[(0, r.id)][1]}
            for r in tail.stored
            if split_of[(0, r.id)] != (r.principal, r.interest)
        ]
        writes["settled"] += [
            {"id": i.id, "settled_on": settled_on[i.number]}
            for i in tail.instalments
            if settled_on[i.number] not in (i.settled_on, CARRIED_ON)
        ]
        set_figures(loan, *tail.figures(dated, today))
    _write_payments(loans, **writes)


def _tails_for(payments: dict[int, list[NewPayment]], known: dict) -> dict[int, "PaymentTail"]:
    """The loans' tails: those the caller read when they reach far enough, else read now."""
    new = {
        loan_id: (
            min(paid_on for paid_on, _amount, _ref in added),
            sum((amount for _paid_on, amount, _ref in added), Decimal("0.00")),
        )
        for loan_id, added in payments.items()
    }
    tails = {
        loan_id: known[loan_id]
        for loan_id, (since, adding) in new.items()
        if loan_id in known and known[loan_id].reaches(since, adding)
    }
    return tails if len(tails) == len(new) else payment_tails(new)


def _check_owed(tail: "PaymentTail", new: list[NewPayment]) -> None:
    if not tail.has_schedule:
        raise LoanStepRefused(STEPS["payment"].guard_message)
    left = tail.left
    amounts = [amount for _paid_on, amount, _reference in new]
    if any(amount_problem(amount) is not None for amount in amounts) or sum(amounts) > left:
        raise LoanStepRefused(
            _l("Enter an amount above 0 and at most the %(left)s yuan still owed.", left=left),
            field="amount",
        )


def _write_payments(loans: list[Loan], inserts: list, resplit: list, settled: list) -> None:
    """The new payments, the changed splits and settling days, the loans' figures."""
    db.session.execute(sa.insert(Repayment.__table__), inserts)
    _update_by_id(Repayment.__table__, resplit)
    _update_by_id(LoanInstalment.__table__, settled)
    db.session.flush()  # the loans' figures
    _forget_loaded_payments({loan.id for loan in loans})


def _update_by_id(table: sa.Table, rows: list[dict]) -> None:
    """``UPDATE table SET … WHERE id = …`` for each row (a dict of the same columns)."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("_id"))
        .values({name: sa.bindparam(f"_{name}") for name in columns})
    )
    db.session.execute(
        statement, [{f"_{key}": value for key, value in row.items()} for row in rows]
    )


def _forget_loaded_payments(loan_ids: set[int]) -> None:
    """Expire what the session holds of these loans' payments and instalments: they were
    written past it."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Repayment | LoanInstalment):
            if sa.inspect(obj).dict.get("loan_id") in loan_ids:
                db.session.expire(obj)
        elif isinstance(obj, Loan) and obj.id in loan_ids:
            db.session.expire(obj, ["repayments", "instalments"])


# What the payments before a tail's first day paid into its first instalment, as one
# payment dated before every other.
CARRIED_ON = date.min
# Money summed by SQLite is a binary fraction: a tolerance well under a fen.
HALF_FEN = Decimal("0.005")


@dataclass
class PaymentTail:
    """What of a loan's schedule and payments new payments, dated on or after ``since``
    and adding up to ``adding``, can change: the instalments they can reach (from the
    first one the payments before that day did not pay in full, which holds ``carried``
    of them, to the first one all payments leave untouched) and the payments from that
    day on. Payments are pooled, oldest instalment first, so what came before is only an
    amount carried and what lies beyond is only a principal: splitting the tail splits as
    splitting everything would, and a long loan is read in a few rows."""

    since: date
    adding: Decimal
    has_schedule: bool
    carried: Decimal = Decimal("0.00")
    # The principal the payments before ``since`` did not repay, and what the loan still
    # owes after every payment stored.
    principal: Decimal = Decimal("0.00")
    left: Decimal = Decimal("0.00")
    # Rows: id, number, due_on, principal, interest, settled_on; the payments' rows: id,
    # paid_on, amount, principal, interest. Read by payment_tails, not changed after.
    instalments: list = field(default_factory=list)
    stored: list = field(default_factory=list)

    @cached_property
    def schedule(self) -> list[Due]:
        return [Due(i.number, i.due_on, i.principal, i.interest) for i in self.instalments]

    def reaches(self, since: date, adding: Decimal) -> bool:
        """Whether the tail holds what payments from ``since`` adding up to ``adding`` change."""
        return self.since <= since and self.adding >= adding

    def _payments(self, new: list[tuple[date, Decimal]]) -> list[tuple]:
        carried = [((-1, 0), CARRIED_ON, self.carried)] if self.carried else []
        stored = [((0, r.id), r.paid_on, r.amount) for r in self.stored]
        return (
            carried
            + stored
            + [((1, n), paid_on, amount) for n, (paid_on, amount) in enumerate(new)]
        )

    def split(self, new: list[tuple[date, Decimal]]) -> tuple[list, dict]:
        """:func:`split_payments` of the tail with ``new`` (keyed ``(1, position)``); the
        amount carried is keyed ``(-1, 0)``."""
        return split_payments(self.schedule, self._payments(new))

    def figures(self, new: list[tuple[date, Decimal]], as_of: date) -> tuple[Decimal, int]:
        """The principal outstanding and the days overdue on ``as_of``, ``new`` paid."""
        now = standing(self.schedule, [(d, a) for _k, d, a in self._payments(new)], as_of)
        beyond = self.principal - sum((i.principal for i in self.instalments), Decimal("0.00"))
        return now.principal_outstanding + beyond, now.overdue_days


def payment_tails(new: dict[int, tuple[date, Decimal]]) -> dict[int, PaymentTail]:
    """Each loan's :class:`PaymentTail` for new payments from a day adding up to an amount
    (loan id → (day, amount)), in three queries."""
    wanted = _wanted(new)
    scheduled = set(
        db.session.scalars(
            sa.select(LoanInstalment.loan_id)
            .where(LoanInstalment.loan_id.in_(sa.select(wanted.c.loan_id)))
            .distinct()
        )
    )
    tails = {
        loan_id: PaymentTail(since, adding, loan_id in scheduled)
        for loan_id, (since, adding) in new.items()
    }
    for row in db.session.execute(_reachable_instalments(wanted)):
        tail = tails[row.loan_id]
        if not tail.instalments:
            start = _fen(row.upto) - row.principal - row.interest
            tail.carried = _fen(row.paid_before) - start
            tail.principal = _fen(row.lent) - (_fen(row.principal_upto) - row.principal)
            tail.left = _fen(row.owed) - _fen(row.paid)
        tail.instalments.append(row)
    for row in db.session.execute(
        sa.select(
            Repayment.loan_id,
            Repayment.id,
            Repayment.paid_on,
            Repayment.amount,
            Repayment.principal,
            Repayment.interest,
        )
        .join(wanted, wanted.c.loan_id == Repayment.loan_id)
        .where(Repayment.paid_on >= wanted.c.since)
        .order_by(Repayment.loan_id, Repayment.paid_on, Repayment.id)
    ):
        tails[row.loan_id].stored.append(row)
    return tails


def _wanted(new: dict[int, tuple[date, Decimal]]):
    """The loans with their new payments' first day and sum: ``loan_id``, ``since``, ``adding``."""
    return json_table(
        "wanted",
        {"loan_id": sa.Integer(), "since": sa.Date(), "adding": sa.Numeric(12, 2)},
        [(loan_id, since, adding) for loan_id, (since, adding) in new.items()],
    )


def json_table(name: str, columns: dict[str, sa.types.TypeEngine], rows: list[tuple]):
    """``rows`` as a table (a CTE named ``name``) sent as one JSON parameter: a query that
    names thousands of loans or references stays one short statement, compiled once
    (PostgreSQL's ``json_to_recordset``, SQLite's ``json_each``)."""
    data = json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=_json_value)
    dialect = db.session.get_bind().dialect
    if dialect.name == "postgresql":
        fields = ", ".join(f"{c} {t.compile(dialect=dialect)}" for c, t in columns.items())
        rows_sql = f"SELECT * FROM json_to_recordset(CAST(:data AS json)) AS r({fields})"  # noqa: S608
    else:
        picked = ", ".join(f"json_extract(value, '$.{c}') AS {c}" for c in columns)
        rows_sql = f"SELECT {picked} FROM json_each(:data)"  # noqa: S608 - our column names
    return sa.text(rows_sql).bindparams(data=data).columns(**columns).cte(name)


def among(column, values: list, type_: sa.types.TypeEngine):
    """``column`` is one of ``values``, however many, in one parameter: PostgreSQL's
    ``= ANY(array)`` (an index condition, whatever the statistics say of a table just
    grown), SQLite's ``IN`` the values of a JSON list."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(type_)))
    listed = json_table("listed", {"value": type_}, [(value,) for value in values])
    return column.in_(sa.select(listed.c.value))


def _json_value(value):
    # Amounts as JSON numbers (every fen survives: they have at most 15 digits), days as text.
    return float(value) if isinstance(value, Decimal) else value.isoformat()


def _reachable_instalments(wanted):
    """The instalments new payments can reach, each with the sums its tail is made of:
    what the loan's payments paid before the day and in all, the schedule's amount and
    principal up to the instalment and in all (window sums over the loan's instalments)."""
    before = sa.case((Repayment.paid_on < wanted.c.since, Repayment.amount), else_=0)
    paid = (
        sa.select(
            Repayment.loan_id,
            sa.func.sum(before).label("before"),
            sa.func.sum(Repayment.amount).label("paid"),
        )
        .join(wanted, wanted.c.loan_id == Repayment.loan_id)
        .group_by(Repayment.loan_id)
        .subquery()
    )
    loans = (
        sa.select(
            wanted.c.loan_id,
            wanted.c.adding,
            sa.func.coalesce(paid.c.before, 0).label("paid_before"),
            sa.func.coalesce(paid.c.paid, 0).label("paid"),
        )
        .outerjoin(paid, paid.c.loan_id == wanted.c.loan_id)
        .subquery()
    )
    amount = LoanInstalment.principal + LoanInstalment.interest
    loan = {"partition_by": LoanInstalment.loan_id}
    instalments = (
        sa.select(
            LoanInstalment.loan_id,
            LoanInstalment.id,
            LoanInstalment.number,
            LoanInstalment.due_on,
            LoanInstalment.principal,
            LoanInstalment.interest,
            LoanInstalment.settled_on,
            sa.func.sum(amount).over(order_by=LoanInstalment.number, **loan).label("upto"),
            sa.func.sum(LoanInstalment.principal)
            .over(order_by=LoanInstalment.number, **loan)
            .label("principal_upto"),
            sa.func.sum(amount).over(**loan).label("owed"),
            sa.func.sum(LoanInstalment.principal).over(**loan).label("lent"),
            loans.c.adding,
            loans.c.paid_before,
            loans.c.paid,
        )
        .join(loans, loans.c.loan_id == LoanInstalment.loan_id)
        .subquery()
    )
    i = instalments.c
    return (
        sa.select(instalments)
        .where(
            # Not settled by the payments before the day (an instalment of nothing, as
            # interest-only at 0 %, is settled by the first payment past it) …
            sa.or_(
                i.upto > i.paid_before + HALF_FEN,
                sa.and_(i.principal + i.interest == 0, i.upto >= i.paid_before - HALF_FEN),
            ),
            # … and reached by what every payment, stored and new, will have paid.
            i.upto - i.principal - i.interest <= i.paid + i.adding + HALF_FEN,
        )
        .order_by(i.loan_id, i.number)
    )


def _fen(value) -> Decimal:
    # SQLite adds money as binary fractions: back to the fen.
    return Decimal(str(value)).quantize(Decimal("0.01"))


def split_payments(schedule_now: list[Due], payments: list[tuple]) -> tuple[list, dict]:
    """A loan's payments ``(key, paid_on, amount)`` split over its schedule: in date order,
    a day's payments in the order of their keys (stored ones are keyed ``(0, id)``, new
    ones ``(1, position)``: after the stored, in the order given). Returns each payment's
    ``(key, principal, interest)`` in that order and each instalment's settling day."""
    ordered = sorted(payments, key=lambda p: (p[1], p[0]))
    allocation = allocate(schedule_now, [(paid_on, amount) for _key, paid_on, amount in ordered])
    splits = [
        (key, principal, interest)
        for (key, _paid_on, _amount), (principal, interest) in zip(
            ordered, allocation.splits, strict=True
        )
    ]
    return splits, allocation.settled_on


def reallocate(loan: Loan) -> None:
    """Split every payment of the loan, as the session holds them, over its schedule
    (:func:`split_payments`; those not stored yet after the stored ones of their day)
    and set each instalment's settling day and the loan's figures."""
    keys = [(0, r.id) if r.id is not None else (1, n) for n, r in enumerate(loan.repayments)]
    schedule_now = [Due(i.number, i.due_on, i.principal, i.interest) for i in loan.instalments]
    splits, settled_on = split_payments(
        schedule_now,
        [(key, r.paid_on, r.amount) for key, r in zip(keys, loan.repayments, strict=True)],
    )
    split_of = {key: (principal, interest) for key, principal, interest in splits}
    for key, repayment in zip(keys, loan.repayments, strict=True):
        repayment.principal, repayment.interest = split_of[key]
    for instalment in loan.instalments:
        instalment.settled_on = settled_on[instalment.number]
    follow_schedule(loan)


def follow_schedule(loan: Loan) -> None:
    """The loan's repayment figures as its schedule and payments give them today."""
    now = standing_of(loan)
    set_figures(loan, now.principal_outstanding, now.overdue_days)


def set_figures(loan: Loan, principal_outstanding: Decimal, overdue_days: int) -> None:
    """The loan's stored figures: what it owes and how late it is today."""
    loan.outstanding_balance = principal_outstanding
    loan.overdue_days = overdue_days
    loan.repayment_status = RepaymentStatus.OVERDUE if overdue_days else RepaymentStatus.ON_TIME


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
