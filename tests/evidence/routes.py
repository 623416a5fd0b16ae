"""Routes of the evidence feature for the route x role matrix (tests/test_access_matrix.py)."""

from datetime import timedelta

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from tests.evidence.review_helpers import flag, signed_visit
from tests.factories import Ref
from tests.routes import MANAGERS, Route

NOBODY = frozenset()
ADMIN = frozenset({"admin"})
OFFICER = frozenset({"officer"})
CHECKERS = frozenset({"admin", "head", "officer"})

ROUTES: list[Route] = []

# The borrower's site: staff who see the borrower read it, the officer and the head pin
# it, the head (or an admin) confirms or removes the pin.
STAFF = frozenset({"admin", "head", "officer"})
FIELD = frozenset({"officer", "head"})
ROUTES += [
    Route("evidence.site", "GET", "/borrowers/{own_borrower.id}/site", STAFF),
    Route("evidence.site", "GET", "/borrowers/{foreign_borrower.id}/site", ADMIN),
    Route("evidence.pin_site", "POST", "/borrowers/{own_borrower.id}/site/pin", FIELD),
    Route("evidence.pin_site", "POST", "/borrowers/{foreign_borrower.id}/site/pin", NOBODY),
    Route("evidence.confirm_site", "POST", "/borrowers/{own_borrower.id}/site/confirm", MANAGERS),
    Route("evidence.confirm_site", "POST", "/borrowers/{foreign_borrower.id}/site/confirm", ADMIN),
    Route("evidence.remove_pin", "POST", "/borrowers/{own_borrower.id}/site/remove-pin", MANAGERS),
    Route("evidence.remove_pin", "POST", "/borrowers/{foreign_borrower.id}/site/remove-pin", ADMIN),
]

# The head's "visits to check", a flagged visit's check, the officer's answers.
ROUTES += [
    Route("evidence.to_check", "GET", "/evidence/to-check", MANAGERS),
    Route("evidence.to_check", "GET", "/evidence/to-check?month=2026-06&show=all", MANAGERS),
    Route("evidence.to_check_export", "GET", "/evidence/to-check/export.csv", MANAGERS),
    Route(
        "evidence.to_check_export",
        "GET",
        "/evidence/to-check/export.xlsx?month=2026-06&show=all",
        MANAGERS,
    ),
    Route("evidence.check", "GET", "/evidence/visits/{flagged_visit.id}", CHECKERS),
    Route("evidence.check", "GET", "/evidence/visits/{foreign_flagged_visit.id}", ADMIN),
    Route("evidence.review", "POST", "/evidence/visits/{flagged_visit.id}/review", MANAGERS),
    Route("evidence.review", "POST", "/evidence/visits/{foreign_flagged_visit.id}/review", ADMIN),
    Route("evidence.answer", "POST", "/evidence/visits/{flagged_visit.id}/answer", OFFICER),
    Route("evidence.answer", "POST", "/evidence/visits/{foreign_flagged_visit.id}/answer", NOBODY),
    Route("evidence.questions", "GET", "/evidence/questions", OFFICER),
]


def _flagged_visit(borrower_id: int, officer_id: int):
    visit = signed_visit(
        db.session.get(Borrower, borrower_id),
        db.session.get(User, officer_id),
        utcnow() - timedelta(days=1),
    )
    flag(visit, "quick_signing", seconds=40)
    return visit


def objects(app, world) -> dict:
    """A flagged visit of the officer's borrower and one of another branch."""
    with app.app_context():
        own = _flagged_visit(world.own_borrower.id, world.officer.id)
        foreign = _flagged_visit(world.foreign_borrower.id, world.other_officer.id)
        db.session.commit()
        return {
            "flagged_visit": Ref(own.id, "own"),
            "foreign_flagged_visit": Ref(foreign.id, "foreign"),
        }
