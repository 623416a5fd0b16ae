"""The officers' morning: the visits due and overdue, in the portal and by SMS if wanted."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.branches.models import Branch
from portal.care.models import OutboxMessage
from portal.core.calendar import current_month, local_today
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.reminders import operations, queries, texts
from portal.reminders.models import StaffNotice, StaffSms
from portal.visits.compliance import officer_month
from tests.factories import make_borrower, make_loan, make_user
from tests.visits.conftest import SHANGHAI
from tests.visits.helpers import make_visit
from tests.visits.test_query_counts import counted


@pytest.fixture
def month_of_visits(app, world):
    """The officer owes: the World's borrower (missed last month: overdue), two visited
    last month only (due), one visited this month (done)."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        start, _ = current_month().bounds(SHANGHAI)
        for i in range(3):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE)
            make_visit(borrower, officer, start - timedelta(days=10, hours=i))
            if i == 2:
                make_visit(borrower, officer, min(start + timedelta(minutes=5), utcnow()))
        db.session.commit()


def _morning(app, day=None) -> int:
    with app.app_context():
        told = operations.morning_visits(day or local_today())
        db.session.commit()
        return told


def _notices(app) -> dict[int, dict]:
    with app.app_context():
        rows = db.session.scalars(sa.select(StaffNotice).where(StaffNotice.kind == texts.MORNING))
        return {row.user_id: row.params for row in rows}


def test_each_officer_hears_of_their_due_and_overdue_visits_once(app, world, month_of_visits):
    with app.app_context():
        summary = officer_month(world.officer.id)
        month, today = current_month(), local_today()
    assert (len(summary.overdue), len(summary.due)) == (1, 2)

    assert _morning(app) == 2  # the officer, and the other branch's (its borrower is overdue)
    assert _morning(app) == 0  # a second run the same morning tells nobody again
    notices = _notices(app)
    assert set(notices) == {world.officer.id, world.other_officer.id}
    mine = notices[world.officer.id]
    assert (mine["overdue"], mine["due"]) == (1, 2)
    assert mine["days_left"] == (month.last_day - today).days + 1
    assert (notices[world.other_officer.id]["overdue"], notices[world.other_officer.id]["due"]) == (
        1,
        0,
    )


def test_nobody_with_nothing_due_is_disturbed_nor_an_inactive_officer(app, world):
    with app.app_context():
        branch = db.session.get(Branch, world.branch.id)
        make_user("idle", Role.OFFICER, branch)
        gone = make_user("gone", Role.OFFICER, branch)
        make_loan(make_borrower(gone), LoanStatus.ACTIVE)
        gone.active = False
        db.session.commit()
    _morning(app)
    with app.app_context():
        idle, gone = (
            db.session.scalar(sa.select(User.id).filter_by(username=n)) for n in ("idle", "gone")
        )
    assert idle not in _notices(app) and gone not in _notices(app)
    assert world.officer.id in _notices(app)


def test_the_counts_come_from_one_grouped_query(app, world, month_of_visits):
    with counted(app) as statements, app.app_context():
        due = queries.officers_due(local_today())
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == statements[-1:]
    assert "GROUP BY" in statements[-1]
    assert {(d.officer_id, d.overdue, d.due) for d in due} == {
        (world.officer.id, 1, 2),
        (world.other_officer.id, 1, 0),
    }


def test_an_officer_who_opted_in_is_texted_in_their_language(app, world, month_of_visits):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        officer.locale = "en"
        db.session.add(StaffSms(user_id=officer.id, mobile="13812345678", opted_in=True))
        db.session.add(
            StaffSms(user_id=world.other_officer.id, mobile="13987654321", opted_in=False)
        )
        db.session.commit()
    _morning(app)
    _morning(app)
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert [(r.user_id, r.occasion_code, r.mobile, r.locale) for r in rows] == [
            (world.officer.id, "visits_morning", "13812345678", "en")
        ]
        body, values = rows[0].body, rows[0].template_values
    assert (values["name"], values["overdue"], values["due"]) == ("officer", "1", "2")
    assert set(values) == {"name", "date", "overdue", "due", "days_left", "link"}
    assert body.startswith("officer: Visits on ")
    assert "1 borrower overdue from last month; 2 borrowers still to visit this month;" in body


def test_the_month_page_shows_this_mornings_reminder(app, client, world, month_of_visits):
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    assert 'data-testid="morning-reminder"' not in client.get("/").get_data(as_text=True)
    _morning(app)
    page = client.get("/visits/month").get_data(as_text=True)
    banner = page.split('data-testid="morning-reminder"')[1].split("</div>")[0]
    assert "This morning's reminder" in banner
    assert "1 borrower overdue from last month" in banner
    # The reminders page lists it, and reading marks it read.
    assert "2 borrowers still to visit this month" in client.get("/reminders/").get_data(
        as_text=True
    )
    client.submit("/reminders/read", page="/reminders/")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(StaffNotice)
                .where(StaffNotice.read_at.is_(None))
            )
            == 1
        )  # the other officer's
