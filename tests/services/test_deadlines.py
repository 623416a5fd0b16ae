"""First-response deadlines and overdue flags, with pinned dates (Asia/Shanghai)."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.services import queries
from portal.services.models import ServiceRequest, ServiceStatus
from tests.services.helpers import load, text
from tests.services.records import make_request

# Monday 2 March 2026, 23:30 in Shanghai.
LATE_MONDAY = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def test_deadline_counts_whole_local_days_from_the_kind(app, world):
    with app.app_context():
        technique = make_request(world.own_borrower.id, submitted_at=LATE_MONDAY)  # 7 days
        legal = make_request(world.own_borrower.id, "legal_services", submitted_at=LATE_MONDAY)  # 3
        # Due before local midnight starting Tuesday 10 March / Friday 6 March.
        assert technique.respond_by == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
        assert legal.respond_by == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
        # Half an hour later it is Tuesday in Shanghai: one more day to answer.
        tuesday = make_request(
            world.own_borrower.id,
            "legal_services",
            submitted_at=LATE_MONDAY + timedelta(minutes=30),
        )
        assert tuesday.respond_by == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def test_an_edited_deadline_applies_to_new_requests(client, world, app):
    client.login("admin")
    client.submit(
        "/admin/services/kinds/legal_services",
        {
            "name_zh": "法律服务",
            "name_en": "Legal services",
            "response_days": "1",
            "position": "6",
            "active": "y",
        },
    )
    with app.app_context():
        request = make_request(world.own_borrower.id, "legal_services", submitted_at=LATE_MONDAY)
        assert request.respond_by == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_overdue_is_exact_at_the_deadline_and_ends_with_an_answer(app, world):
    with app.app_context():
        request = make_request(world.own_borrower.id, "legal_services", submitted_at=LATE_MONDAY)
        deadline = request.respond_by
        db.session.commit()
        user = db.session.get(ServiceRequest, request.id).borrower.officer

        def overdue_in_sql(now):
            rows = db.session.scalars(queries.queue(user, "open", True, now=now)).all()
            return [row.id for row in rows]

        just_before, just_after = deadline - timedelta(seconds=1), deadline + timedelta(seconds=1)
        assert not request.is_overdue(just_before) and overdue_in_sql(just_before) == []
        assert request.is_overdue(just_after) and overdue_in_sql(just_after) == [request.id]
        listed = db.session.scalars(queries.queue(user, "open", False, now=just_after)).one()
        assert listed.listed_overdue


def test_queue_flags_overdue_requests_and_not_answered_ones(client, world, app):
    long_ago = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    with app.app_context():
        late = make_request(world.own_borrower.id, submitted_at=long_ago).id
        answered_late = make_request(
            world.own_borrower.id, "legal_services", ServiceStatus.ACCEPTED, submitted_at=long_ago
        ).id
        fresh = make_request(world.own_borrower.id, "wealth_management").id
        db.session.commit()
    client.login("head")
    page = text(client.get("/services/queue"))
    rows = {
        rid: page.split(f"/services/requests/{rid}")[1].split("</tr>")[0]
        for rid in (late, answered_late, fresh)
    }
    assert 'data-testid="overdue"' in rows[late]
    assert 'data-testid="overdue"' not in rows[answered_late]
    assert 'data-testid="overdue"' not in rows[fresh]
    overdue_only = text(client.get("/services/queue?status=new&overdue=1"))
    assert (
        f"/services/requests/{late}" in overdue_only
        and f"/services/requests/{fresh}" not in overdue_only
    )
    assert "text-bg-danger svc-nav-badge" in page  # the menu badge turns red
    assert 'data-testid="overdue"' in text(client.get(f"/services/requests/{late}"))


def test_each_step_keeps_its_timestamp(app, world):
    with app.app_context():
        request_id = make_request(world.own_borrower.id, status=ServiceStatus.RATED).id
        db.session.commit()
    rated = load(app, ServiceRequest, request_id)
    assert rated.submitted_at <= rated.accepted_at <= rated.completed_at <= rated.rated_at
    with app.app_context():
        times = db.session.scalars(
            sa.text("SELECT count(*) FROM service_events WHERE request_id = :id"),
            {"id": request_id},
        ).one()
    assert times == 4
