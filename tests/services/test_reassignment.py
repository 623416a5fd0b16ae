"""A borrower's requests follow the borrower when the head moves them to another officer."""

import sqlalchemy as sa

from portal.core.calendar import local_today
from portal.extensions import db
from portal.notices.models import Notice
from portal.services.models import ServiceEvent, ServiceRequest, ServiceStatus
from tests.services.helpers import count, load, new_officer, reassign_as_head, text
from tests.services.records import make_request, make_session


def _made(app, *builders) -> list[int]:
    with app.app_context():
        ids = [build().id for build in builders]
        db.session.commit()
    return ids


def test_open_work_moves_to_the_new_officer_and_the_former_one_loses_it(client, world, app):
    borrower = world.own_borrower.id
    accepted, done = _made(
        app,
        lambda: make_request(borrower, status=ServiceStatus.ACCEPTED, planned_on=local_today()),
        lambda: make_request(borrower, "legal_services", ServiceStatus.COMPLETED),
    )
    successor = new_officer(app, world)
    reassign_as_head(client, borrower, successor)

    moved = load(app, ServiceRequest, accepted)
    assert moved.assignee_id == successor and moved.status == ServiceStatus.ACCEPTED
    with app.app_context():
        steps = db.session.scalars(
            sa.select(ServiceEvent.action).where(ServiceEvent.request_id == accepted)
        ).all()
    assert steps[-1] == "reassigned"
    assert count(app, Notice, Notice.event == "service.handed_over") == 1
    # Who did the finished work stays on record (the satisfaction figures count it).
    assert load(app, ServiceRequest, done).assignee_id == world.officer.id

    client.login("officer")  # the former officer: nothing of this borrower any more
    for request_id in (accepted, done):
        assert client.get(f"/services/requests/{request_id}").status_code == 403
    for listing in ("/services/assignments", "/services/assignments?done=1"):
        page = text(client.get(listing))
        assert f"/services/requests/{accepted}" not in page
        assert f"/services/requests/{done}" not in page
    response = client.submit(
        f"/services/requests/{accepted}/complete",
        {"notes": "已上门讲解了护理要点"},
        page="/services/assignments",
    )
    assert response.status_code == 403
    client.logout()

    client.login("successor")  # the new officer: all of it, and the open work to do
    assert f"/services/requests/{accepted}" in text(client.get("/services/assignments"))
    assert client.get(f"/services/requests/{done}").status_code == 200
    response = client.submit(
        f"/services/requests/{accepted}/complete",
        {"notes": "已上门讲解了护理要点"},
        page=f"/services/requests/{accepted}",
    )
    assert response.status_code == 302
    assert load(app, ServiceRequest, accepted).status == ServiceStatus.COMPLETED


def test_work_given_to_someone_else_stays_with_them(client, world, app):
    borrower = world.own_borrower.id
    helper = new_officer(app, world, "helper")
    with app.app_context():
        for_helper = make_request(borrower, status=ServiceStatus.ACCEPTED, assignee_id=helper).id
        session = make_session(world.branch.id, world.officer.id)
        in_session = make_request(borrower, "financial_training")
        session.kind_code = "financial_training"
        from portal.services.operations import add_to_session

        add_to_session(session, [in_session], None)
        session_id, in_session = session.id, in_session.id
        db.session.commit()
    successor = new_officer(app, world)
    reassign_as_head(client, borrower, successor)

    # A helper the head chose is not the borrower's officer: the move leaves them alone.
    assert load(app, ServiceRequest, for_helper).assignee_id == helper
    # A request in a group session stays with the session's organizer, who runs the class.
    assert load(app, ServiceRequest, in_session).assignee_id == world.officer.id
    client.login("helper")
    assert client.get(f"/services/requests/{for_helper}").status_code == 200
    client.logout()
    client.login("officer")
    assert client.get(f"/services/sessions/{session_id}").status_code == 200
