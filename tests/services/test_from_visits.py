"""Needs ticked on a signed visit become requests, once per original visit and kind."""

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.notices.models import Notice
from portal.services.models import RequestSource, ServiceRequest, ServiceStatus
from portal.visits.models import ServiceNeed
from tests.services.helpers import text
from tests.services.records import sign_visit_of as sign

N = ServiceNeed


def _requests():
    return db.session.scalars(sa.select(ServiceRequest).order_by(ServiceRequest.id)).all()


def test_each_need_on_a_signed_visit_becomes_a_request(app, world, client):
    with app.app_context():
        visit = sign(world, {N.TECHNIQUE_TRAINING, N.LEGAL_SERVICES, N.OTHER}, other="想了解保险")
        db.session.commit()
        requests = _requests()
        assert sorted(r.kind_code for r in requests) == [
            "legal_services",
            "other",
            "technique_training",
        ]
        for request in requests:
            assert (
                request.source == RequestSource.VISIT and request.status == ServiceStatus.SUBMITTED
            )
            assert request.source_visit_id == visit.id == request.source_visit_root_id
            assert request.submitted_at == visit.signed_at
            assert request.events[0].action == "opened_from_visit"
        assert {r.kind_code: r.description for r in requests}["other"] == "想了解保险"
        assert db.session.scalar(sa.select(sa.func.count(Notice.id))) == 3
        legal = next(r.id for r in requests if r.kind_code == "legal_services")
    client.login("head")
    queue = text(client.get("/services/queue"))
    assert f"/services/requests/{legal}" in queue and "回访时登记" in queue


def test_amended_visits_do_not_duplicate_requests(app, world):
    with app.app_context():
        original = sign(world, {N.TECHNIQUE_TRAINING, N.LEGAL_SERVICES})
        amendment = sign(world, {N.TECHNIQUE_TRAINING, N.MARKETING_TRAINING}, amends=original)
        sign(
            world, {N.TECHNIQUE_TRAINING, N.MARKETING_TRAINING, N.LEGAL_SERVICES}, amends=amendment
        )
        db.session.commit()
        requests = _requests()
        assert sorted(r.kind_code for r in requests) == [
            "legal_services",
            "marketing_training",
            "technique_training",
        ]
        assert {r.source_visit_root_id for r in requests} == {original.id}
        marketing = next(r for r in requests if r.kind_code == "marketing_training")
        assert marketing.source_visit_id == amendment.id


def test_a_visit_without_needs_opens_nothing_and_visits_of_others_stay_apart(app, world):
    with app.app_context():
        sign(world, set())
        first = sign(world, {N.FINANCIAL_TRAINING})
        second = sign(world, {N.FINANCIAL_TRAINING})  # a new visit, not an amendment
        db.session.commit()
        assert [r.source_visit_id for r in _requests()] == [first.id, second.id]


def test_the_database_refuses_a_second_request_for_one_visit_and_kind(app, world):
    with app.app_context():
        visit = sign(world, {N.COMPUTER_TRAINING})
        db.session.commit()
        [request] = _requests()
        db.session.add(
            ServiceRequest(
                borrower_id=request.borrower_id,
                branch_id=request.branch_id,
                kind_code="computer_training",
                respond_by=request.respond_by,
                source=RequestSource.VISIT,
                source_visit_id=visit.id,
                source_visit_root_id=visit.id,
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
