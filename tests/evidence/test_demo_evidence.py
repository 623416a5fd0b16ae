"""The demo's planted fakes raise every flag through the real rules; its ordinary visits none."""

from collections import Counter
from datetime import date

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.calendar import current_month
from portal.demo.evidence import seed_evidence
from portal.demo.visits import seed_visits, sign_planted
from portal.evidence.models import ReviewAction, VisitFlag, VisitReview
from portal.evidence.rules import FlagCode
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.models import Visit
from portal.visits.operations import verify
from tests.factories import make_borrower, make_loan


def _seed(app, world) -> tuple[int, int]:
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrowers = [db.session.get(Borrower, world.own_borrower.id)]
        for _ in range(11):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE, disbursed_on=date(2026, 1, 10))
            borrowers.append(borrower)
        seed_visits(borrowers)
        planted = seed_evidence(borrowers, None, sign_planted)
        db.session.commit()
        again = seed_evidence(borrowers, None, sign_planted)
        db.session.commit()
        return planted, again


def test_every_kind_of_fake_is_flagged_and_nothing_else(app, world):
    planted, again = _seed(app, world)
    assert planted == 11 and again == 0
    with app.app_context():
        rows = db.session.execute(
            sa.select(Visit.idempotency_token, VisitFlag.code).join(
                VisitFlag, VisitFlag.visit_id == Visit.id
            )
        ).all()
        flagged = {token for token, _ in rows}
        assert all(token.startswith("demo-evidence-") for token in flagged)
        assert set(Counter(code for _, code in rows)) == {code.value for code in FlagCode}
        assert {token.split("-", 3)[3] for token in flagged} == {
            "photo-reused",
            "old-photo",
            "signature-reused",
            "text-reused",
            "far-from-site",
            "no-fix",
            "quick-signing",
            "travel-to",  # not the visit it is measured from
            "outside-hours",
        }
        reviews = db.session.scalars(sa.select(VisitReview.action)).all()
        assert sorted(reviews) == [ReviewAction.ASKED, ReviewAction.CONFIRMED]
        visits = db.session.scalars(sa.select(Visit)).all()
        assert all(verify(visit) for visit in visits)


def test_the_head_finds_the_fakes_to_check(client, app, world):
    _seed(app, world)
    client.login("head")
    page = client.get("/").text
    assert 'data-testid="to-check-count"' in page
    listed = (
        client.get("/evidence/to-check?show=all").text
        + client.get("/evidence/to-check?show=all&month=" + _last_month(app)).text
    )
    for code in FlagCode:
        assert f'data-flag="{code.value}"' in listed, code


def _last_month(app) -> str:
    with app.app_context():
        return str(current_month().shift(-1))
