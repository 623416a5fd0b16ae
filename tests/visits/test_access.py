"""Who sees and amends which visits: officer their borrowers, head the branch, borrower self."""

from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import make_borrower, make_loan, make_user
from tests.visits.conftest import count_visits
from tests.visits.helpers import make_visit


@pytest.fixture
def visits(app, world) -> dict:
    """A visit of the officer's borrower and one of a colleague's borrower in the same branch."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        colleague = make_user("colleague", Role.OFFICER, officer.branch)
        theirs = make_borrower(colleague)
        make_loan(theirs, LoanStatus.ACTIVE)
        when = utcnow() - timedelta(days=2)
        own = make_visit(db.session.get(Borrower, world.own_borrower.id), officer, when)
        other = make_visit(theirs, colleague, when)
        db.session.commit()
        return {"own": own.id, "colleague": other.id, "colleague_borrower": theirs.id}


def _status(client, path: str) -> int:
    return client.get(path).status_code


@pytest.mark.parametrize(
    "path",
    [
        "/visits/{colleague}",
        "/visits/{colleague}/signature.png",
        "/visits/{colleague}/amend",
        "/borrowers/{colleague_borrower}/visits",
        "/borrowers/{colleague_borrower}/visits/new",
    ],
)
def test_an_officer_cannot_open_a_colleagues_visits(client, world, visits, path):
    client.login("officer")
    assert _status(client, path.format(**visits)) == 403
    client.logout()
    client.login("colleague")
    assert _status(client, path.format(**visits)) == 200


def test_an_officer_cannot_record_a_visit_for_a_colleagues_borrower(
    client, world, app, visits, visit_form
):
    client.login("officer")
    response = client.submit(
        f"/borrowers/{visits['colleague_borrower']}/visits/new", visit_form(), page="/visits/month"
    )
    assert response.status_code == 403
    assert count_visits(app) == 2


def test_the_head_sees_the_branch_and_no_other(client, world, visits):
    client.login("head")
    assert _status(client, f"/visits/{visits['colleague']}") == 200
    assert _status(client, f"/visits/{visits['own']}/amend") == 200
    client.logout()
    client.login("otherhead")
    assert _status(client, f"/visits/{visits['own']}") == 403
    assert _status(client, f"/visits/{visits['own']}/signature.png") == 403


def test_the_borrower_reads_only_their_own_signed_visits(client, world, visits):
    client.login("borrower")
    mine = client.get("/me/visits").text
    assert f"/visits/{visits['own']}" in mine and f"/visits/{visits['colleague']}" not in mine
    assert "/visits/new" not in mine  # read-only
    detail = client.get(f"/visits/{visits['own']}").text
    assert "amend" not in detail and 'name="action_taken"' not in detail
    assert _status(client, f"/visits/{visits['own']}/signature.png") == 200
    assert _status(client, f"/visits/{visits['colleague']}") == 403
    assert _status(client, f"/borrowers/{visits['colleague_borrower']}/visits") == 403
    assert _status(client, f"/borrowers/{world.own_borrower.id}/visits/new") == 403


def _timeline(app, username: str, borrower_id: int) -> str:
    with app.test_request_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        login_user(user)
        borrower = db.session.get(Borrower, borrower_id)
        return render_template("visits/_borrower_visits.html", borrower=borrower)


def test_the_timeline_partial_links_each_visit(app, world, visits):
    for username, all_visits in (("officer", "/borrowers/"), ("borrower", "/me/visits")):
        html = _timeline(app, username, world.own_borrower.id)
        assert f'href="/visits/{visits["own"]}"' in html
        assert all_visits in html
    with app.test_request_context():
        login_user(db.session.get(User, world.officer.id))
        empty = render_template(
            "visits/_borrower_visits.html",
            borrower=db.session.get(Borrower, world.foreign_borrower.id),
        )
    assert "还没有贷后走访记录。" in empty
