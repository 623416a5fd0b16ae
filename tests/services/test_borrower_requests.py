"""The borrower's own pages: request a service, follow it, rate it, read notices."""

import pytest

from portal.notices.models import Notice
from portal.services.models import ServiceRequest, ServiceStatus
from tests.services.helpers import count, english, flashed, load, send_request, text
from tests.services.records import make_request


def _request_for(app, borrower_id):
    with app.app_context():
        from portal.extensions import db

        return db.session.scalars(
            db.select(ServiceRequest).where(ServiceRequest.borrower_id == borrower_id)
        ).all()


def test_borrower_requests_a_service_and_follows_it(client, world, app):
    client.login("borrower")
    response = send_request(
        client,
        {
            "kind": "technique_training",
            "description": "想学母猪产后护理",
            "preferred_time": "周末上午",
        },
    )
    assert response.status_code == 302
    [created] = _request_for(app, world.own_borrower.id)
    assert created.status == ServiceStatus.SUBMITTED
    assert created.source.value == "portal" and created.branch_id == world.branch.id
    assert response.headers["Location"] == f"/me/services/{created.id}"
    page = text(client.get(f"/me/services/{created.id}"))
    assert "想学母猪产后护理" in page and "周末上午" in page
    assert "已收到申请" in page  # the history's first step
    listing = text(client.get("/me/services"))
    assert f"/me/services/{created.id}" in listing


@pytest.mark.parametrize(
    ("data", "english_error", "chinese_error"),
    [
        (
            {"kind": "technique_training", "description": ""},
            "Please describe what you need.",
            "请简单描述您的需要。",
        ),
        ({"kind": "", "description": "想学养猪技术"}, "Choose a service.", "请选择一项服务。"),
        ({"kind": "bogus", "description": "想学养猪技术"}, "Choose a service.", "请选择一项服务。"),
        (
            {"kind": "legal_services", "description": "合同", "preferred_time": ""},
            "Write between 5 and 1000 characters.",
            "请填写 5 到 1000 个字。",
        ),
        (
            {
                "kind": "legal_services",
                "description": "借款合同的问题",
                "preferred_time": "x" * 101,
            },
            "At most 100 characters.",
            "最多 100 个字。",
        ),
    ],
)
def test_request_form_refuses_bad_input_in_both_languages(
    client, world, app, data, english_error, chinese_error
):
    client.login("borrower")
    page = text(send_request(client, data))
    assert chinese_error in page and "请更正标出的字段" in page
    english(client)
    page = text(send_request(client, data))
    assert english_error in page
    if data["description"]:
        assert data["description"] in page  # what was typed is kept
    assert count(app, ServiceRequest) == 0


def test_inactive_kinds_are_not_offered(client, world, app):
    client.login("admin")
    client.submit(
        "/admin/services/kinds/computer_training",
        {
            "name_zh": "计算机培训",
            "name_en": "Computer training",
            "response_days": "7",
            "position": "3",
        },
    )
    client.logout()
    client.login("borrower")
    assert 'value="computer_training"' not in text(client.get("/me/services/new"))
    page = text(send_request(client, {"kind": "computer_training", "description": "学电脑"}))
    assert "请选择一项服务" in page
    assert count(app, ServiceRequest) == 0


def test_borrower_rates_a_completed_service_once(client, world, app):
    with app.app_context():
        from portal.extensions import db

        done = make_request(world.own_borrower.id, status=ServiceStatus.COMPLETED).id
        db.session.commit()
    client.login("borrower")
    page = text(client.get(f"/me/services/{done}"))
    assert 'name="rating"' in page
    response = client.submit(
        f"/me/services/{done}/rate",
        {"rating": "5", "comment": "讲得很清楚"},
        page=f"/me/services/{done}",
    )
    assert response.status_code == 302
    rated = load(app, ServiceRequest, done)
    assert (rated.status, rated.rating, rated.rating_comment) == (
        ServiceStatus.RATED,
        5,
        "讲得很清楚",
    )
    assert rated.rated_at is not None
    again = client.submit(
        f"/me/services/{done}/rate",
        {"rating": "1"},
        page=f"/me/services/{done}",
        follow_redirects=True,
    )
    assert "只有已完成的申请才能评价，且只能评价一次。" in flashed(text(again))
    assert load(app, ServiceRequest, done).rating == 5


@pytest.mark.parametrize("rating", ["", "0", "6", "abc"])
def test_rating_outside_one_to_five_is_refused(client, world, app, rating):
    with app.app_context():
        from portal.extensions import db

        done = make_request(world.own_borrower.id, status=ServiceStatus.COMPLETED).id
        db.session.commit()
    client.login("borrower")
    page = text(
        client.submit(f"/me/services/{done}/rate", {"rating": rating}, page=f"/me/services/{done}")
    )
    assert "请选择 1 到 5 分。" in page or "不是有效的选择" in page
    english(client)
    page = text(
        client.submit(f"/me/services/{done}/rate", {"rating": rating}, page=f"/me/services/{done}")
    )
    assert "Choose a rating from 1 to 5." in page or "Not a valid choice." in page
    assert load(app, ServiceRequest, done).status == ServiceStatus.COMPLETED


def test_a_request_not_yet_completed_cannot_be_rated(client, world, app):
    with app.app_context():
        from portal.extensions import db

        waiting = make_request(world.own_borrower.id).id
        db.session.commit()
    client.login("borrower")
    english(client)
    response = client.submit(
        f"/me/services/{waiting}/rate",
        {"rating": "5"},
        page=f"/me/services/{waiting}",
        follow_redirects=True,
    )
    assert "Only a completed request can be rated, and only once." in flashed(text(response))
    assert load(app, ServiceRequest, waiting).rating is None


def test_borrower_cannot_see_or_rate_another_borrowers_request(client, world, app):
    with app.app_context():
        from portal.extensions import db

        theirs = make_request(world.foreign_borrower.id, status=ServiceStatus.COMPLETED).id
        db.session.commit()
    client.login("borrower")
    assert client.get(f"/me/services/{theirs}").status_code == 403
    assert client.get("/me/services/999999").status_code == 404
    response = client.submit(f"/me/services/{theirs}/rate", {"rating": "1"}, page="/me/services")
    assert response.status_code == 403
    assert load(app, ServiceRequest, theirs).status == ServiceStatus.COMPLETED
    assert f"/me/services/{theirs}" not in text(client.get("/me/services"))


def test_notices_tell_the_borrower_what_changed_and_can_be_marked_read(client, world, app):
    with app.app_context():
        from portal.extensions import db

        make_request(
            world.own_borrower.id, status=ServiceStatus.ACCEPTED, assignee_id=world.officer.id
        )
        make_request(world.foreign_borrower.id, status=ServiceStatus.DECLINED)
        db.session.commit()
    client.login("borrower")
    home = text(client.get("/me/services"))
    assert 'data-testid="notice-count"' in home
    english(client)
    page = text(client.get("/me/notices"))
    assert "Your request for Planting / breeding technique training was accepted" in page
    assert "declined" not in page  # the other borrower's notice stays theirs
    client.submit("/me/notices/read", page="/me/notices")
    assert (
        count(app, Notice, Notice.read_at.is_(None), Notice.borrower_id == world.own_borrower.id)
        == 0
    )
    assert 'data-testid="notice-count"' not in text(client.get("/me/services"))
