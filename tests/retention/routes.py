"""Routes of the retention feature (legal holds) and of the identity correction, for the
access matrix: the head of the borrower's branch and the admin; officers never."""

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.retention import operations
from tests.factories import Ref
from tests.routes import ADMIN, MANAGERS, Route

OWN = "/borrowers/{own_borrower.id}"
FOREIGN = "/borrowers/{foreign_borrower.id}"

ROUTES = [
    Route("borrowers.identity_correction", "GET", OWN + "/identity", MANAGERS),
    Route("borrowers.identity_correction", "GET", FOREIGN + "/identity", ADMIN),
    Route("retention.holds", "GET", OWN + "/holds", MANAGERS),
    Route("retention.holds", "GET", FOREIGN + "/holds", ADMIN),
    Route("retention.holds", "POST", OWN + "/holds", MANAGERS, data={"reason": "诉讼"}),
    Route("retention.holds", "POST", FOREIGN + "/holds", ADMIN, data={"reason": "诉讼"}),
    Route("retention.lift", "POST", "/holds/{own_hold.id}/lift", MANAGERS),
    Route("retention.lift", "POST", "/holds/{foreign_hold.id}/lift", ADMIN),
]


def objects(app, world) -> dict:
    """A legal hold in place on the own and on the foreign borrower."""
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        holds = {
            key: operations.place_hold(db.session.get(Borrower, ref.id), "纠纷", admin)
            for key, ref in (
                ("own_hold", world.own_borrower),
                ("foreign_hold", world.foreign_borrower),
            )
        }
        db.session.commit()
        return {key: Ref(hold.id, hold.reason) for key, hold in holds.items()}
