"""Group sessions: one class serves many requests; attendance decides who is completed."""

import pytest
import sqlalchemy as sa

from portal.core.calendar import local_today
from portal.extensions import db
from portal.notices.models import Notice
from portal.services.models import ServiceRequest, ServiceSession, ServiceStatus
from tests.factories import make_borrower
from tests.services.helpers import count, english, flashed, load, text
from tests.services.records import make_request, make_session


def _today(app) -> str:
    with app.test_request_context():
        return local_today().isoformat()


def _session_data(app, world, **changes) -> dict:
    return {
        "branch_id": str(world.branch.id),
        "title": "母猪产后护理培训班",
        "kind": "technique_training",
        "held_on": _today(app),  # held today: attendance and completion are open
        "place": "众兴镇农技站",
        "trainer": "王技术员",
        "organizer_id": str(world.officer.id),
    } | changes


def _two_requests(app, world) -> tuple[int, int]:
    with app.app_context():
        officer = db.session.get(
            ServiceRequest, make_request(world.own_borrower.id).id
        ).borrower.officer
        neighbour = make_borrower(officer)
        first = make_request(world.own_borrower.id).id
        second = make_request(neighbour.id, status=ServiceStatus.ACCEPTED).id
        db.session.commit()
    return first, second


def test_a_session_serves_many_requests_and_completes_those_who_came(client, world, app):
    came, stayed_home = _two_requests(app, world)
    client.login("head")
    response = client.submit("/services/sessions/new", _session_data(app, world))
    session_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = f"/services/sessions/{session_id}"
    client.submit(f"{page}/requests", {"request_ids": [str(came), str(stayed_home)]}, page=page)
    for request_id in (came, stayed_home):
        scheduled = load(app, ServiceRequest, request_id)
        assert scheduled.status == ServiceStatus.ACCEPTED and scheduled.session_id == session_id
        assert scheduled.assignee_id == world.officer.id
    client.logout()

    client.login("officer")  # the organizer records who came and closes the session
    client.submit(f"{page}/attendance", {"attended": [str(came)]}, page=page)
    assert load(app, ServiceRequest, came).attended is True
    assert load(app, ServiceRequest, stayed_home).attended is False
    response = client.submit(f"{page}/complete", page=page)
    assert response.status_code == 302
    assert load(app, ServiceSession, session_id).completed_at is not None
    assert load(app, ServiceRequest, came).status == ServiceStatus.COMPLETED
    waiting = load(app, ServiceRequest, stayed_home)
    assert waiting.status == ServiceStatus.ACCEPTED and waiting.session_id is None
    assert count(app, Notice, Notice.event == "service.scheduled") == 2
    client.logout()

    client.login("borrower")
    page_text = text(client.get(f"/me/services/{came}"))
    assert "母猪产后护理培训班" in page_text and 'name="rating"' in page_text


def test_a_session_cannot_be_completed_before_attendance(client, world, app):
    came, _ = _two_requests(app, world)
    with app.app_context():
        session = make_session(world.branch.id, world.officer.id, held_on=local_today())
        from portal.services.operations import add_to_session

        add_to_session(session, [db.session.get(ServiceRequest, came)], None)
        session_id = session.id
        db.session.commit()
    client.login("head")
    english(client)
    page = f"/services/sessions/{session_id}"
    response = client.submit(f"{page}/complete", page=page, follow_redirects=True)
    assert "Record who attended before completing the session." in flashed(text(response))
    assert load(app, ServiceSession, session_id).completed_at is None


