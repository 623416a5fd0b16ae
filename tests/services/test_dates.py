"""Dates that make sense: nothing is held or completed before its day; no absurd years."""

from datetime import timedelta

import pytest
from babel.dates import format_date

from portal.core.calendar import local_today
from portal.extensions import db
from portal.services.models import ServiceRequest, ServiceSession, ServiceStatus
from portal.services.operations import add_to_session, assign
from tests.services.helpers import count, english, flashed, load, text
from tests.services.records import make_request, make_session

SESSION_EARLY = (
    "This session is on {date}: attendance and completion can be recorded from that day on."
)
REQUEST_EARLY = "This request is planned for {date}: it can be marked completed from that day on."


def _session_in(app, world, days: int) -> tuple[int, int]:
    """A session ``days`` from today of the officer's, serving one request of their borrower."""
    with app.app_context():
        session = make_session(
            world.branch.id, world.officer.id, held_on=local_today() + timedelta(days=days)
        )
        request = make_request(world.own_borrower.id)
        add_to_session(session, [request], None)
        db.session.commit()
        return session.id, request.id


def _shown(day) -> str:
    """``day`` as the English pages show it."""
    return format_date(day, "d MMM y", locale="en")


def test_a_session_two_weeks_ahead_cannot_be_held_or_completed(client, world, app):
    session_id, request_id = _session_in(app, world, 14)
    page = f"/services/sessions/{session_id}"
    with app.app_context():
        held_on = db.session.get(ServiceSession, session_id).held_on
    client.login("officer")  # the organizer
    english(client)
    early = SESSION_EARLY.format(date=_shown(held_on))
    shown = text(client.get(page))
    assert early in shown
    assert f"{page}/attendance" not in shown and f"{page}/complete" not in shown

    response = client.submit(f"{page}/attendance", {"attended": [str(request_id)]}, page=page)
    assert early in flashed(text(client.get(response.headers["Location"])))
    response = client.submit(f"{page}/complete", page=page)
    assert early in flashed(text(client.get(response.headers["Location"])))

    assert load(app, ServiceSession, session_id).completed_at is None
    waiting = load(app, ServiceRequest, request_id)
    assert waiting.status == ServiceStatus.ACCEPTED and waiting.attended is None
    client.logout()
    client.login("borrower")  # nobody asks the borrower to rate a class that has not happened
    assert 'name="rating"' not in text(client.get(f"/me/services/{request_id}"))


def test_a_session_is_held_and_completed_on_its_day(client, world, app):
    session_id, request_id = _session_in(app, world, 0)
    page = f"/services/sessions/{session_id}"
    client.login("officer")
    assert f"{page}/attendance" in text(client.get(page))
    client.submit(f"{page}/attendance", {"attended": [str(request_id)]}, page=page)
    assert client.submit(f"{page}/complete", page=page).status_code == 302
    assert load(app, ServiceSession, session_id).completed_at is not None
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.COMPLETED


@pytest.mark.parametrize("days", [1, 14])
def test_a_request_cannot_be_completed_before_its_planned_day(client, world, app, days):
    with app.app_context():
        planned = local_today() + timedelta(days=days)
        request = make_request(world.own_borrower.id)
        assign(request, request.borrower.officer, planned, None)
        request_id = request.id
        db.session.commit()
    page = f"/services/requests/{request_id}"
    client.login("officer")
    english(client)
    early = REQUEST_EARLY.format(date=_shown(planned))
    shown = text(client.get(page))
    assert early in shown and f"{page}/complete" not in shown
    response = client.submit(f"{page}/complete", {"notes": "提前讲解了合同条款"}, page=page)
    assert early in flashed(text(client.get(response.headers["Location"])))
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.ACCEPTED
    assert count(app, ServiceRequest, ServiceRequest.completed_at.is_not(None)) == 0


def test_the_head_can_move_the_plan_to_today_to_complete_early(client, world, app):
    with app.app_context():
        request = make_request(world.own_borrower.id)
        assign(request, request.borrower.officer, local_today() + timedelta(days=5), None)
        request_id = request.id
        db.session.commit()
    page = f"/services/requests/{request_id}"
    client.login("head")
    today = local_today_iso(app)
    data = {"assignee_id": str(world.officer.id), "planned_on": today}
    assert client.submit(f"{page}/assign", data, page=page).status_code == 302
    response = client.submit(f"{page}/complete", {"notes": "提前讲解了合同条款"}, page=page)
    assert response.status_code == 302
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.COMPLETED


def local_today_iso(app) -> str:
    with app.app_context():
        return local_today().isoformat()


BOUNDS = "Enter a date between 1 Jan 1900 and 31 Dec 2100."


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-01-01&to=9999-12-31",
        "from=0001-01-01&to=0001-02-01",
        "from=2026-01-01&to=2101-01-01",
    ],
)
def test_the_satisfaction_period_refuses_absurd_years(client, world, app, query):
    client.login("head")
    english(client)
    response = client.get(f"/services/satisfaction?{query}")
    assert response.status_code == 200
    assert BOUNDS in text(response)


@pytest.mark.parametrize(
    ("url", "field"),
    [("/services/sessions/new", "held_on"), ("/services/requests/{id}/assign", "planned_on")],
)
def test_plan_dates_refuse_absurd_years(client, world, app, url, field):
    with app.app_context():
        request_id = make_request(world.own_borrower.id).id
        db.session.commit()
    client.login("head")
    english(client)
    data = {
        "branch_id": str(world.branch.id),
        "title": "培训班",
        "kind": "technique_training",
        "place": "农技站",
        "trainer": "王技术员",
        "organizer_id": str(world.officer.id),
        "assignee_id": str(world.officer.id),
        field: "9999-12-31",
    }
    page = text(client.submit(url.format(id=request_id), data, page="/services/queue"))
    assert BOUNDS in page
    assert count(app, ServiceSession) == 0
    assert load(app, ServiceRequest, request_id).status == ServiceStatus.SUBMITTED
