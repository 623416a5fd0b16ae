"""Every route of the services feature, with who may reach it (tests/test_access_matrix.py)."""

from portal.extensions import db
from portal.services.models import ServiceStatus
from tests.factories import Ref
from tests.routes import ADMIN, MANAGERS, STAFF, Route
from tests.services.records import make_request, make_session

BORROWER = frozenset({"borrower"})
NOBODY = frozenset()


def objects(app, world) -> dict:
    """A request of each borrower, one assigned to the officer, a session per branch."""
    with app.app_context():
        own = make_request(world.own_borrower.id)
        foreign = make_request(world.foreign_borrower.id)
        assigned = make_request(
            world.own_borrower.id, "financial_training", ServiceStatus.ACCEPTED, world.officer.id
        )
        own_session = make_session(world.branch.id, world.officer.id)
        foreign_session = make_session(world.other_branch.id, world.other_officer.id)
        db.session.commit()
        return {
            "own_request": Ref(own.id, ""),
            "foreign_request": Ref(foreign.id, ""),
            "assigned_request": Ref(assigned.id, ""),
            "own_session": Ref(own_session.id, ""),
            "foreign_session": Ref(foreign_session.id, ""),
        }


ROUTES = [
    Route("services.my_requests", "GET", "/me/services", BORROWER),
    Route("services.new_request", "GET", "/me/services/new", BORROWER),
    Route("services.my_request", "GET", "/me/services/{own_request.id}", BORROWER),
    Route("services.my_request", "GET", "/me/services/{foreign_request.id}", NOBODY),
    Route("services.rate", "POST", "/me/services/{own_request.id}/rate", BORROWER),
    Route("services.rate", "POST", "/me/services/{foreign_request.id}/rate", NOBODY),
    Route("services.notices", "GET", "/me/notices", BORROWER),
    Route("services.mark_notices_read", "POST", "/me/notices/read", BORROWER),
    Route("services.queue", "GET", "/services/queue", MANAGERS),
    Route("services.queue_export", "GET", "/services/queue/export.csv", MANAGERS),
    Route("services.queue_export", "GET", "/services/queue/export.xlsx?status=all", MANAGERS),
    Route("services.assignments", "GET", "/services/assignments", STAFF),
    Route("services.request_detail", "GET", "/services/requests/{own_request.id}", STAFF),
    Route("services.request_detail", "GET", "/services/requests/{foreign_request.id}", ADMIN),
    Route("services.assign", "POST", "/services/requests/{own_request.id}/assign", MANAGERS),
    Route("services.assign", "POST", "/services/requests/{foreign_request.id}/assign", ADMIN),
    Route("services.decline", "POST", "/services/requests/{own_request.id}/decline", MANAGERS),
    Route("services.decline", "POST", "/services/requests/{foreign_request.id}/decline", ADMIN),
    Route("services.complete", "POST", "/services/requests/{assigned_request.id}/complete", STAFF),
    Route("services.complete", "POST", "/services/requests/{own_request.id}/complete", MANAGERS),
    Route("services.complete", "POST", "/services/requests/{foreign_request.id}/complete", ADMIN),
    Route("services.sessions", "GET", "/services/sessions", STAFF),
    Route("services.new_session", "GET", "/services/sessions/new", MANAGERS),
    Route("services.session_detail", "GET", "/services/sessions/{own_session.id}", STAFF),
    Route("services.session_detail", "GET", "/services/sessions/{foreign_session.id}", ADMIN),
    Route(
        "services.add_session_requests",
        "POST",
        "/services/sessions/{own_session.id}/requests",
        MANAGERS,
    ),
    Route(
        "services.add_session_requests",
        "POST",
        "/services/sessions/{foreign_session.id}/requests",
        ADMIN,
    ),
    Route(
        "services.session_attendance",
        "POST",
        "/services/sessions/{own_session.id}/attendance",
        STAFF,
    ),
    Route(
        "services.session_attendance",
        "POST",
        "/services/sessions/{foreign_session.id}/attendance",
        ADMIN,
    ),
    Route(
        "services.complete_session", "POST", "/services/sessions/{own_session.id}/complete", STAFF
    ),
    Route(
        "services.complete_session",
        "POST",
        "/services/sessions/{foreign_session.id}/complete",
        ADMIN,
    ),
    Route("services.satisfaction", "GET", "/services/satisfaction", MANAGERS),
    Route("services.kinds", "GET", "/admin/services/kinds", ADMIN),
    Route("services.new_kind", "GET", "/admin/services/kinds/new", ADMIN),
    Route("services.edit_kind", "GET", "/admin/services/kinds/legal_services", ADMIN),
]