@pytest.mark.parametrize(
    ("changes", "english_error", "chinese_error"),
    [
        ({"title": ""}, "Enter a title.", "请输入标题。"),
        ({"held_on": "2020-05-01"}, "Choose today or a later date.", "请选择今天或以后的日期。"),
        ({"held_on": "05/01/2027"}, "Not a valid date value.", "不是有效的日期值。"),
        ({"kind": "bogus"}, "Choose a service.", "请选择一项服务。"),
        (
            {"organizer_id": "other_officer"},
            "Choose a staff member of this branch.",
            "请选择本网点的员工。",
        ),
        (
            {"branch_id": "other_branch", "organizer_id": "other_officer"},
            "Choose a staff member of this branch.",
            "请选择本网点的员工。",
        ),
    ],
)
def test_session_form_refuses_bad_input(client, world, app, changes, english_error, chinese_error):
    changes = {k: str(getattr(world, v).id) if hasattr(world, v) else v for k, v in changes.items()}
    data = _session_data(app, world, **changes)
    client.login("head")
    assert chinese_error in text(client.submit("/services/sessions/new", data))
    english(client)
    page = text(client.submit("/services/sessions/new", data))
    assert english_error in page
    assert count(app, ServiceSession) == 0


def test_requests_of_another_branch_cannot_be_slipped_into_a_session(client, world, app):
    with app.app_context():
        theirs = make_request(world.foreign_borrower.id).id
        ours = make_request(world.own_borrower.id).id
        session_id = make_session(world.branch.id, world.officer.id).id
        db.session.commit()
    client.login("head")
    page = f"/services/sessions/{session_id}"
    offered = text(client.get(page))
    assert f'value="{ours}"' in offered and f'value="{theirs}"' not in offered
    response = client.submit(
        f"{page}/requests", {"request_ids": [str(ours), str(theirs)]}, page=page
    )
    assert "只能勾选列表中的申请。" in text(response)
    assert load(app, ServiceRequest, theirs).session_id is None
    assert load(app, ServiceRequest, ours).session_id is None
    assert client.submit(f"{page}/requests", {"request_ids": []}, page=page).status_code == 200


def test_only_the_organizer_and_managers_reach_a_session(client, world, app):
    came, _ = _two_requests(app, world)
    with app.app_context():
        session = make_session(world.branch.id, world.head.id)
        from portal.services.operations import add_to_session

        add_to_session(session, [db.session.get(ServiceRequest, came)], None)
        session_id = session.id
        db.session.commit()
    page = f"/services/sessions/{session_id}"
    client.login("officer")  # same branch, but not the organizer
    assert client.get(page).status_code == 403
    assert (
        client.submit(
            f"{page}/attendance", {"attended": [str(came)]}, page="/services/sessions"
        ).status_code
        == 403
    )
    client.logout()
    client.login("otherhead")
    assert client.get(page).status_code == 403
    assert client.submit(f"{page}/complete", page="/services/sessions").status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(sa.select(ServiceRequest.attended).where(ServiceRequest.id == came))
            is None
        )


def test_a_heads_session_is_of_their_own_branch_without_picking_it(client, world, app):
    """Issue 20: the head's branch is filled in and fixed; a posted other branch is ignored."""
    client.login("head")
    page = client.get("/services/sessions/new").get_data(as_text=True)
    select = page[
        page.index('name="branch_id"') - 60 : page.index(
            "</select>", page.index('name="branch_id"')
        )
    ]
    assert "disabled" in select and "— 请选择 —" not in select
    assert f'<option selected value="{world.branch.id}">' in select
    assert f'value="{world.other_branch.id}"' not in select
    data = _session_data(app, world)
    del data["branch_id"]  # a disabled select is not sent
    response = client.submit("/services/sessions/new", data)
    assert response.status_code == 302, text(response)
    data = _session_data(app, world, branch_id=str(world.other_branch.id), title="别的网点")
    client.submit("/services/sessions/new", data)
    with app.app_context():
        branches = db.session.scalars(sa.select(ServiceSession.branch_id)).all()
    assert branches == [world.branch.id, world.branch.id]


def test_an_admin_still_picks_the_branch(client, world, app):
    client.login("admin")
    page = client.get("/services/sessions/new").get_data(as_text=True)
    select = page[
        page.index('name="branch_id"') : page.index("</select>", page.index('name="branch_id"'))
    ]
    assert "disabled" not in select and "— 请选择 —" in select
