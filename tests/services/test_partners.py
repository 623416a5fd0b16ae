"""Services delivered by outside partners: named on the request and the session, shown to
the borrower (issue 20)."""

from datetime import timedelta

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.core.calendar import local_today
from portal.extensions import db
from portal.services.models import ServiceRequest, ServiceSession, ServiceStatus
from tests.services.helpers import count, english, load, text
from tests.services.records import make_request

LAWYER = "泗阳县正义律师事务所"
LAWYER_CONTACT = "刘律师 0527-85212345"
STATION = "泗阳县畜牧兽医站"


def _new(app, borrower_id, **kwargs) -> int:
    with app.app_context():
        request_id = make_request(borrower_id, kind="legal_services", **kwargs).id
        db.session.commit()
    return request_id


def _tomorrow(app) -> str:
    with app.test_request_context():
        return (local_today() + timedelta(days=1)).isoformat()


def _assign(client, request_id, world, app, **extra):
    return client.submit(
        f"/services/requests/{request_id}/assign",
        {"assignee_id": str(world.officer.id), "planned_on": _tomorrow(app), **extra},
        page=f"/services/requests/{request_id}",
    )


def test_a_partner_named_on_the_assignment_is_shown_to_the_borrower(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    client.login("head")
    response = _assign(
        client, request_id, world, app, partner_name=LAWYER, partner_contact=LAWYER_CONTACT
    )
    assert response.status_code == 302
    stored = load(app, ServiceRequest, request_id)
    assert (stored.partner_name, stored.partner_contact) == (LAWYER, LAWYER_CONTACT)
    assert stored.status == ServiceStatus.ACCEPTED
    staff_page = text(client.get(f"/services/requests/{request_id}"))
    assert LAWYER in staff_page and LAWYER_CONTACT in staff_page
    with app.app_context():
        summaries = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "service_request.assigned")
        ).all()
    assert any(LAWYER in summary for summary in summaries), summaries
    client.logout()

    client.login("borrower")
    page = text(client.get(f"/me/services/{request_id}"))
    partner = page.split('data-testid="partner"')[1].split("</dd>")[0]
    assert LAWYER in partner and LAWYER_CONTACT in partner
    english(client)
    page = text(client.get(f"/me/services/{request_id}"))
    assert "Delivered by" in page and LAWYER_CONTACT in page


def test_a_contact_without_a_partner_is_refused_and_nothing_is_written(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    client.login("head")
    english(client)
    page = text(_assign(client, request_id, world, app, partner_contact=LAWYER_CONTACT))
    assert "Name the partner organisation of this contact." in page
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.SUBMITTED
    page = text(_assign(client, request_id, world, app, partner_name="律" * 101))
    assert "At most 100 characters." in page
    assert load(app, ServiceRequest, request_id).partner_name == ""


def test_a_session_run_by_a_partner_shows_it_to_the_borrowers_it_serves(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    client.login("head")
    with app.test_request_context():
        today = local_today().isoformat()
    response = client.submit(
        "/services/sessions/new",
        {
            "title": "生猪防疫培训",
            "kind": "legal_services",
            "held_on": today,
            "place": "众兴镇农技站",
            "trainer": "王站长",
            "partner_name": STATION,
            "partner_contact": "王站长 0527-85211111",
            "organizer_id": str(world.officer.id),
        },
    )
    assert response.status_code == 302, text(response)
    session_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert load(app, ServiceSession, session_id).partner_name == STATION
    page = f"/services/sessions/{session_id}"
    assert STATION in text(client.get(page))
    client.submit(f"{page}/requests", {"request_ids": [str(request_id)]}, page=page)
    assert count(app, ServiceRequest, ServiceRequest.session_id == session_id) == 1
    client.logout()
    client.login("borrower")
    page = text(client.get(f"/me/services/{request_id}"))
    partner = page.split('data-testid="session-partner"')[1].split("</dd>")[0]
    assert STATION in partner and "0527-85211111" in partner
