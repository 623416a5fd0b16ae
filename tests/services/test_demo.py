"""The demo data covers every state and can be loaded twice."""

import sqlalchemy as sa

from portal.complaints.models import Complaint
from portal.extensions import db
from portal.services.models import ServiceRequest, ServiceSession


def _summary(app):
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(ServiceRequest.status)))
        severities = set(db.session.scalars(sa.select(Complaint.severity)))
        complaint_states = set(db.session.scalars(sa.select(Complaint.status)))
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (ServiceRequest, ServiceSession, Complaint)
        )
        ratings = db.session.scalar(
            sa.select(sa.func.count(ServiceRequest.id)).where(ServiceRequest.rating.is_not(None))
        )
    return statuses, severities, complaint_states, counts, ratings


def test_demo_has_every_state_and_is_idempotent(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    statuses, severities, complaint_states, counts, ratings = _summary(app)
    assert {s.value for s in statuses} >= {
        "submitted",
        "accepted",
        "completed",
        "rated",
        "declined",
    }
    assert {s.value for s in severities} == {"general", "serious", "very_serious"}
    assert {s.value for s in complaint_states} == {"open", "resolved", "closed"}
    assert counts[1] == 2 and ratings >= 3
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert _summary(app)[3] == counts
