"""The repayment import through its pages: upload, preview with every row's problems,
apply in one transaction, a second import changing nothing (docs/imports.md)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.imports.models import RepaymentUpload
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanStatus, Repayment, RepaymentStatus
from tests.imports.helpers import (
    CHINESE_HEADER,
    csv_bytes,
    loan_of,
    scheduled_loan,
    stored_state,
    upload,
    xlsx_bytes,
)
from tests.loans.helpers import english, today

ROW = re.compile(r'<tr[^>]*data-row="(\d+)"[^>]*>(.*?)</tr>', re.S)
PROBLEM = re.compile(r'data-problem="(\w+)"')


def problems_by_row(html: str) -> dict[int, set[str]]:
    """The problem codes the preview shows on each row (and "already_imported")."""
    return {int(line): set(PROBLEM.findall(cells)) for line, cells in ROW.findall(html)}


def _preview(client, content: bytes, filename="repayments.csv"):
    response = upload(client, content, filename)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return response.headers["Location"], page.get_data(as_text=True)


def test_a_file_with_every_kind_of_problem_shows_them_all_and_writes_nothing(app, client, world):
    good = scheduled_loan(app, world)
    foreign = scheduled_loan(app, world, foreign=True)
    closed = scheduled_loan(app, world, status=LoanStatus.CLOSED)
    unscheduled = world.own_loan.name  # active, disbursed before schedules were kept
    tomorrow = (today(app) + timedelta(days=1)).isoformat()
    rows = [
        [good, "2026-03-01", "1120.00", "R1", "11000.00"],  # row 2: fine
        ["NOPE-1", "2026-03-01", "100", "R2", ""],
        [foreign, "2026-03-01", "100", "R3", ""],
        [closed, "2026-03-01", "100", "R4", ""],
        [unscheduled, "2026-03-01", "100", "R5", ""],
        [good, "2026-13-01", "100", "R6", ""],
        [good, "2026-04-01", "12.345", "R7", ""],
        [good, "2026-01-31", "100", "R8", ""],
        [good, tomorrow, "100", "R9", ""],
        [good, "2026-04-01", "1,110.00", "R10", "9999.00"],  # ours: 10,000.00
        [good, "2026-04-02", "12000", "R11", ""],  # 10,550.00 left after rows 2 and 11
        [good, "2026-03-01", "1120.00", "R1", "11000.00"],
        ["", "2026-03-01", "100", "R12", ""],
        [good, "2026-03-01", "100", "", ""],
    ]
    before = stored_state(app)
    client.login("head")
    english(client)
    url, page = _preview(client, csv_bytes(rows))
    assert problems_by_row(page) == {
        2: set(),
        3: {"unknown_contract"},
        4: {"other_branch"},
        5: {"loan_not_active"},
        6: {"no_schedule"},
        7: {"bad_date"},
        8: {"bad_amount"},
        9: {"before_disbursement"},
        10: {"future_date"},
        11: {"balance_mismatch"},
        12: {"above_owed"},
        13: {"duplicate"},
        14: {"no_contract"},
        15: {"no_reference"},
    }
    for words in (
        "Unknown contract number.",
        "The loan belongs to another branch.",
        "The loan is “Closed”, not active.",
        "The loan has no repayment schedule.",
        "The payment date is before the disbursement (2026-02-01).",
        "The payment date is in the future.",
        "9,999.00 yuan in the file, 10,000.00 yuan by our schedule",
        "above the 10,550.00 yuan the loan still owes",
        "The same transaction reference as row 2: a duplicate.",
    ):
        assert words in page, words
    assert 'data-testid="apply"' not in page
    assert "13 with a problem" in page
    # Applying anyway is refused, and nothing is written by the preview or the refusal.
    refused = client.submit(url + "/apply", page=url)
    assert refused.status_code == 302
    assert "13 rows have a problem: nothing was imported." in client.get(url).get_data(as_text=True)
    assert stored_state(app) == before


def test_a_good_file_applied_twice_changes_the_data_once(app, client, world):
    first, second = scheduled_loan(app, world), scheduled_loan(app, world)
    content = csv_bytes(
        [
            [first, "2026-03-01", "1120.00", "R1", "11000.00"],
            [first, "2026-04-01", "1110.00", "R2", "10000.00"],
            [second.lower(), "2026/3/5", "¥500", "R3", ""],
        ]
    )
    client.login("head")
    english(client)
    url, page = _preview(client, content)
    assert problems_by_row(page) == {2: set(), 3: set(), 4: set()}
    assert "¥11,620.00" in page  # the second loan's balance after its payment, by our schedule
    applied = client.submit(url + "/apply", page=url)
    assert applied.status_code == 302 and applied.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "3 payments imported." in page and 'data-testid="applied"' in page

    loan = loan_of(app, first)
    assert [
        (r.paid_on, r.principal, r.interest, r.source, r.reference) for r in loan.repayments
    ] == [
        (date(2026, 3, 1), Decimal("1000.00"), Decimal("120.00"), "import", "R1"),
        (date(2026, 4, 1), Decimal("1000.00"), Decimal("110.00"), "import", "R2"),
    ]
    assert [i.settled_on for i in loan.instalments[:3]] == [
        date(2026, 3, 1),
        date(2026, 4, 1),
        None,
    ]
    assert loan.outstanding_balance == Decimal("10000.00")
    assert loan.overdue_days == (today(app) - date(2026, 5, 1)).days
    assert loan.repayment_status == RepaymentStatus.OVERDUE
    assert loan_of(app, second).outstanding_balance == Decimal("11620.00")
    with app.app_context():
        assert {r.recorded_by_id for r in db.session.scalars(sa.select(Repayment))} == {
            world.head.id
        }
        stored = db.session.get(RepaymentUpload, int(url.rsplit("/", 1)[1]))
        assert stored.content is None and (stored.imported, stored.skipped) == (3, 0)
    after_first = stored_state(app)
    (summary,) = after_first[3]
    assert "imported=3" in summary and "loans=2" in summary and "channel=upload" in summary
    assert stored.digest in summary and first not in summary and second not in summary

    url, page = _preview(client, content)
    assert problems_by_row(page) == {
        2: {"already_imported"},
        3: {"already_imported"},
        4: {"already_imported"},
    }
    assert 'data-testid="apply"' not in page
    again = client.submit(url + "/apply", page=url)
    assert "Nothing new: every row was imported before." in client.get(
        again.headers["Location"]
    ).get_data(as_text=True)
    assert stored_state(app) == after_first


def test_a_reference_imported_before_for_another_payment_is_a_problem(app, client, world):
    number = scheduled_loan(app, world)
    client.login("head")
    url, _page = _preview(client, csv_bytes([[number, "2026-03-01", "1120.00", "R1", ""]]))
    client.submit(url + "/apply", page=url)
    _url, page = _preview(
        client,
        csv_bytes(
            [
                [number, "2026-03-01", "1120.00", "R1", ""],  # the same: skipped
                [number, "2026-03-02", "1120.00", "R1-X", ""],  # new
                [number, "2026-03-03", "50.00", "R1", ""],  # R1 again, another payment
            ]
        ),
    )
    assert problems_by_row(page) == {
        2: {"already_imported"},
        3: set(),
        4: {"duplicate"},
    }
    _url, page = _preview(client, csv_bytes([[number, "2026-03-03", "50.00", "R1", ""]]))
    assert problems_by_row(page) == {2: {"reference_taken"}}


def test_excel_and_chinese_csv_files_are_read_alike(app, client, world):
    number = scheduled_loan(app, world)
    rows = [[number, "2026-03-01", "1120.00", "R1", "11000.00"]]
    client.login("head")
    for content, filename in (
        (csv_bytes(rows, CHINESE_HEADER, "gb18030"), "还款.csv"),
        (b"\xef\xbb\xbf" + csv_bytes(rows, CHINESE_HEADER), "repayments.csv"),
        (csv_bytes(rows, ["Contract number", "Payment date", "Amount", "Reference"]), "a.csv"),
        (xlsx_bytes([[number, date(2026, 3, 1), 1120.0, "R1", 11000]]), "还款.xlsx"),
    ):
        _url, page = _preview(client, content, filename)
        assert problems_by_row(page) == {2: set()}, filename
    # The workbook's numbers and date cells import as typed.
    url, _page = _preview(
        client, xlsx_bytes([[number, date(2026, 3, 1), 1120.1, 20261101001, None]]), "b.xlsx"
    )
    client.submit(url + "/apply", page=url)
    (payment,) = loan_of(app, number).repayments
    assert (payment.paid_on, payment.amount, payment.reference) == (
        date(2026, 3, 1),
        Decimal("1120.10"),
        "20261101001",
    )


def test_a_file_that_cannot_be_read_is_refused_beside_the_field(app, client, world):
    client.login("head")
    english(client)
    for content, filename, words in (
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.png", "Upload a CSV file or an Excel workbook"),
        (b"\xd0\xcf\x11\xe0" + bytes(100), "old.xls", "Excel 97–2003 files (.xls) cannot be read"),
        (b"PK\x03\x04not a workbook", "broken.xlsx", "Upload a CSV file or an Excel workbook"),
        (
            csv_bytes([["A", "2026-03-01", "1"]], ["合同编号", "还款日期", "金额"]),
            "a.csv",
            "missing: transaction reference",
        ),
        (csv_bytes([]), "empty.csv", "no repayments below its header"),
        (b"", "nothing.csv", "The file is empty."),
    ):
        response = upload(client, content, filename)
        assert response.status_code == 200, filename
        page = response.get_data(as_text=True)
        assert 'id="file-errors"' in page and words in page, filename
    page = upload(client, b"", "").get_data(as_text=True)
    assert "Choose the file to import." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RepaymentUpload)) == 0


def test_the_apply_checks_every_row_again(app, client, world):
    number = scheduled_loan(app, world)
    client.login("head")
    url, page = _preview(client, csv_bytes([[number, "2026-03-01", "12780.00", "ALL", "0.00"]]))
    assert problems_by_row(page) == {2: set()}  # the whole loan, principal and interest
    with app.app_context():
        loan = db.session.scalar(sa.select(Loan).where(Loan.contract_number == number))
        lifecycle.add_repayment(
            loan, paid_on=date(2026, 3, 1), amount=Decimal("100.00"), recorded_by=None
        )
        db.session.commit()
    before = stored_state(app)
    english(client)
    response = client.submit(url + "/apply", page=url)
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "1 row has a problem: nothing was imported." in page
    assert problems_by_row(page) == {2: {"above_owed"}}
    assert stored_state(app) == before


def test_an_admin_imports_for_every_branch(app, client, world):
    number = scheduled_loan(app, world, foreign=True)
    client.login("admin")
    url, page = _preview(client, csv_bytes([[number, "2026-03-01", "1120.00", "R1", ""]]))
    assert problems_by_row(page) == {2: set()}
    client.submit(url + "/apply", page=url)
    assert loan_of(app, number).outstanding_balance == Decimal("11000.00")
    # The head who did not upload it does not see the admin's upload.
    client.logout()
    client.login("head")
    assert client.get(url).status_code == 403


def test_a_payment_of_the_same_day_goes_after_those_stored(app, client, world):
    number = scheduled_loan(app, world)
    with app.app_context():
        loan = db.session.scalar(sa.select(Loan).where(Loan.contract_number == number))
        lifecycle.add_repayment(
            loan, paid_on=date(2026, 3, 1), amount=Decimal("100.00"), recorded_by=None
        )
        db.session.commit()
    client.login("head")
    url, page = _preview(client, csv_bytes([[number, "2026-03-01", "1020.00", "R1", "11000.00"]]))
    assert problems_by_row(page) == {2: set()}
    client.submit(url + "/apply", page=url)
    # The officer's 100 stays all interest; the import pays the rest of the interest first.
    assert [(r.amount, r.principal, r.interest) for r in loan_of(app, number).repayments] == [
        (Decimal("100.00"), Decimal("0.00"), Decimal("100.00")),
        (Decimal("1020.00"), Decimal("1000.00"), Decimal("20.00")),
    ]


def test_the_preview_downloads_with_every_row_and_its_problems(app, client, world):
    number = scheduled_loan(app, world)
    client.login("head")
    english(client)
    url, _page = _preview(
        client,
        csv_bytes(
            [[number, "2026-03-01", "1120.00", "R1", ""], ["NOPE", "2026-03-01", "1", "R2", ""]]
        ),
    )
    response = client.get(url + "/preview.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Unknown contract number." in text and "11000.00" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Repayment)) == 0


def test_an_upload_left_for_a_day_is_deleted(app, client, world):
    number = scheduled_loan(app, world)
    client.login("head")
    old = csv_bytes([[number, "2026-03-01", "1120.00", "R1", ""]])
    url, _page = _preview(client, old)
    with app.app_context():
        stored = db.session.get(RepaymentUpload, int(url.rsplit("/", 1)[1]))
        stored.uploaded_at -= timedelta(hours=25)
        db.session.commit()
    new = csv_bytes([[number, "2026-03-01", "1120.00", "R2", ""]])
    _preview(client, new)
    with app.app_context():
        kept = db.session.scalars(sa.select(RepaymentUpload.content)).all()
    assert kept == [new]
