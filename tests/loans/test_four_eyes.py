"""Four eyes on disbursement (docs/lifecycle.md): the disbursement one person records, a
second confirms (or returns); the schedule is stored at the confirmation."""

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.branches.models import Branch
from portal.core.calendar import Month
from portal.extensions import db
from portal.loans.models import Loan, LoanEvent, LoanInstalment, LoanStatus
from portal.loans.schedule import RepaymentMethod, schedule
from portal.reports.queries import disbursed_loans, loan_figures
from portal.tiers.facts import loan_rows
from portal.visits import counts
from portal.visits.compliance import branch_trend
from tests.factories import make_borrower, make_loan, make_user
from tests.loans.helpers import (
    audit_actions,
    english,
    events,
    get_loan,
    iso,
    new_loan,
    snapshot,
    today,
)


@pytest.fixture
def colleague(app, world) -> None:
    """A second head of the World's branch."""
    with app.app_context():
        make_user("head2", Role.HEAD, db.session.get(Branch, world.branch.id))
        db.session.commit()


def _login(client, username: str) -> None:
    client.login(username)
    english(client)


def _version_on(page: str) -> str:
    """The loan version the check form carries."""
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def _check(client, loan_id: int, what: str = "confirm", **data):
    """Open the check page and submit it as shown, as a browser would."""
    url = f"/loans/{loan_id}/{what}-disbursement"
    page = client.get(url).get_data(as_text=True)
    return client.submit(url, {"version": _version_on(page), **data})


def _recorded(app, client, world, username: str = "officer", **loan) -> int:
    """A contracted loan whose disbursement ``username`` records today, through the page."""
    loan_id = new_loan(app, world, LoanStatus.CONTRACTED, **loan)
    _login(client, username)
    assert (
        client.submit(f"/loans/{loan_id}/disburse", {"disbursed_on": iso(app)}).status_code == 302
    )
    client.logout()
    return loan_id


def test_the_head_who_recorded_a_disbursement_cannot_check_it(app, client, world):
    loan_id = _recorded(app, client, world, "head")
    assert get_loan(app, loan_id).status == LoanStatus.DISBURSING
    _login(client, "head")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/confirm-disbursement" not in page
    assert f"/loans/{loan_id}/return-disbursement" not in page
    assert "You recorded it yourself" in page
    before = snapshot(app, loan_id)
    version = str(get_loan(app, loan_id).version)
    for what, data in (("confirm", {}), ("return", {"reason": "日期写错"})):
        url = f"/loans/{loan_id}/{what}-disbursement"
        response = client.get(url, follow_redirects=True)
        assert "You recorded this disbursement yourself" in response.get_data(as_text=True)
        response = client.submit(
            url, {"version": version, **data}, page=f"/loans/{loan_id}", follow_redirects=True
        )
        page = response.get_data(as_text=True)
        assert "another head of the branch or an admin must confirm or return it" in page
        assert snapshot(app, loan_id) == before


@pytest.mark.parametrize("checker", ["head2", "admin"])
def test_another_head_or_an_admin_confirms_what_a_head_recorded(
    app, client, world, colleague, checker
):
    loan_id = _recorded(app, client, world, "head")
    _login(client, checker)
    response = _check(client, loan_id)
    assert response.status_code == 302 and response.headers["Location"] == f"/loans/{loan_id}"
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.ACTIVE
    assert loan.disbursement_recorded_by_id == world.head.id
    with app.app_context():
        checker_id = db.session.scalar(sa.select(User.id).where(User.username == checker))
    assert loan.disbursement_confirmed_by_id == checker_id
    assert events(app, loan_id)[-2:] == [
        ("disburse", "contracted", "disbursing"),
        ("confirm_disbursement", "disbursing", "active"),
    ]
    assert audit_actions(app, loan_id)[-2:] == ["loan.disburse", "loan.confirm_disbursement"]
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    recorded = re.search(r'data-testid="disbursement-recorded-by">([^<]*)<', page).group(1)
    confirmed = re.search(r'data-testid="disbursement-confirmed-by">([^<]*)<', page).group(1)
    assert (recorded, confirmed) == ("head", checker)


def test_officers_cannot_check_a_disbursement(app, client, world):
    loan_id = _recorded(app, client, world)
    version = str(get_loan(app, loan_id).version)
    for username in ("officer", "otherofficer", "otherhead"):
        client.login(username)
        before = snapshot(app, loan_id)
        for what, data in (("confirm", {}), ("return", {"reason": "x"})):
            url = f"/loans/{loan_id}/{what}-disbursement"
            assert client.get(url).status_code == 403, username
            response = client.submit(url, {"version": version, **data}, page="/account")
            assert response.status_code == 403, username
        assert snapshot(app, loan_id) == before
        client.logout()
    client.login("officer")
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f"/loans/{loan_id}/confirm-disbursement" not in page
    assert f"/loans/{loan_id}/return-disbursement" not in page


