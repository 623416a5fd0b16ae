"""The demo loans: every state in both branches, consistent dates, loaded once; payments
that tell a story the visits saw coming, mostly."""

import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import selectinload

from portal.core.calendar import company_tz, local_date, local_today
from portal.extensions import db
from portal.loans.lifecycle import reallocate
from portal.loans.models import Loan, LoanEvent, LoanStatus, RepaymentStatus
from portal.training.models import TrainingMaterial, TrainingSignoff
from portal.training.operations import hash_matches
from portal.visits.models import Visit
from portal.visits.risk import RiskLevel

BEHIND = timedelta(days=30)


def _load(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def _totals(app) -> tuple:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Loan, LoanEvent, TrainingSignoff, TrainingMaterial)
        )


def test_demo_loans_cover_every_state_in_both_branches_and_load_once(app):
    _load(app)
    with app.app_context():
        pairs = db.session.execute(sa.select(Loan.branch_id, Loan.status).distinct()).all()
        loans = db.session.scalars(sa.select(Loan)).all()
        for branch_id in {branch for branch, _ in pairs}:
            states = {status for branch, status in pairs if branch == branch_id}
            assert states == set(LoanStatus), branch_id
        assert any(loan.overdue for loan in loans)
        assert any(loan.written_off for loan in loans)
        assert len({loan.borrower_id for loan in loans}) == 40
    totals = _totals(app)
    _load(app)
    assert _totals(app) == totals


def test_demo_dates_follow_the_steps_and_signoffs_are_sound(app):
    _load(app)
    with app.app_context():
        today = local_today()
        for loan in db.session.scalars(sa.select(Loan)):
            steps = [
                loan.applied_on,
                loan.decision_date,
                loan.contract_signed_on,
                loan.disbursed_on,
                loan.closed_on,
            ]
            known = [day for day in steps if day is not None]
            assert known == sorted(known) and known[-1] <= today, loan.id
            if loan.training_signoff_id:
                signoff = db.session.get(TrainingSignoff, loan.training_signoff_id)
                assert signoff.passed and hash_matches(signoff)
                assert loan.decision_date <= local_date(signoff.signed_at)
                if loan.contract_signed_on:
                    assert local_date(signoff.signed_at) <= loan.contract_signed_on
            if loan.status == LoanStatus.CLOSED:
                assert loan.outstanding_balance == 0 or loan.written_off
        signature = db.session.scalars(sa.select(TrainingSignoff.signature_png)).first()
        assert Image.open(io.BytesIO(signature)).format == "PNG"
        assert db.session.scalar(sa.select(sa.func.count()).where(~TrainingSignoff.passed)) >= 1


def _scheduled_loans() -> list[Loan]:
    return db.session.scalars(
        sa.select(Loan)
        .where(Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CLOSED)))
        .options(selectinload(Loan.instalments), selectinload(Loan.repayments))
        .order_by(Loan.id)
    ).all()


def test_one_disbursement_to_confirm_in_each_branch_recorded_by_the_officer(app):
    _load(app)
    with app.app_context():
        waiting = db.session.scalars(
            sa.select(Loan).where(Loan.status == LoanStatus.DISBURSING)
        ).all()
        assert sorted(loan.branch_id for loan in waiting) == sorted(
            set(db.session.scalars(sa.select(Loan.branch_id)))
        )
        for loan in waiting:
            assert loan.contract_signed_on <= loan.disbursed_on <= local_today()
            assert loan.disbursement_recorded_by_id == loan.borrower.officer_id
            assert loan.disbursement_confirmed_by_id is None
            assert loan.instalments == [] and loan.repayments == []
            assert loan.outstanding_balance is None


def test_demo_payments_are_split_and_settle_as_the_portal_splits_them(app, client):
    _load(app)
    with app.app_context():
        today, late = local_today(), None
        for loan in _scheduled_loans():
            assert loan.disbursement_confirmed_by_id not in (None, loan.disbursement_recorded_by_id)
            stored = (
                [(r.id, r.principal, r.interest) for r in loan.repayments],
                [(i.number, i.settled_on) for i in loan.instalments],
            )
            now = loan.standing(loan.closed_on or today)
            assert loan.outstanding_balance == now.principal_outstanding, loan.id
            assert loan.overdue_days == now.overdue_days, loan.id
            reallocate(loan)
            again = (
                [(r.id, r.principal, r.interest) for r in loan.repayments],
                [(i.number, i.settled_on) for i in loan.instalments],
            )
            assert again == stored, loan.id
            if loan.status == LoanStatus.ACTIVE and loan.overdue_days and not loan.written_off:
                late = late or (loan.id, loan.outstanding_balance)
        db.session.rollback()
    # The loan page shows what the stored story gives.
    client.login("admin")
    page = client.get(f"/loans/{late[0]}").get_data(as_text=True)
    assert f"¥{late[1]:,.2f}" in page


def _fell_behind(loan: Loan, today):
    """The due date of the first instalment left unpaid 30 days or more, or None."""
    return next(
        (
            i.due_on
            for i in loan.instalments
            if i.due_on + BEHIND <= today
            and (i.settled_on is None or i.settled_on > i.due_on + BEHIND)
        ),
        None,
    )


def _late_on(loan: Loan, day) -> bool:
    return any(
        i.due_on < day and (i.settled_on is None or i.settled_on > day) for i in loan.instalments
    )


def test_most_pay_on_time_and_those_who_fell_behind_were_mostly_warned_of(app):
    """Visits saw trouble coming before most borrowers fell a month behind, none before
    some; a visit says "overdue" exactly when an instalment was late that day."""
    _load(app)
    with app.app_context():
        today, zone = local_today(), company_tz()
        loans = _scheduled_loans()
        visits = db.session.scalars(sa.select(Visit).order_by(Visit.visited_at)).all()
        by_loan: dict[int, list] = {}
        for visit in visits:
            day = visit.visited_at.astimezone(zone).date()
            by_loan.setdefault(visit.loan_id, []).append((day, visit.risk_level))
            assert (visit.repayment_status == "overdue") == _late_on(visit.loan, day), visit.id
        behind = {loan.id: _fell_behind(loan, today) for loan in loans}
        behind = {loan: day for loan, day in behind.items() if day is not None}
        active = [loan for loan in loans if loan.status == LoanStatus.ACTIVE]
        on_time = [loan for loan in active if loan.repayment_status == RepaymentStatus.ON_TIME]
        assert 2 * len(on_time) > len(active) and 2 * len(behind) < len(loans)
        warned = unseen = 0
        for loan, day in behind.items():
            before = [(d, level) for d, level in by_loan.get(loan, []) if d <= day]
            warned += any(level != RiskLevel.GREEN and d >= day - 3 * BEHIND for d, level in before)
            unseen += bool(before) and all(level == RiskLevel.GREEN for _, level in before)
        assert unseen >= 2 and warned > unseen
