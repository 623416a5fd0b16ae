"""Every route of the complaints feature, with who may reach it (tests/test_access_matrix.py)."""

from portal.complaints.models import ComplaintSeverity
from portal.extensions import db
from tests.factories import Ref
from tests.routes import ADMIN, MANAGERS, STAFF, Route
from tests.services.records import make_complaint

BORROWER = frozenset({"borrower"})
NOBODY = frozenset()


def objects(app, world) -> dict:
    """A general complaint of each borrower and a serious one, escalated at once."""
    with app.app_context():
        own = make_complaint(world.own_borrower.id)
        foreign = make_complaint(world.foreign_borrower.id)
        serious = make_complaint(world.own_borrower.id, ComplaintSeverity.SERIOUS)
        db.session.commit()
        return {
            "own_complaint": Ref(own.id, ""),
            "foreign_complaint": Ref(foreign.id, ""),
            "escalated_complaint": Ref(serious.id, ""),
        }


ROUTES = [
    Route("complaints.my_complaints", "GET", "/me/complaints", BORROWER),
    Route("complaints.new_complaint", "GET", "/me/complaints/new", BORROWER),
    Route("complaints.my_complaint", "GET", "/me/complaints/{own_complaint.id}", BORROWER),
    Route("complaints.my_complaint", "GET", "/me/complaints/{foreign_complaint.id}", NOBODY),
    Route("complaints.verdict", "POST", "/me/complaints/{own_complaint.id}/verdict", BORROWER),
    Route("complaints.verdict", "POST", "/me/complaints/{foreign_complaint.id}/verdict", NOBODY),
    Route("complaints.index", "GET", "/complaints/", STAFF),
    Route("complaints.export", "GET", "/complaints/export.csv", STAFF),
    Route("complaints.export", "GET", "/complaints/export.xlsx?status=all", STAFF),
    Route("complaints.detail", "GET", "/complaints/{own_complaint.id}", STAFF),
    Route("complaints.detail", "GET", "/complaints/{escalated_complaint.id}", MANAGERS),
    Route("complaints.detail", "GET", "/complaints/{foreign_complaint.id}", ADMIN),
    Route("complaints.resolve", "POST", "/complaints/{own_complaint.id}/resolve", STAFF),
    Route("complaints.resolve", "POST", "/complaints/{escalated_complaint.id}/resolve", MANAGERS),
    Route("complaints.resolve", "POST", "/complaints/{foreign_complaint.id}/resolve", ADMIN),
    Route("complaints.escalate", "POST", "/complaints/{own_complaint.id}/escalate", STAFF),
    Route("complaints.escalate", "POST", "/complaints/{foreign_complaint.id}/escalate", ADMIN),
]
