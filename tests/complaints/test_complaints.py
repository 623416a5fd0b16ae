"""Complaints: deadlines per severity, escalation, resolution and the borrower's verdict."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSeverity,
    ComplaintStatus,
)
from portal.extensions import db
from portal.notices.models import Notice
from tests.services.helpers import (
    count,
    english,
    flashed,
    load,
    new_officer,
    reassign_as_head,
    text,
)
from tests.services.records import make_complaint

# Monday 2 March 2026, 23:30 in Shanghai.
LATE_MONDAY = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
S = ComplaintSeverity


def _filed(app, borrower_id, severity=S.GENERAL, category=ComplaintCategory.PROCESS, **kw) -> int:
    with app.app_context():
        complaint_id = make_complaint(borrower_id, severity, category, **kw).id
        db.session.commit()
    return complaint_id


def _file(client, **changes):
    data = {
        "category": "fees",
        "severity": "general",
        "subject": "利息算得不对",
        "description": "上个月多收了我两百元利息，请核对。",
    } | changes
    return client.submit("/me/complaints/new", data)


@pytest.mark.parametrize(
    ("severity", "due_utc"),
    [
        (S.GENERAL, datetime(2026, 3, 9, 16, 0, tzinfo=UTC)),  # 7 days: before Tue 10 March local
        (S.SERIOUS, datetime(2026, 3, 5, 16, 0, tzinfo=UTC)),  # 3 days
        (S.VERY_SERIOUS, datetime(2026, 3, 3, 16, 0, tzinfo=UTC)),  # 1 day: before Wed 4 March
    ],
)
def test_each_severity_has_its_response_deadline(app, world, severity, due_utc):
    complaint = load(
        app, Complaint, _filed(app, world.own_borrower.id, severity, filed_at=LATE_MONDAY)
    )
    assert complaint.respond_by == due_utc
    assert complaint.is_overdue(due_utc) is False
    assert complaint.is_overdue(datetime(2026, 3, 10, tzinfo=UTC)) is True


def test_a_general_complaint_goes_to_the_officer(client, world, app):
    client.login("borrower")
    response = _file(client)
    assert response.status_code == 302
    [complaint] = [load(app, Complaint, i) for i in _ids(app)]
    assert not complaint.escalated
    assert complaint.branch_id == world.branch.id and complaint.status == ComplaintStatus.OPEN
    client.logout()
    client.login("officer")
    listing = text(client.get("/complaints/"))
    assert f"/complaints/{complaint.id}" in listing and 'data-testid="complaint-count"' in listing
    client.logout()
    client.login("head")
    assert f"/complaints/{complaint.id}" in text(client.get("/complaints/"))


@pytest.mark.parametrize(
    ("severity", "category"),
    [("serious", "fees"), ("very_serious", "process"), ("general", "officer_conduct")],
)
def test_serious_complaints_and_conduct_go_to_the_head_at_once(
    client, world, app, severity, category
):
    client.login("borrower")
    _file(client, severity=severity, category=category)
    [complaint_id] = _ids(app)
    assert load(app, Complaint, complaint_id).escalated
    client.logout()
    client.login("officer")
    assert client.get(f"/complaints/{complaint_id}").status_code == 403
    assert f"/complaints/{complaint_id}" not in text(client.get("/complaints/"))
    response = client.submit(
        f"/complaints/{complaint_id}/resolve",
        {"resolution": "我来解释一下情况"},
        page="/complaints/",
    )
    assert response.status_code == 403
    client.logout()
    client.login("head")
    page = text(client.get("/complaints/"))
    assert f"/complaints/{complaint_id}" in page and 'data-testid="complaint-count"' in page


def test_officer_escalates_a_general_complaint(client, world, app):
    complaint_id = _filed(app, world.own_borrower.id)
    client.login("officer")
    response = client.submit(
        f"/complaints/{complaint_id}/escalate",
        {"note": "涉及收费标准"},
        page=f"/complaints/{complaint_id}",
    )
    assert response.headers["Location"] == "/complaints/"
    assert load(app, Complaint, complaint_id).escalated
    assert client.get(f"/complaints/{complaint_id}").status_code == 403
    client.logout()
    client.login("head")
    english(client)
    response = client.submit(
        f"/complaints/{complaint_id}/escalate",
        page=f"/complaints/{complaint_id}",
        follow_redirects=True,
    )
    assert "This complaint is already with the branch head." in flashed(text(response))
    assert count(app, Notice, Notice.event == "complaint.escalated") == 1


def test_the_reopen_path_until_the_borrower_is_satisfied(client, world, app):
    complaint_id = _filed(app, world.own_borrower.id, filed_at=LATE_MONDAY)
    page = f"/me/complaints/{complaint_id}"
    client.login("officer")
    client.submit(
        f"/complaints/{complaint_id}/resolve",
        {"resolution": "已核对，多收的利息下月抵扣。"},
        page="/complaints/",
    )
    resolved = load(app, Complaint, complaint_id)
    assert (
        resolved.status == ComplaintStatus.RESOLVED and resolved.resolved_by_id == world.officer.id
    )
    client.logout()

    client.login("borrower")
    assert "已核对，多收的利息下月抵扣。" in text(client.get(page))
    client.submit(
        f"{page}/verdict", {"verdict": "reopen", "reason": "我要退款，不要抵扣"}, page=page
    )
    reopened = load(app, Complaint, complaint_id)
    assert reopened.status == ComplaintStatus.OPEN and reopened.reopen_count == 1
    assert (
        reopened.resolution == "" and reopened.respond_by > resolved.respond_by
    )  # a fresh deadline
    client.logout()

    client.login("officer")
    assert "我要退款，不要抵扣" in text(client.get(f"/complaints/{complaint_id}"))
    client.submit(
        f"/complaints/{complaint_id}/resolve",
        {"resolution": "已安排退款两百元到您的账户。"},
        page="/complaints/",
    )
    client.logout()

    client.login("borrower")
    client.submit(f"{page}/verdict", {"verdict": "satisfied"}, page=page)
    closed = load(app, Complaint, complaint_id)
    assert closed.status == ComplaintStatus.CLOSED and closed.closed_at is not None
    english(client)
    again = client.submit(
        f"{page}/verdict",
        {"verdict": "reopen", "reason": "还是不满意啊"},
        page=page,
        follow_redirects=True,
    )
    assert "Only an answered complaint can be reopened." in flashed(text(again))
    assert load(app, Complaint, complaint_id).status == ComplaintStatus.CLOSED
    with app.app_context():
        steps = db.session.scalars(
            sa.select(ComplaintEvent.action)
            .where(ComplaintEvent.complaint_id == complaint_id)
            .order_by(ComplaintEvent.id)
        ).all()
    assert steps == ["filed", "resolved", "reopened", "resolved", "closed"]
    assert count(app, Notice, Notice.event == "complaint.resolved") == 2


@pytest.mark.parametrize(
    ("changes", "english_error", "chinese_error"),
    [
        ({"category": ""}, "Choose what the complaint is about.", "请选择投诉类别。"),
        ({"category": "weather"}, "Choose what the complaint is about.", "请选择投诉类别。"),
        ({"severity": "apocalyptic"}, "Choose how serious it is.", "请选择严重程度。"),
        ({"subject": ""}, "Enter a short subject.", "请填写简短的标题。"),
        (
            {"description": "太慢"},
            "Write between 10 and 4000 characters.",
            "请填写 10 到 4000 个字。",
        ),
    ],
)
def test_complaint_form_refuses_bad_input(
    client, world, app, changes, english_error, chinese_error
):
    client.login("borrower")
    page = text(_file(client, **changes))
    assert chinese_error in page and "请更正标出的字段" in page
    english(client)
    page = text(_file(client, **changes))
    assert english_error in page
    if changes.get("subject", "x"):
        assert "利息算得不对" in page
    assert count(app, Complaint) == 0 and count(app, ComplaintEvent) == 0


def test_verdict_and_resolution_forms_refuse_bad_input(client, world, app):
    complaint_id = _filed(app, world.own_borrower.id)
    client.login("officer")
    page = text(
        client.submit(
            f"/complaints/{complaint_id}/resolve", {"resolution": ""}, page="/complaints/"
        )
    )
    assert "请填写给借款人的答复。" in page
    assert load(app, Complaint, complaint_id).status == ComplaintStatus.OPEN
    client.submit(
        f"/complaints/{complaint_id}/resolve",
        {"resolution": "已核对，多收的利息下月抵扣。"},
        page="/complaints/",
    )
    client.logout()
    client.login("borrower")
    page = f"/me/complaints/{complaint_id}"
    assert "请简单说明您不满意的原因。" in text(
        client.submit(f"{page}/verdict", {"verdict": "reopen", "reason": ""}, page=page)
    )
    english(client)
    assert "Choose one of the two answers." in text(
        client.submit(f"{page}/verdict", {"verdict": "maybe"}, page=page)
    )
    assert "Tell us in a few words why you are not satisfied." in text(
        client.submit(f"{page}/verdict", {"verdict": "reopen", "reason": " "}, page=page)
    )
    assert load(app, Complaint, complaint_id).status == ComplaintStatus.RESOLVED
    assert count(app, ComplaintEvent) == 2


def test_nobody_sees_or_acts_on_a_complaint_that_is_not_theirs(client, world, app):
    theirs = _filed(app, world.foreign_borrower.id)
    ours = _filed(app, world.own_borrower.id)
    client.login("borrower")
    assert client.get(f"/me/complaints/{theirs}").status_code == 403
    assert (
        client.submit(
            f"/me/complaints/{theirs}/verdict", {"verdict": "satisfied"}, page="/me/complaints"
        ).status_code
        == 403
    )
    assert f"/me/complaints/{theirs}" not in text(client.get("/me/complaints"))
    client.logout()
    for login in ("otherhead", "otherofficer"):
        client.login(login)
        assert client.get(f"/complaints/{ours}").status_code == 403
        assert f"/complaints/{ours}" not in text(client.get("/complaints/?status=all"))
        assert (
            client.submit(
                f"/complaints/{ours}/resolve",
                {"resolution": "别的网点替你答复了"},
                page="/complaints/",
            ).status_code
            == 403
        )
        assert client.submit(f"/complaints/{ours}/escalate", page="/complaints/").status_code == 403
        client.logout()
    assert load(app, Complaint, ours).status == ComplaintStatus.OPEN
    assert not load(app, Complaint, ours).escalated


def test_overdue_complaints_are_flagged_in_the_list(client, world, app):
    late = _filed(app, world.own_borrower.id, filed_at=LATE_MONDAY)
    fresh = _filed(app, world.own_borrower.id)
    client.login("head")
    page = text(client.get("/complaints/"))
    rows = {cid: page.split(f"/complaints/{cid}")[1].split("</tr>")[0] for cid in (late, fresh)}
    assert 'data-testid="overdue"' in rows[late] and 'data-testid="overdue"' not in rows[fresh]


def _ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(sa.select(Complaint.id).order_by(Complaint.id)).all()


def test_a_complaint_follows_its_borrower_to_the_new_officer(client, world, app):
    complaint_id = _filed(app, world.own_borrower.id)
    successor = new_officer(app, world)
    reassign_as_head(client, world.own_borrower.id, successor)
    detail = f"/complaints/{complaint_id}"

    client.login("officer")  # the former officer no longer sees nor answers it
    assert client.get(detail).status_code == 403
    assert detail not in text(client.get("/complaints/"))
    for action, data in (("resolve", {"resolution": "我已经核对过了"}), ("escalate", {})):
        response = client.submit(f"{detail}/{action}", data, page="/complaints/")
        assert response.status_code == 403
    assert load(app, Complaint, complaint_id).status == ComplaintStatus.OPEN
    client.logout()

    client.login("successor")  # the new officer does
    listing = text(client.get("/complaints/"))
    assert detail in listing and 'data-testid="complaint-count"' in listing
    assert client.get(detail).status_code == 200
    response = client.submit(
        f"{detail}/resolve", {"resolution": "已核对并退还多收的利息"}, page=detail
    )
    assert response.status_code == 302
    resolved = load(app, Complaint, complaint_id)
    assert resolved.status == ComplaintStatus.RESOLVED and resolved.resolved_by_id == successor
