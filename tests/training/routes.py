"""Routes of the training feature for the access matrix."""

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import Ref, make_loan
from tests.routes import ADMIN, EVERYONE, STAFF, Route
from tests.training.helpers import first_version, make_signoff, new_version

ROUTES = [
    Route("training.materials", "GET", "/admin/training/", ADMIN),
    Route("training.new_material", "GET", "/admin/training/new", ADMIN),
    Route("training.material", "GET", "/admin/training/{published_material.id}", ADMIN),
    Route("training.edit_material", "GET", "/admin/training/{draft_material.id}/edit", ADMIN),
    Route(
        "training.publish_material", "POST", "/admin/training/{draft_material.id}/publish", ADMIN
    ),
    Route("training.sign_off", "GET", "/loans/{approved_loan.id}/training", STAFF),
    Route("training.sign_off", "GET", "/loans/{foreign_approved_loan.id}/training", ADMIN),
    Route("training.sign_off", "POST", "/loans/{foreign_approved_loan.id}/training", ADMIN),
    Route(
        "training.signature", "GET", "/training/signoffs/{own_signoff.id}/signature.png", EVERYONE
    ),
    Route(
        "training.signature", "GET", "/training/signoffs/{foreign_signoff.id}/signature.png", ADMIN
    ),
]


def objects(app, world) -> dict:
    """A published and a draft version, approved loans and sign-offs on both sides."""
    with app.app_context():
        own = db.session.get(Borrower, world.own_borrower.id)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        published = first_version()
        draft = new_version(published=False)
        refs = {
            "published_material": Ref(published.id, "v1"),
            "draft_material": Ref(draft.id, "v2"),
            "approved_loan": _ref(make_loan(own, LoanStatus.APPROVED)),
            "foreign_approved_loan": _ref(make_loan(foreign, LoanStatus.APPROVED)),
            "own_signoff": _ref(make_signoff(own, published)),
            "foreign_signoff": _ref(make_signoff(foreign, published)),
        }
        db.session.commit()
    return refs


def _ref(record) -> Ref:
    return Ref(record.id, str(record.id))
