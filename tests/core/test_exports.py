"""Staff lists downloaded as CSV and Excel: the list's rows, masked, audited, safe to open."""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.core import exports
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import make_borrower, make_loan, make_user
from tests.services.records import make_complaint, make_request

# kind (the file's and the audit entry's name) -> the list's export address, less ".fmt"
LISTS = {
    "borrowers": "/borrowers/export",
    "loans": "/loans/export",
    "service-requests": "/services/queue/export",
    "complaints": "/complaints/export",
    "missed-visits": "/visits/compliance/missed",
}

FORMULA = '=HYPERLINK("http://evil")'


@pytest.fixture
def cast(app, world) -> dict:
    """A colleague's borrower beside the officer's, a request and a complaint for each
    borrower of both branches; the officer's borrower lives in a village named like a
    formula."""
    with app.app_context():
        own = db.session.get(Borrower, world.own_borrower.id)
        own.village = FORMULA
        colleague = make_borrower(make_user("colleague", Role.OFFICER, own.branch))
        colleague.village = "@SUM(1)\x07"
        make_loan(colleague, LoanStatus.ACTIVE)
        borrowers = {
            "own": own,
            "colleague": colleague,
            "foreign": db.session.get(Borrower, world.foreign_borrower.id),
        }
        for borrower in borrowers.values():
            make_request(borrower.id)
            make_complaint(borrower.id)
        cast = {role: b.full_name for role, b in borrowers.items()}
        cast["numbers"] = {b.full_name: (b.resident_id, b.mobile) for b in borrowers.values()}
        db.session.commit()
    return cast


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    assert b"\r\n" in body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _names(rows: list[list]) -> set:
    return {cell for row in rows[1:] for cell in row if isinstance(cell, str)}


def _download(client, kind: str, fmt: str, query: str = ""):
    return client.get(f"{LISTS[kind]}.{fmt}{query}")


def _audited(app, kind: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry.summary).where(AuditEntry.action == f"export.{kind}")
            )
        )


@pytest.mark.parametrize("kind", LISTS)
def test_a_head_downloads_the_branch_rows_masked_and_audited(app, client, world, cast, kind):
    client.login(world.head.name)
    with app.app_context():
        today = exports.local_today().isoformat()

    csv_response = _download(client, kind, "csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Cache-Control"] == "no-store"
    assert f'filename="{kind}-{today}.csv"' in csv_response.headers["Content-Disposition"]
    from_csv = _csv_rows(csv_response)

    xlsx_response = _download(client, kind, "xlsx")
    assert xlsx_response.status_code == 200
    assert f'filename="{kind}-{today}.xlsx"' in xlsx_response.headers["Content-Disposition"]
    from_xlsx = _xlsx_rows(xlsx_response)

    for rows in (from_csv, from_xlsx):
        assert rows[0] == from_csv[0] and all(rows[0])  # the translated headers
        names = _names(rows)
        assert cast["own"] in names and cast["colleague"] in names
        assert cast["foreign"] not in names
        assert len(rows) == 3  # the header and the branch's two rows
    body = csv_response.get_data(as_text=True)
    cells = " ".join(str(cell) for row in from_xlsx for cell in row)
    for resident_id, mobile in cast["numbers"].values():
        for text in (body, cells):
            assert resident_id not in text and mobile not in text

    summaries = _audited(app, kind)
    assert len(summaries) == 2
    assert any("format=csv rows=2" in s for s in summaries)


def test_the_borrower_export_shows_masked_numbers_and_neutralises_formulas(
    app, client, world, cast
):
    client.login(world.head.name)
    resident_id, mobile = cast["numbers"][cast["own"]]
    rows = _csv_rows(_download(client, "borrowers", "csv"))
    own = next(row for row in rows if row[0] == cast["own"])
    assert own[1] == resident_id[:6] + "********" + resident_id[-4:]
    assert own[2] == mobile[:3] + "****" + mobile[-4:]
    assert own[3] == "'" + FORMULA

    book = load_workbook(io.BytesIO(_download(client, "borrowers", "xlsx").get_data()))
    village = next(
        row[3] for row in book.active.iter_rows(min_row=2) if row[0].value == cast["own"]
    )
    assert village.value == FORMULA and village.data_type == "s"
    village = next(
        row[3] for row in book.active.iter_rows(min_row=2) if row[0].value == cast["colleague"]
    )
    assert village.value == "@SUM(1)" and village.data_type == "s"  # less what Excel refuses
    colleague = next(row for row in rows if row[0] == cast["colleague"])
    assert colleague[3] == "'@SUM(1)\x07"


def test_dates_are_real_dates_in_excel(client, world, cast):
    client.login(world.head.name)
    rows = _xlsx_rows(_download(client, "loans", "xlsx"))
    applied_on = rows[0].index(next(h for h in rows[0] if h and "申请" in h))
    assert isinstance(rows[1][applied_on], date)
    assert rows[1][applied_on].strftime("%Y-%m-%d") == "2026-01-05"
    csv_rows = _csv_rows(_download(client, "loans", "csv"))
    assert csv_rows[1][applied_on] == "2026-01-05"


