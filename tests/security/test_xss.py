"""Hostile text typed into every free-text field comes back escaped, to every reader."""

import re

import pytest
import sqlalchemy as sa

from portal.complaints.models import Complaint
from portal.extensions import db
from portal.loans.models import Loan
from portal.services.models import ServiceRequest
from portal.visits.models import Visit
from tests.services.helpers import send_request

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'<style>*{}</style>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
LIVE_MARKUP = re.compile(r"<script>alert|<img src=x|<style>\*")


def _assert_escaped(page: str, where: str, shown: bool = True) -> None:
    """No live markup; on detail pages (``shown``) the text itself is there, escaped."""
    assert not LIVE_MARKUP.search(page), f"live markup on {where}"
    if shown:
        assert ESCAPED in page, f"payload not shown (escaped) on {where}"


def _only_id(app, model) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(model.id).order_by(model.id.desc())).first()


@pytest.fixture
def hostile_visit(app, client, world, visit_form) -> int:
    client.login("officer")
    response = client.submit(
        f"/borrowers/{world.own_borrower.id}/visits/new",
        visit_form(
            place=PAYLOAD[:190],
            household_changes=PAYLOAD,
            officer_observations=PAYLOAD,
            borrower_opinions=PAYLOAD,
            services_needed=["other"],
            services_other=PAYLOAD[:190],
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    client.logout()
    return _only_id(app, Visit)


def test_visit_answers_are_escaped_for_officer_head_and_borrower(app, client, world, hostile_visit):
    for username in ("officer", "head", "borrower"):
        client.login(username)
        page = client.get(f"/visits/{hostile_visit}").get_data(as_text=True)
        _assert_escaped(page, f"visit detail as {username}")
        client.logout()


def test_service_request_and_complaint_text_is_escaped_for_staff(app, client, world):
    client.login("borrower")
    kind = "legal_services"
    assert (
        send_request(
            client, {"kind": kind, "description": PAYLOAD, "preferred_time": PAYLOAD[:90]}
        ).status_code
        == 302
    )
    assert (
        client.submit(
            "/me/complaints/new",
            {
                "category": "process",
                "severity": "serious",
                "subject": PAYLOAD[:190],
                "description": PAYLOAD,
            },
        ).status_code
        == 302
    )
    client.logout()
    request_id, complaint_id = _only_id(app, ServiceRequest), _only_id(app, Complaint)
    client.login("head")
    for path, shown in (
        (f"/services/requests/{request_id}", True),
        (f"/complaints/{complaint_id}", True),
        ("/services/queue", False),  # lists show a shortened line
        ("/complaints/", False),
    ):
        _assert_escaped(client.get(path).get_data(as_text=True), path, shown)


def test_loan_purpose_is_escaped(app, client, world):
    client.login("officer")
    response = client.submit(
        f"/borrowers/{world.own_borrower.id}/loans/new",
        {
            "amount": "30000",
            "term_months": "12",
            "annual_rate_percent": "8.5",
            "purpose": PAYLOAD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    loan_id = _only_id(app, Loan)
    for path, shown in (
        (f"/loans/{loan_id}", True),
        (f"/borrowers/{world.own_borrower.id}", False),
    ):
        _assert_escaped(client.get(path).get_data(as_text=True), path, shown)
