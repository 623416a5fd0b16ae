"""The red warnings queue downloaded as CSV and Excel: the queue's rows, audited, safe to open."""

import csv
import html
import io
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.models import VisitWarning
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan, make_user
from tests.visits.helpers import make_visit

FORMULA = '=HYPERLINK("http://evil")'
RED = {"risk_signals": frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})}
EXPORT = "/visits/warnings/export"


def _red_visit(borrower: Borrower, officer: User, hours_ago: int):
    visit = make_visit(borrower, officer, utcnow() - timedelta(hours=hours_ago), **RED)
    warning = db.session.scalars(
        sa.select(VisitWarning).where(VisitWarning.visit_id == visit.id)
    ).one()
    warning.raised_at = utcnow() - timedelta(hours=hours_ago - 1)  # the queue's order is fixed
    return warning


@pytest.fixture
def cast(app, world) -> SimpleNamespace:
    """Red visits in the head's branch: the officer's borrower (acknowledged with an action
    that looks like a formula), a colleague's borrower (past its deadline, escalated to the
    head) and a second borrower of the officer (open); one in the other branch."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        own = db.session.get(Borrower, world.own_borrower.id)
        colleague = make_borrower(make_user("colleague", Role.OFFICER, officer.branch))
        second = make_borrower(officer)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        for borrower in (colleague, second):
            make_loan(borrower, LoanStatus.ACTIVE)
        handled = _red_visit(own, officer, 50)
        handled.acknowledged_at = utcnow() - timedelta(hours=2)
        handled.acknowledged_by_id = world.head.id
        handled.action_taken = FORMULA
        late = _red_visit(colleague, colleague.officer, 30)
        late.act_by = utcnow() - timedelta(hours=3)
        late.head_alerted_at = utcnow() - timedelta(hours=2)
        _red_visit(second, officer, 20)
        _red_visit(foreign, db.session.get(User, world.other_officer.id), 10)
        borrowers = (own, colleague, second, foreign)
        names = SimpleNamespace(
            own=own.full_name,
            colleague=colleague.full_name,
            second=second.full_name,
            foreign=foreign.full_name,
            numbers=[n for b in borrowers for n in (b.resident_id, b.mobile)],
        )
        db.session.commit()
    return names


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.get_data().startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _page_names(client, query: str = "") -> list[str]:
    """The borrowers the queue lists, in its order."""
    page = client.get(f"/visits/warnings{query}").text
    return [
        html.unescape(name)
        for name in re.findall(r'class="fw-semibold" href="/visits/\d+">([^<]+)</a>', page)
    ]


def _audited(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry.summary)
                .where(AuditEntry.action == "export.red-warnings")
                .order_by(AuditEntry.id)
            )
        )


@pytest.mark.parametrize(
    ("user", "query"),
    [("head", ""), ("head", "?show=all"), ("otherhead", "?show=all"), ("admin", "?show=all")],
)
def test_the_download_holds_the_queues_rows_in_its_order(client, cast, user, query):
    client.login(user)
    listed = _page_names(client, query)
    assert listed
    for fmt in ("csv", "xlsx"):
        rows = (_csv_rows if fmt == "csv" else _xlsx_rows)(client.get(f"{EXPORT}.{fmt}{query}"))
        assert [row[1] for row in rows[1:]] == listed


def test_a_head_downloads_the_branch_queue_open_first(client, cast):
    client.login("head")
    rows = _csv_rows(client.get(f"{EXPORT}.csv?show=all"))
    assert rows[0][:2] == ["风险等级", "借款人"]
    assert [row[1] for row in rows[1:]] == [cast.second, cast.colleague, cast.own]
    assert cast.foreign not in {cell for row in rows for cell in row}
    second, late, handled = rows[1:]
    assert second[0] == "红色" and second[5] == "待办" and second[7:] == ["", "", "", "", ""]
    assert late[7:9] == ["是", "已上报网点负责人"]
    assert handled[5:7] == ["已处理", ""] and handled[10] == "head"
    assert "红色：还款逾期" in handled[4]
    open_rows = _csv_rows(client.get(f"{EXPORT}.csv"))
    assert [row[1] for row in open_rows[1:]] == [cast.second, cast.colleague]


def test_the_download_is_not_paged(app, client, cast, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    client.login("admin")
    assert len(_page_names(client, "?show=all")) == 1
    rows = _csv_rows(client.get(f"{EXPORT}.csv?show=all"))
    assert {row[1] for row in rows[1:]} == {cast.own, cast.colleague, cast.second, cast.foreign}


def test_another_branch_never_appears(client, cast):
    client.login("otherhead")
    for query in ("", "?show=all"):
        rows = _csv_rows(client.get(f"{EXPORT}.csv{query}"))
        assert [row[1] for row in rows[1:]] == [cast.foreign]


def test_the_action_taken_is_never_a_formula(client, cast):
    client.login("head")
    rows = _csv_rows(client.get(f"{EXPORT}.csv?show=all"))
    assert rows[-1][-1] == "'" + FORMULA
    sheet = load_workbook(io.BytesIO(client.get(f"{EXPORT}.xlsx?show=all").get_data())).active
    action = sheet.cell(row=sheet.max_row, column=sheet.max_column)
    assert action.value == FORMULA and action.data_type == "s"
    visited = sheet.cell(row=2, column=3).value
    assert isinstance(visited, date)  # a real date in Excel


def test_no_personal_number_leaves_in_the_file(client, cast):
    client.login("admin")
    body = client.get(f"{EXPORT}.csv?show=all").get_data(as_text=True)
    cells = " ".join(
        str(cell) for row in _xlsx_rows(client.get(f"{EXPORT}.xlsx?show=all")) for cell in row
    )
    for number in cast.numbers:
        assert number not in body and number not in cells


def test_each_download_is_audited_with_its_filter(app, client, cast):
    client.login("head")
    client.get(f"{EXPORT}.csv")
    client.get(f"{EXPORT}.xlsx?show=all")
    assert _audited(app) == [
        "format=csv rows=2 filters: show=open",
        "format=xlsx rows=3 filters: show=all",
    ]


@pytest.mark.parametrize("user", ["officer", "borrower"])
def test_officers_and_borrowers_download_nothing(app, client, cast, user):
    client.login(user)
    assert client.get(f"{EXPORT}.csv?show=all").status_code == 403
    assert _audited(app) == []


def test_the_queue_links_its_downloads_with_its_filter(client, cast):
    client.login("head")
    page = client.get("/visits/warnings?show=all").text
    assert f"{EXPORT}.csv?show=all" in page and f"{EXPORT}.xlsx?show=all" in page
    page = client.get("/visits/warnings").text
    assert f"{EXPORT}.csv?show=open" in page