@pytest.mark.parametrize("kind", ["borrowers", "loans", "complaints"])
def test_an_officer_downloads_only_their_own_rows(client, world, cast, kind):
    client.login(world.officer.name)
    names = _names(_csv_rows(_download(client, kind, "csv")))
    assert cast["own"] in names
    assert cast["colleague"] not in names and cast["foreign"] not in names


@pytest.mark.parametrize("kind", ["service-requests", "missed-visits"])
def test_an_officer_may_not_download_the_managers_lists(client, world, cast, kind):
    client.login(world.officer.name)
    assert _download(client, kind, "csv").status_code == 403


def test_a_head_downloads_the_branch_compliance_per_officer(app, client, world, cast):
    client.login(world.head.name)
    rows = _csv_rows(client.get("/visits/compliance/officers.csv"))
    officers = {row[0]: row[1:] for row in rows[1:]}
    assert officers["officer"] == ["1", "0", "0"]
    assert officers["colleague"] == ["1", "0", "0"]
    assert "otherofficer" not in officers
    book = _xlsx_rows(client.get("/visits/compliance/officers.xlsx"))
    assert {tuple(row) for row in book[1:]} >= {("officer", 1, 0, 0)}
    assert _audited(app, "visit-compliance")


def test_compliance_per_officer_keeps_to_the_head_branch(client, world, cast):
    client.login(world.other_head.name)
    rows = _csv_rows(client.get("/visits/compliance/officers.csv"))
    assert [row[0] for row in rows[1:]] == ["otherofficer"]
    client.logout()
    for user in (world.officer, world.borrower):
        client.login(user.name)
        assert client.get("/visits/compliance/officers.xlsx").status_code == 403
        client.logout()


@pytest.mark.parametrize("kind", LISTS)
def test_a_borrower_downloads_no_list(app, client, world, cast, kind):
    client.login(world.borrower.name)
    assert _download(client, kind, "xlsx").status_code == 403
    assert _audited(app, kind) == []


@pytest.mark.parametrize("kind", LISTS)
def test_another_branch_head_gets_only_their_branch(client, world, cast, kind):
    client.login(world.other_head.name)
    names = _names(_csv_rows(_download(client, kind, "csv")))
    assert cast["foreign"] in names
    assert cast["own"] not in names and cast["colleague"] not in names


def test_the_export_keeps_the_list_filters(client, world, cast):
    client.login(world.head.name)
    rows = _csv_rows(_download(client, "complaints", "csv", "?status=closed"))
    assert rows[1:] == []
    rows = _csv_rows(_download(client, "loans", "csv", "?status=closed"))
    assert rows[1:] == []


def test_a_search_with_a_number_is_posted_and_exported(app, client, world, cast):
    client.login(world.head.name)
    _resident_id, mobile = cast["numbers"][cast["colleague"]]
    response = client.submit("/borrowers/export.csv", {"q": mobile[-4:]}, page="/borrowers/")
    names = _names(_csv_rows(response))
    assert cast["colleague"] in names and cast["own"] not in names
    (summary,) = _audited(app, "borrowers")
    assert mobile[-4:] not in summary  # the audit names the filters, not the number


def test_the_list_pages_link_their_downloads(client, world, cast):
    client.login(world.head.name)
    page = client.get("/complaints/?status=all").get_data(as_text=True)
    assert "/complaints/export.csv?status=all" in page
    assert "/complaints/export.xlsx?status=all" in page
    page = client.get("/services/queue?status=new&overdue=1").get_data(as_text=True)
    assert "/services/queue/export.csv?status=new&amp;overdue=1" in page
    page = client.get("/visits/compliance").get_data(as_text=True)
    assert "/visits/compliance/officers.csv?month=" in page
    assert "/visits/compliance/missed.xlsx?month=" in page
    page = client.get("/borrowers/?tier=general").get_data(as_text=True)
    assert "/borrowers/export.xlsx?tier=general" in page
    page = client.get("/loans/?status=closed").get_data(as_text=True)
    assert "/loans/export.csv?status=closed" in page
    assert "/loans/export.xlsx?status=closed" in page


def test_too_many_rows_are_refused(app, client, world, cast, monkeypatch):
    monkeypatch.setattr(exports, "MAX_ROWS", 1)
    client.login(world.head.name)
    response = _download(client, "borrowers", "csv")
    assert response.status_code == 302
    with client.session_transaction() as session:
        [(category, message)] = session["_flashes"]
    assert category == "danger" and "1" in message
    assert _audited(app, "borrowers") == []


@pytest.mark.parametrize("kind", ["borrowers", "loans", "service-requests", "complaints"])
def test_an_admin_downloads_every_branch(client, world, cast, kind):
    client.login(world.admin.name)
    rows = _csv_rows(_download(client, kind, "csv"))
    assert {cast["own"], cast["colleague"], cast["foreign"]} <= _names(rows)
    assert len(rows[0]) == len(set(rows[0]))


def test_an_admin_downloads_the_compliance_lists_of_the_branch_chosen(client, world, cast):
    client.login(world.admin.name)
    query = f"?branch={world.other_branch.id}"
    names = _names(_csv_rows(_download(client, "missed-visits", "csv", query)))
    assert cast["foreign"] in names and cast["own"] not in names
