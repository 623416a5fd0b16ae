"""The demo loans: every state in both branches, consistent dates, loaded once."""

import io

import sqlalchemy as sa
from PIL import Image

from portal.core.calendar import local_date, local_today
from portal.extensions import db
from portal.loans.models import Loan, LoanEvent, LoanStatus
from portal.training.models import TrainingMaterial, TrainingSignoff
from portal.training.operations import hash_matches


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
