"""The portfolio page and its download: the head's branch, the admin's company."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.loans.helpers import english
from tests.portfolio.data import make_portfolio


def _setup(app, world):
    with app.app_context():
        make_portfolio(world)


def test_the_head_sees_the_branch_at_a_month_end_and_its_overdue_loans(app, client, world):
    _setup(app, world)
    client.login("head")
    english(client)
    page = client.get("/portfolio?month=2026-06").get_data(as_text=True)
    assert "As of 30 Jun 2026" in page
    for figure in ("¥5,300.00", "86.79 %", "64.15 %", "45.28 %", "10.17 %", "20.00 %"):
        assert figure in page, figure
    assert "4 loans outstanding" in page
    assert "¥3,400.00 in 2 loans" in page
    assert "1 loan outstanding was recorded before repayment schedules" in page
    late = page.split('data-testid="late-loans"')[1].split("</table>")[0]
    assert [cell in late for cell in ("PQ-C", "PQ-B", "PQ-D")] == [True] * 3
    assert late.index("PQ-C") < late.index("PQ-B") < late.index("PQ-D")
    assert "PQ-A" not in late


def test_the_head_never_sees_another_branch(app, client, world):
    _setup(app, world)
    client.login("otherhead")
    english(client)
    page = client.get(f"/portfolio?month=2026-06&branch={world.branch.id}").get_data(as_text=True)
    assert "PQ-C" not in page and "¥5,300.00" not in page


def test_the_admin_sees_the_company_by_branch_and_can_open_one(app, client, world):
    _setup(app, world)
    client.login("admin")
    english(client)
    page = client.get("/portfolio?month=2026-06").get_data(as_text=True)
    assert "Whole company" in page and "¥5,300.00" in page
    assert f"branch={world.branch.id}" in page
    one = client.get(f"/portfolio?month=2026-06&branch={world.other_branch.id}")
    assert "No loan is overdue on this day." in one.get_data(as_text=True)
    assert client.get("/portfolio?branch=999999").status_code == 404


def test_a_month_that_is_not_one_shows_this_month_with_a_warning(app, client, world):
    client.login("head")
    english(client)
    response = client.get("/portfolio?month=2026-13")
    assert response.status_code == 200
    assert "Unknown month 2026-13" in response.get_data(as_text=True)


def test_the_overdue_loans_download_as_excel_as_listed_and_audited(app, client, world):
    _setup(app, world)
    client.login("head")
    english(client)
    response = client.get("/portfolio/late.xlsx?month=2026-06")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.values)
    assert rows[0][-2:] == ("Days overdue", "Principal outstanding (yuan)")
    assert [(row[3], row[5], row[6]) for row in rows[1:]] == [
        ("PQ-C", 180, 2400),
        ("PQ-B", 81, 1000),
        ("PQ-D", 10, 1200),
    ]
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "export.portfolio-at-risk")
        ).one()
        assert "2026-06" in entry.summary and "3" in entry.summary