def test_a_check_made_on_a_page_shown_before_the_disbursement_changed_is_refused(
    app, client, world
):
    loan_id = _recorded(app, client, world, contract_signed_on=date(2026, 1, 20))
    _login(client, "head")
    page = client.get(f"/loans/{loan_id}/confirm-disbursement").get_data(as_text=True)
    seen = _version_on(page)
    assert iso(app) in page  # the recorded date, as the head sees it
    client.logout()

    # Meanwhile the admin returns it and the officer records another date.
    _login(client, "admin")
    assert _check(client, loan_id, "return", reason="日期与回单不符").status_code == 302
    client.logout()
    _login(client, "officer")
    client.submit(f"/loans/{loan_id}/disburse", {"disbursed_on": "2026-02-02"})
    client.logout()

    _login(client, "head")
    before = snapshot(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/confirm-disbursement", {"version": seen})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="stale"' in page and "This loan changed after you opened the page" in page
    assert "2026-02-02" in page  # what is recorded now
    assert snapshot(app, loan_id) == before
    # The page shown now is checked as it is.
    response = client.submit(
        f"/loans/{loan_id}/confirm-disbursement", {"version": _version_on(page)}
    )
    assert response.status_code == 302
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.ACTIVE and loan.disbursed_on == date(2026, 2, 2)


def test_a_check_without_the_version_is_refused(app, client, world):
    loan_id = _recorded(app, client, world)
    _login(client, "head")
    before = snapshot(app, loan_id)
    response = client.submit(f"/loans/{loan_id}/confirm-disbursement", {})
    assert response.status_code == 200
    assert snapshot(app, loan_id) == before


def _instalments(app, loan_id: int) -> list[tuple]:
    with app.app_context():
        return [
            (i.number, i.due_on, i.principal, i.interest)
            for i in db.session.scalars(
                sa.select(LoanInstalment)
                .where(LoanInstalment.loan_id == loan_id)
                .order_by(LoanInstalment.number)
            )
        ]


def test_the_schedule_is_stored_at_the_confirmation_from_the_recorded_date(app, client, world):
    loan_id = new_loan(
        app,
        world,
        LoanStatus.CONTRACTED,
        approved_amount=Decimal("12000.00"),
        approved_term_months=12,
        annual_rate_percent=Decimal("12.00"),
        repayment_method=RepaymentMethod.EQUAL_PRINCIPAL,
        contract_signed_on=date(2026, 1, 20),
    )
    with app.app_context():  # the World's active loan would show its own next instalment
        db.session.get(Loan, world.own_loan.id).status = LoanStatus.CLOSED
        db.session.commit()
    _login(client, "officer")
    client.submit(f"/loans/{loan_id}/disburse", {"disbursed_on": "2026-02-01"})
    assert _instalments(app, loan_id) == []
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert 'data-testid="schedule"' not in page
    assert "Repayment starts when the disbursement is confirmed." in page
    assert f"/loans/{loan_id}/payment" not in page
    client.logout()
    client.login("borrower")
    assert 'data-testid="next-instalment"' not in client.get("/me").get_data(as_text=True)
    client.logout()

    _login(client, "head")
    assert _check(client, loan_id).status_code == 302
    expected = schedule(
        Decimal("12000.00"),
        Decimal("12.00"),
        12,
        RepaymentMethod.EQUAL_PRINCIPAL,
        date(2026, 2, 1),
    )
    assert _instalments(app, loan_id) == [
        (i.number, i.due_on, i.principal, i.interest) for i in expected
    ]
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert 'data-testid="schedule"' in page and "¥1,120.00" in page
    # Nothing paid since the first instalment fell due on 1 March: the figures say so at once.
    loan = get_loan(app, loan_id)
    assert loan.outstanding_balance == Decimal("12000.00")
    assert loan.overdue_days > 0


def test_the_checker_returns_a_wrong_disbursement_with_a_reason(app, client, world):
    loan_id = _recorded(app, client, world)
    _login(client, "head")
    before = snapshot(app, loan_id)
    response = _check(client, loan_id, "return", reason="  ")
    assert response.status_code == 200
    assert 'id="reason-errors"' in response.get_data(as_text=True)
    assert "Give the reason for returning the disbursement." in response.get_data(as_text=True)
    assert snapshot(app, loan_id) == before

    response = _check(client, loan_id, "return", reason="放款金额与回单不符")
    assert response.status_code == 302
    loan = get_loan(app, loan_id)
    assert loan.status == LoanStatus.CONTRACTED
    assert (loan.disbursed_on, loan.disbursement_recorded_by_id) == (None, None)
    assert _instalments(app, loan_id) == []
    assert events(app, loan_id)[-1] == ("return", "disbursing", "contracted")
    assert audit_actions(app, loan_id)[-1] == "loan.return"
    with app.app_context():
        event = db.session.scalars(
            sa.select(LoanEvent).where(LoanEvent.loan_id == loan_id).order_by(LoanEvent.id.desc())
        ).first()
        assert event.note == "放款金额与回单不符" and event.details["disbursed_on"] == iso(app)
    page = client.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert "Disbursement returned for correction" in page and "放款金额与回单不符" in page
    client.logout()

    _login(client, "officer")  # recorded again, and checked again
    assert (
        client.submit(f"/loans/{loan_id}/disburse", {"disbursed_on": iso(app)}).status_code == 302
    )
    assert get_loan(app, loan_id).status == LoanStatus.DISBURSING


def _rows(page: str) -> int:
    return page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")


def _badge(page: str) -> int | None:
    match = re.search(r'data-testid="disbursement-count"[^>]*>(\d+)<', page)
    return int(match.group(1)) if match else None


def test_heads_see_the_disbursements_waiting_for_them(app, client, world, colleague):
    _recorded(app, client, world)  # by the officer: both heads may confirm it
    _recorded(app, client, world, "head")  # the head's own: only head2 or the admin
    new_loan(app, world, LoanStatus.DISBURSING, foreign=True)  # the other branch's

    expected = {"head": (1, 1), "head2": (2, 2), "otherhead": (1, 1), "admin": (None, 3)}
    # In turn, twice: the count's statement is built once and each head gets their own.
    for username in [*expected, *expected]:
        badge, rows = expected[username]
        _login(client, username)
        page = client.get("/loans/").get_data(as_text=True)
        assert _badge(page) == badge, username
        assert "/loans/?status=to_confirm" in page
        listed = client.get("/loans/?status=to_confirm").get_data(as_text=True)
        assert _rows(listed) == rows, username
        client.logout()

    _login(client, "officer")
    page = client.get("/loans/").get_data(as_text=True)
    assert _badge(page) is None and "status=to_confirm" not in page
    assert 'value="to_confirm"' not in page
    # Not a filter for officers: the whole list, as for any unknown value.
    assert _rows(client.get("/loans/?status=to_confirm").get_data(as_text=True)) == 3
    # Every disbursing loan of theirs, under its status.
    assert _rows(client.get("/loans/?status=disbursing").get_data(as_text=True)) == 2


def test_a_loan_owes_visits_once_its_disbursement_is_confirmed(app, client, world):
    september = Month(2026, 9)
    with app.app_context():
        counts.build_missing()
        db.session.commit()
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer, full_name="待复核放款")
        loan = make_loan(borrower, LoanStatus.DISBURSING, disbursed_on=date(2026, 9, 2))
        db.session.commit()
        loan_id = loan.id

    def owed() -> int:
        with app.app_context():
            return branch_trend(world.branch.id, september, months=1)[0].owed

    assert owed() == 1  # the World's active loan only
    _login(client, "head")
    assert _check(client, loan_id).status_code == 302
    assert owed() == 2
    with app.app_context():
        assert counts.differences() == []


def test_the_monthly_report_counts_a_disbursement_once_it_is_confirmed(app, client, world):
    loan_id = _recorded(app, client, world)
    month = Month.containing(today(app))

    def figures() -> tuple:
        with app.app_context():
            f = loan_figures(world.branch.id, month)
            return f.disbursed, f.active_at_end, len(disbursed_loans(world.branch.id, month))

    assert figures() == (0, 1, 0)  # the World's loan, disbursed in January
    _login(client, "head")
    assert _check(client, loan_id).status_code == 302
    assert figures() == (1, 2, 1)


def test_a_disbursement_waiting_for_its_confirmation_counts_as_lent_for_the_tiers(app, world):
    new_loan(app, world, LoanStatus.DISBURSING, approved_amount=Decimal("80000.00"))
    with app.app_context():
        lent, loans, *_ = loan_rows([world.own_borrower.id])[world.own_borrower.id]
    assert (lent, loans) == (Decimal("130000.00"), 2)  # with the World's active 50,000
