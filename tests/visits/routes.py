"""Routes of the visits feature for the route x role matrix (tests/test_access_matrix.py)."""

from datetime import timedelta

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.visits.risk import RiskSignal
from tests.factories import Ref
from tests.routes import EVERYONE, MANAGERS, STAFF, Route
from tests.visits.helpers import make_visit
from tests.visits.photo_helpers import photo_visit

NOBODY = frozenset()
FIELD = frozenset({"officer", "head"})
ADMIN = frozenset({"admin"})

ROUTES = [
    Route("visits.new", "GET", "/borrowers/{own_borrower.id}/visits/new", FIELD),
    Route("visits.new", "POST", "/borrowers/{own_borrower.id}/visits/new", FIELD),
    Route("visits.new", "GET", "/borrowers/{foreign_borrower.id}/visits/new", NOBODY),
    Route("visits.new", "POST", "/borrowers/{foreign_borrower.id}/visits/new", NOBODY),
    Route("visits.borrower_visits", "GET", "/borrowers/{own_borrower.id}/visits", EVERYONE),
    Route("visits.borrower_visits", "GET", "/borrowers/{foreign_borrower.id}/visits", ADMIN),
    Route("visits.detail", "GET", "/visits/{own_visit.id}", EVERYONE),
    Route("visits.detail", "GET", "/visits/{foreign_visit.id}", ADMIN),
    Route("visits.signature", "GET", "/visits/{own_visit.id}/signature.png", EVERYONE),
    Route("visits.signature", "GET", "/visits/{foreign_visit.id}/signature.png", ADMIN),
    Route("visits.amend", "GET", "/visits/{own_visit.id}/amend", FIELD),
    Route("visits.amend", "POST", "/visits/{own_visit.id}/amend", FIELD),
    Route("visits.amend", "GET", "/visits/{foreign_visit.id}/amend", NOBODY),
    Route("visits.acknowledge", "POST", "/visits/{own_visit.id}/acknowledge", MANAGERS),
    Route("visits.acknowledge", "POST", "/visits/{foreign_visit.id}/acknowledge", ADMIN),
    Route("visits.warnings", "GET", "/visits/warnings", MANAGERS),
    Route("visits.warnings", "GET", "/visits/warnings?show=all", MANAGERS),
    Route("visits.warnings_export", "GET", "/visits/warnings/export.csv", MANAGERS),
    Route("visits.warnings_export", "GET", "/visits/warnings/export.xlsx?show=all", MANAGERS),
    Route("visits.month", "GET", "/visits/month", frozenset({"officer"})),
    Route("visits.compliance_page", "GET", "/visits/compliance", MANAGERS),
    Route("visits.compliance_page", "GET", "/visits/compliance?month=2026-06", MANAGERS),
    Route("visits.compliance_officers_export", "GET", "/visits/compliance/officers.csv", MANAGERS),
    Route(
        "visits.compliance_officers_export",
        "GET",
        "/visits/compliance/officers.xlsx?month=2026-06",
        MANAGERS,
    ),
    Route("visits.compliance_missed_export", "GET", "/visits/compliance/missed.csv", MANAGERS),
    Route(
        "visits.compliance_missed_export",
        "GET",
        "/visits/compliance/missed.xlsx?month=2026-06",
        MANAGERS,
    ),
    Route("visits.mine", "GET", "/me/visits", frozenset({"borrower"})),
    Route("visits.photo", "GET", "/visits/{own_photo_visit.id}/photos/0.jpg", EVERYONE),
    Route("visits.photo", "GET", "/visits/{own_photo_visit.id}/photos/0/thumb.jpg", EVERYONE),
    Route("visits.photo", "GET", "/visits/{foreign_photo_visit.id}/photos/0.jpg", ADMIN),
    Route("visits.photo", "GET", "/visits/{foreign_photo_visit.id}/photos/0/thumb.jpg", ADMIN),
    Route("visits.chain_page", "GET", "/borrowers/{own_borrower.id}/visits/chain", STAFF),
    Route("visits.chain_page", "GET", "/borrowers/{foreign_borrower.id}/visits/chain", ADMIN),
]

RED = {"risk_signals": frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})}


def objects(app, world) -> dict:
    """A red visit (with its warning) of the officer's borrower and one of another branch."""
    with app.app_context():
        when = utcnow() - timedelta(days=1)
        own = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            when,
            **RED,
        )
        foreign = make_visit(
            db.session.get(Borrower, world.foreign_borrower.id),
            db.session.get(User, world.other_officer.id),
            when,
            **RED,
        )
        # Visits with a photo, for the photo route.
        own_photo = photo_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            when - timedelta(hours=3),
            size=(320, 240),
        )
        foreign_photo = photo_visit(
            db.session.get(Borrower, world.foreign_borrower.id),
            db.session.get(User, world.other_officer.id),
            when - timedelta(hours=3),
            size=(320, 240),
        )
        db.session.commit()
        return {
            "own_visit": Ref(own.id, "own"),
            "foreign_visit": Ref(foreign.id, "foreign"),
            "own_photo_visit": Ref(own_photo.id, "own photo"),
            "foreign_photo_visit": Ref(foreign_photo.id, "foreign photo"),
        }
