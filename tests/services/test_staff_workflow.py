"""The head's queue, assignment, decline and completion; nobody acts on what is not theirs."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.core.calendar import local_today
from portal.extensions import db
from portal.notices.models import Notice
from portal.services.models import ServiceEvent, ServiceRequest, ServiceStatus
from tests.factories import make_user
from tests.services.helpers import count, english, flashed, load, text
from tests.services.records import make_request


def _new(app, borrower_id, **kwargs) -> int:
    with app.app_context():
        request_id = make_request(borrower_id, **kwargs).id
        db.session.commit()
    return request_id


def _today(app) -> str:
    with app.test_request_context():
        return local_today().isoformat()


def _tomorrow(app) -> str:
    with app.test_request_context():
        return (local_today() + timedelta(days=1)).isoformat()


def _assign(client, request_id, assignee_id, planned_on, **extra):
    return client.submit(
        f"/services/requests/{request_id}/assign",
        {"assignee_id": str(assignee_id), "planned_on": planned_on, **extra},
        page=f"/services/requests/{request_id}",
    )


def test_head_assigns_officer_completes_and_every_step_is_audited(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    client.login("head")
    assert f"/services/requests/{request_id}" in text(client.get("/services/queue"))
    planned = _today(app)  # completed on its day: nothing is completed before it
    assert (
        _assign(client, request_id, world.officer.id, planned, note="带上资料").status_code == 302
    )
    accepted = load(app, ServiceRequest, request_id)
    assert accepted.status == ServiceStatus.ACCEPTED
    assert accepted.assignee_id == world.officer.id and accepted.planned_on.isoformat() == planned
    assert accepted.accepted_at is not None
    client.logout()

    client.login("officer")
    assert f"/services/requests/{request_id}" in text(client.get("/services/assignments"))
    response = client.submit(
        f"/services/requests/{request_id}/complete",
        {"notes": "上门讲解了母猪产后护理要点"},
        page=f"/services/requests/{request_id}",
    )
    assert response.status_code == 302
    done = load(app, ServiceRequest, request_id)
    assert done.status == ServiceStatus.COMPLETED and done.completed_at is not None
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(
                AuditEntry.object_type == "ServiceRequest", AuditEntry.object_id == str(request_id)
            )
            .order_by(AuditEntry.id)
        ).all()
        steps = db.session.scalars(
            sa.select(ServiceEvent.action)
            .where(ServiceEvent.request_id == request_id)
            .order_by(ServiceEvent.id)
        ).all()
    assert actions == [
        "service_request.submitted",
        "service_request.assigned",
        "service_request.completed",
    ]
    assert steps == ["submitted", "assigned", "completed"]
    assert count(app, Notice, Notice.borrower_id == world.own_borrower.id) == 2


def test_head_may_assign_to_any_staff_member_of_the_branch(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    with app.app_context():
        helper = make_user(
            "officer2", Role.OFFICER, db.session.get(ServiceRequest, request_id).branch
        ).id
        db.session.commit()
    client.login("head")
    _assign(client, request_id, helper, _tomorrow(app))
    assert load(app, ServiceRequest, request_id).assignee_id == helper
    _assign(client, request_id, world.head.id, _tomorrow(app))
    reassigned = load(app, ServiceRequest, request_id)
    assert reassigned.assignee_id == world.head.id and reassigned.status == ServiceStatus.ACCEPTED


@pytest.mark.parametrize(
    ("field", "value", "english_error", "chinese_error"),
    [
        (
            "assignee_id",
            "other_officer",
            "Choose a staff member of this branch.",
            "请选择本网点的员工。",
        ),
        (
            "assignee_id",
            "borrower",
            "Choose a staff member of this branch.",
            "请选择本网点的员工。",
        ),
        ("assignee_id", "", "Choose who will help.", "请选择负责的员工。"),
        ("planned_on", "2020-01-01", "Choose today or a later date.", "请选择今天或以后的日期。"),
        ("planned_on", "", "Enter a valid date.", "请输入有效的日期。"),
    ],
)
def test_assign_form_refuses_bad_input_and_tampered_assignees(
    client, world, app, field, value, english_error, chinese_error
):
    request_id = _new(app, world.own_borrower.id)
    data = {"assignee_id": str(world.officer.id), "planned_on": _tomorrow(app)}
    data[field] = str(getattr(world, value).id) if hasattr(world, value) else value
    client.login("head")
    page = text(
        client.submit(f"/services/requests/{request_id}/assign", data, page="/services/queue")
    )
    assert chinese_error in page
    english(client)
    page = text(
        client.submit(f"/services/requests/{request_id}/assign", data, page="/services/queue")
    )
    assert english_error in page
    unchanged = load(app, ServiceRequest, request_id)
    assert unchanged.status == ServiceStatus.SUBMITTED and unchanged.assignee_id is None
    assert count(app, ServiceEvent) == 1


def test_decline_shows_the_reason_to_the_borrower(client, world, app):
    request_id = _new(app, world.own_borrower.id)
    client.login("head")
    page = text(
        client.submit(
            f"/services/requests/{request_id}/decline", {"reason": ""}, page="/services/queue"
        )
    )
    assert "请说明不予受理的原因。" in page
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.SUBMITTED
    client.submit(
        f"/services/requests/{request_id}/decline",
        {"reason": "法律咨询本月已约满，下月再安排"},
        page="/services/queue",
    )
    declined = load(app, ServiceRequest, request_id)
    assert declined.status == ServiceStatus.DECLINED and declined.declined_at is not None
    client.logout()
    client.login("borrower")
    page = text(client.get(f"/me/services/{request_id}"))
    assert "法律咨询本月已约满，下月再安排" in page


def test_complete_form_refuses_empty_notes(client, world, app):
    request_id = _new(
        app,
        world.own_borrower.id,
        status=ServiceStatus.ACCEPTED,
        assignee_id=world.officer.id,
        planned_on=date.fromisoformat(_today(app)),
    )
    client.login("officer")
    english(client)
    page = text(
        client.submit(
            f"/services/requests/{request_id}/complete",
            {"notes": "  "},
            page="/services/assignments",
        )
    )
    assert "Describe what was done." in page
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.ACCEPTED


@pytest.mark.parametrize(
    ("status", "url", "data", "message"),
    [
        (
            ServiceStatus.COMPLETED,
            "decline",
            {"reason": "不需要了吧"},
            "Only a new or accepted request can be declined.",
        ),
        (ServiceStatus.DECLINED, "assign", {}, "Only a new or accepted request can be assigned."),
        (
            ServiceStatus.SUBMITTED,
            "complete",
            {"notes": "已经讲解完毕"},
            "Only an accepted request can be marked completed.",
        ),
        (
            ServiceStatus.RATED,
            "complete",
            {"notes": "已经讲解完毕"},
            "Only an accepted request can be marked completed.",
        ),
    ],
)
def test_illegal_steps_are_refused_with_a_clear_message(
    client, world, app, status, url, data, message
):
    request_id = _new(app, world.own_borrower.id, status=status)
    if url == "assign":
        data = {"assignee_id": str(world.officer.id), "planned_on": _tomorrow(app)}
    events = count(app, ServiceEvent)
    client.login("head")
    english(client)
    response = client.submit(
        f"/services/requests/{request_id}/{url}",
        data,
        page="/services/queue",
        follow_redirects=True,
    )
    assert message in flashed(text(response))
    assert load(app, ServiceRequest, request_id).status == status
    assert count(app, ServiceEvent) == events


def test_officer_cannot_assign_decline_or_complete_what_is_not_theirs(client, world, app):
    for_head = _new(
        app, world.own_borrower.id, status=ServiceStatus.ACCEPTED, assignee_id=world.head.id
    )
    submitted = _new(app, world.own_borrower.id)
    client.login("officer")
    assert client.get(f"/services/requests/{for_head}").status_code == 200  # the officer's borrower
    assert (
        client.submit(
            f"/services/requests/{for_head}/complete",
            {"notes": "我替负责人办完了"},
            page="/services/assignments",
        ).status_code
        == 403
    )
    assert _assign(client, submitted, world.officer.id, _tomorrow(app)).status_code == 403
    assert (
        client.submit(
            f"/services/requests/{submitted}/decline",
            {"reason": "不需要了"},
            page="/services/assignments",
        ).status_code
        == 403
    )
    assert client.get("/services/queue").status_code == 403
    assert load(app, ServiceRequest, for_head).status == ServiceStatus.ACCEPTED
    assert load(app, ServiceRequest, submitted).status == ServiceStatus.SUBMITTED


def test_another_branch_cannot_see_or_act_on_a_request(client, world, app):
    request_id = _new(
        app, world.own_borrower.id, status=ServiceStatus.ACCEPTED, assignee_id=world.officer.id
    )
    client.login("otherhead")
    assert client.get(f"/services/requests/{request_id}").status_code == 403
    assert f"/services/requests/{request_id}" not in text(client.get("/services/queue?status=all"))
    assert _assign(client, request_id, world.other_officer.id, _tomorrow(app)).status_code == 403
    assert (
        client.submit(
            f"/services/requests/{request_id}/complete",
            {"notes": "别的网点办完了"},
            page="/services/queue",
        ).status_code
        == 403
    )
    client.logout()
    client.login("otherofficer")
    assert client.get(f"/services/requests/{request_id}").status_code == 403
    assert (
        client.submit(
            f"/services/requests/{request_id}/complete",
            {"notes": "别的网点办完了"},
            page="/services/assignments",
        ).status_code
        == 403
    )
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.ACCEPTED


def test_queue_lists_new_requests_first_and_counts_them_in_the_menu(client, world, app):
    accepted = _new(app, world.own_borrower.id, status=ServiceStatus.ACCEPTED)
    fresh = _new(app, world.own_borrower.id, kind="legal_services")
    client.login("head")
    page = text(client.get("/services/queue"))
    assert page.index(f"/services/requests/{fresh}") < page.index(f"/services/requests/{accepted}")
    assert 'data-testid="queue-count"' in page
    assert f"/services/requests/{accepted}" not in text(client.get("/services/queue?status=new"))
    client.logout()
    client.login("officer")
    assert 'data-testid="assignment-count"' in text(client.get("/services/assignments"))


def test_list_pages_use_a_fixed_number_of_queries(client, world, app):
    def queries_for(url):
        statements = []

        def counter(*_args):
            statements.append(1)

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(url).status_code == 200
        finally:
            with app.app_context():
                sa.event.remove(db.engine, "before_cursor_execute", counter)
        return len(statements)

    _new(app, world.own_borrower.id, status=ServiceStatus.ACCEPTED, assignee_id=world.head.id)
    client.login("head")
    few = {url: queries_for(url) for url in ("/services/queue", "/services/assignments")}
    for kind in ("legal_services", "computer_training", "wealth_management", "financial_training"):
        _new(
            app,
            world.own_borrower.id,
            kind=kind,
            status=ServiceStatus.ACCEPTED,
            assignee_id=world.head.id,
        )
    many = {url: queries_for(url) for url in ("/services/queue", "/services/assignments")}
    assert all(few.values()) and few == many
