"""Every route of the privacy feature, with who may reach it (tests/test_access_matrix.py)."""

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.privacy.operations import request_correction
from tests.factories import Ref
from tests.routes import ADMIN, STAFF, Route

BORROWER = frozenset({"borrower"})


def objects(app, world) -> dict:
    """A correction request of each borrower (the World's own, and another branch's)."""
    with app.app_context():
        own = request_correction(
            db.session.get(Borrower, world.own_borrower.id), "village", "村名写错了", None
        )
        foreign = request_correction(
            db.session.get(Borrower, world.foreign_borrower.id), "address", "门牌号不对", None
        )
        db.session.commit()
        return {"own_correction": Ref(own.id, ""), "foreign_correction": Ref(foreign.id, "")}


ROUTES = [
    Route("privacy.mine", "GET", "/me/privacy", BORROWER),
    Route("privacy.decide", "POST", "/me/privacy/consents/greetings", BORROWER),
    Route("privacy.request_correction", "POST", "/me/privacy/corrections", BORROWER),
    Route("privacy.copy_json", "GET", "/me/privacy/copy.json", BORROWER),
    Route("privacy.copy_pdf", "GET", "/me/privacy/copy.pdf", BORROWER),
    Route("privacy.corrections", "GET", "/privacy/corrections", STAFF),
    Route("privacy.correction", "GET", "/privacy/corrections/{own_correction.id}", STAFF),
    Route("privacy.correction", "GET", "/privacy/corrections/{foreign_correction.id}", ADMIN),
    Route("privacy.answer", "POST", "/privacy/corrections/{own_correction.id}/answer", STAFF),
    Route("privacy.answer", "POST", "/privacy/corrections/{foreign_correction.id}/answer", ADMIN),
]
