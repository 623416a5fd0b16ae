"""The loan list: only visible loans, filters, paging, and a query count that does not grow."""

from contextlib import contextmanager

import sqlalchemy as sa

from portal.extensions import db
from portal.loans.models import LoanStatus, RepaymentStatus
from tests.loans.helpers import new_loan


@contextmanager
def _statements(app):
    seen = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _rows(page: str) -> int:
    return page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")


def test_each_role_sees_only_the_loans_it_may_see(app, client, world):
    new_loan(app, world, LoanStatus.APPLIED)
    new_loan(app, world, LoanStatus.APPLIED, foreign=True)
    for username, expected in (("officer", 2), ("head", 2), ("otherofficer", 2), ("admin", 4)):
        client.login(username)
        page = client.get("/loans/").get_data(as_text=True)
        assert _rows(page) == expected, username
        client.logout()
    client.login("officer")
    page = client.get("/loans/").get_data(as_text=True)
    assert world.own_borrower.name in page and world.foreign_borrower.name not in page


def test_filters_by_status_and_overdue(app, client, world):
    new_loan(app, world, LoanStatus.APPLIED)
    new_loan(
        app, world, LoanStatus.ACTIVE, repayment_status=RepaymentStatus.OVERDUE, overdue_days=9
    )
    client.login("head")
    assert _rows(client.get("/loans/?status=applied").get_data(as_text=True)) == 1
    assert _rows(client.get("/loans/?status=active").get_data(as_text=True)) == 2
    page = client.get("/loans/?status=overdue").get_data(as_text=True)
    assert _rows(page) == 1 and "逾期 9 天" in page
    assert _rows(client.get("/loans/?status=nonsense").get_data(as_text=True)) == 3


def test_pages_through_many_loans_with_a_fixed_number_of_queries(app, client, world):
    client.login("admin")
    client.get("/loans/")
    with _statements(app) as few:
        client.get("/loans/")
    for _ in range(30):
        new_loan(app, world, LoanStatus.APPLIED)
        new_loan(app, world, LoanStatus.APPLIED, foreign=True)
    with _statements(app) as many:
        page = client.get("/loans/").get_data(as_text=True)
    assert _rows(page) == 25
    assert "?page=2" in page or "page=2" in page
    assert len(many) == len(few)
    assert _rows(client.get("/loans/?page=3").get_data(as_text=True)) == 62 - 50
