"""The head's "visits to check" downloaded as CSV and Excel: the list's rows, audited, safe."""

import csv
import html
import io
import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.evidence import rules
from portal.evidence.models import ReviewAction, VisitFlag
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.evidence.review_helpers import flag, in_month, last_month, review, signed_visit
from tests.factories import make_borrower, make_loan, make_user

FORMULA = '=HYPERLINK("http://evil")'
QUESTION = "+请说明为什么签得这么快"
EXPORT = "/evidence/to-check/export"


@pytest.fixture
def month(app):
    with app.app_context():
        return last_month()


@pytest.fixture
def cast(app, world, month) -> SimpleNamespace:
    """Last month in the head's branch: the officer's borrower (in a village named like a
    formula) still to check, a colleague's borrower the officer was asked about, a second
    borrower confirmed genuine, a clean visit; a flagged visit of the other branch and one
    of the month before."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        head = db.session.get(User, world.head.id)
        own = db.session.get(Borrower, world.own_borrower.id)
        own.village = FORMULA
        colleague = make_borrower(make_user("colleague", Role.OFFICER, officer.branch))
        second = make_borrower(officer)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        for borrower in (colleague, second):
            make_loan(borrower, LoanStatus.ACTIVE)
        to_check = signed_visit(own, officer, in_month(month, 10))
        flag(to_check, "far_from_site", distance_m=2400, accuracy_m=20, site="visits")
        flag(to_check, "quick_signing", seconds=35)
        asked = signed_visit(colleague, colleague.officer, in_month(month, 12))
        flag(asked, "quick_signing", seconds=20)
        review(asked, ReviewAction.ASKED, head, QUESTION, minutes=90)
        confirmed = signed_visit(second, officer, in_month(month, 14))
        flag(confirmed, "outside_hours", local_time="21:40")
        review(confirmed, ReviewAction.CONFIRMED, head, "电话核实过", minutes=60)
        signed_visit(second, officer, in_month(month, 16))  # clean: never listed
        earlier = signed_visit(own, officer, in_month(month.shift(-1), 10))
        flag(earlier, "no_fix", location_status="denied")
        foreign_visit = signed_visit(
            foreign, db.session.get(User, world.other_officer.id), in_month(month, 11)
        )
        flag(foreign_visit, "quick_signing", seconds=20)
        borrowers = (own, colleague, second, foreign)
        names = SimpleNamespace(
            own=own.full_name,
            colleague=colleague.full_name,
            second=second.full_name,
            foreign=foreign.full_name,
            numbers=[n for b in borrowers for n in (b.resident_id, b.mobile)],
            branch=officer.branch.code,
            to_check=to_check.id,
            visited_on=in_month(month, 10).date(),
        )
        db.session.commit()
    with app.test_request_context():  # the reasons as the list says them
        names.reasons = [
            rules.describe(f)
            for f in db.session.scalars(
                sa.select(VisitFlag).where(VisitFlag.visit_id == names.to_check)
            )
        ]
    return names


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.get_data().startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _page_names(client, query: str) -> list[str]:
    """The borrowers the list shows, in its order."""
    page = client.get(f"/evidence/to-check{query}").text
    return [
        html.unescape(name)
        for name in re.findall(r'class="fw-semibold" href="/evidence/visits/\d+">([^<]+)</a>', page)
    ]


def _audited(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry.summary)
                .where(AuditEntry.action == "export.visits-to-check")
                .order_by(AuditEntry.id)
            )
        )


@pytest.mark.parametrize(
    ("user", "query"),
    [
        ("head", ""),
        ("head", "?month={month}"),
        ("head", "?month={month}&show=all"),
        ("head", "?month={month}&show=asked"),
        ("head", "?month={month}&show=confirmed"),
        ("head", "?month={month}&show=nonsense"),
        ("otherhead", "?month={month}&show=all"),
        ("admin", "?month={month}&show=all"),
        ("admin", "?month={month}&show=all&branch={other_branch}"),
    ],
)
def test_the_download_holds_the_lists_rows_in_its_order(client, world, cast, month, user, query):
    query = query.format(month=month, other_branch=world.other_branch.id)
    client.login(user)
    listed = _page_names(client, query)
    for fmt in ("csv", "xlsx"):
        rows = (_csv_rows if fmt == "csv" else _xlsx_rows)(client.get(f"{EXPORT}.{fmt}{query}"))
        assert [row[1] for row in rows[1:]] == listed


def test_a_head_downloads_the_branchs_flagged_visits_of_the_month(client, cast, month):
    client.login("head")
    rows = _csv_rows(client.get(f"{EXPORT}.csv?month={month}&show=all"))
    assert rows[0][:3] == ["状态", "借款人", "村"]
    assert [row[1] for row in rows[1:]] == [cast.second, cast.colleague, cast.own]
    confirmed, asked, to_check = rows[1:]
    assert confirmed[0] == "确认属实" and confirmed[7:] == ["head", "电话核实过"]
    assert asked[0] == "已询问信贷员" and asked[3] == "colleague"
    assert to_check[0] == "待核查" and to_check[3] == "officer"
    assert to_check[4] == cast.visited_on.isoformat()
    assert all(reason in to_check[5] for reason in cast.reasons) and len(cast.reasons) == 2
    assert to_check[6:] == ["", "", ""]
    still_to_check = _csv_rows(client.get(f"{EXPORT}.csv?month={month}"))
    assert [row[1] for row in still_to_check[1:]] == [cast.own]


def test_the_download_is_not_paged(app, client, cast, month, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    client.login("head")
    assert len(_page_names(client, f"?month={month}&show=all")) == 1
    rows = _csv_rows(client.get(f"{EXPORT}.csv?month={month}&show=all"))
    assert len(rows) == 4


def test_another_branch_never_appears(client, world, cast, month):
    client.login("otherhead")
    # A head's list is their own branch's, whichever branch the address names.
    for query in (f"?month={month}&show=all", f"?month={month}&show=all&branch={world.branch.id}"):
        rows = _csv_rows(client.get(f"{EXPORT}.csv{query}"))
        assert [row[1] for row in rows[1:]] == [cast.foreign]


def test_free_text_is_never_a_formula(client, cast, month):
    client.login("head")
    rows = _csv_rows(client.get(f"{EXPORT}.csv?month={month}&show=all"))
    assert rows[3][2] == "'" + FORMULA  # the village
    assert rows[2][8] == "'" + QUESTION  # the head's question
    sheet = load_workbook(
        io.BytesIO(client.get(f"{EXPORT}.xlsx?month={month}&show=all").get_data())
    ).active
    village = sheet.cell(row=4, column=3)
    assert village.value == FORMULA and village.data_type == "s"
    assert isinstance(sheet.cell(row=4, column=5).value, date)  # a real date in Excel


def test_no_personal_number_leaves_in_the_file(client, world, cast, month):
    client.login("admin")
    for branch in (world.branch.id, world.other_branch.id):
        query = f"?month={month}&show=all&branch={branch}"
        body = client.get(f"{EXPORT}.csv{query}").get_data(as_text=True)
        cells = " ".join(
            str(cell) for row in _xlsx_rows(client.get(f"{EXPORT}.xlsx{query}")) for cell in row
        )
        for number in cast.numbers:
            assert number not in body and number not in cells


def test_each_download_is_audited_with_its_filters(app, client, cast, month):
    client.login("head")
    client.get(f"{EXPORT}.csv?month={month}")
    client.get(f"{EXPORT}.xlsx?month={month}&show=all")
    assert _audited(app) == [
        f"format=csv rows=1 filters: branch={cast.branch} month={month} show=open",
        f"format=xlsx rows=3 filters: branch={cast.branch} month={month} show=all",
    ]


@pytest.mark.parametrize("user", ["officer", "borrower"])
def test_officers_and_borrowers_download_nothing(app, client, cast, month, user):
    client.login(user)
    assert client.get(f"{EXPORT}.csv?month={month}&show=all").status_code == 403
    assert _audited(app) == []


def test_the_list_links_its_downloads_with_its_filters(client, world, cast, month):
    client.login("head")
    page = client.get(f"/evidence/to-check?month={month}&show=all").text
    assert f"{EXPORT}.csv?month={month}&amp;show=all" in page
    assert f"{EXPORT}.xlsx?month={month}&amp;show=all" in page
    client.logout()
    client.login("admin")
    branch = world.other_branch.id
    page = client.get(f"/evidence/to-check?month={month}&branch={branch}&show=asked").text
    assert f"{EXPORT}.csv?month={month}&amp;branch={branch}&amp;show=asked" in page
