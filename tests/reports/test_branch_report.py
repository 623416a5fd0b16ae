"""The monthly branch report: every section read back from the PDF, in both languages."""

import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.models import VisitWarning
from portal.visits.operations import acknowledge_warning
from portal.visits.risk import RiskSignal
from tests.browser.fixtures import ARTIFACTS
from tests.factories import make_borrower, make_loan
from tests.reports.conftest import ACTION_TAKEN, HOSTILE_NAME
from tests.reports.helpers import (
    assert_cjk_font_embedded,
    assert_printed,
    english,
    exports,
    page_texts,
    pdf_of,
    reader,
    save_page_one,
    text_of,
)
from tests.visits.helpers import make_visit

SECTIONS = {
    "zh": ["网点月度报告", "各信贷员走访达标率", "尚未走访的借款人", "风险等级",
           "红色预警及处理情况", "服务申请和满意度", "投诉", "新增借款人和贷款"],
    "en": ["Monthly branch report", "Visit compliance per loan officer", "Not yet visited in",
           "Risk levels", "Red warnings and what was done", "Service requests and satisfaction",
           "Complaints", "New borrowers and loans"],
}  # fmt: skip
FACTS = {
    "zh": ["种养殖技术培训", "法律服务", "严重", "放款手续太慢", "已电话联系担保人"],
    "en": ["Planting / breeding technique training", "Legal services", "Serious",
           "放款手续太慢", "已电话联系担保人"],
}  # fmt: skip


def _url(world, records) -> str:
    return f"/reports/branch/{world.branch.name}/{records.month}.pdf"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_head_prints_the_month_of_the_branch(app, client, world, records, locale):
    client.login("head")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(_url(world, records)))
    save_page_one(pdf, f"reports-branch-{locale}")
    pages = page_texts(pdf)
    text = "".join(pages)
    assert_printed(text, SECTIONS[locale] + FACTS[locale])
    assert_printed(pages[0], [records.month, world.branch.name])  # the cover, one page
    assert_printed(pages[1], [SECTIONS[locale][1]])
    # An officer's compliance, a borrower owed a visit who had none, what was done about
    # a red warning, and a new borrower whose name is markup, printed as text.
    assert_printed(text, ["officer", records.missed_borrower, ACTION_TAKEN, HOSTILE_NAME])
    assert 3 <= len(pages) <= 6
    for number, page in enumerate(pages, 1):
        assert_printed(page, [f"{number} / {len(pages)}"])
    assert_cjk_font_embedded(pdf)


def test_charts_are_drawn_with_their_labels(client, world, records):
    client.login("head")
    text = text_of(pdf_of(client.get(_url(world, records))))
    # Month labels under the bars of the compliance and risk trend charts.
    assert text.count(records.month) >= 4


def test_the_export_is_audited_with_branch_and_month(app, client, world, records):
    client.login("admin")
    pdf_of(client.get(f"/reports/branch/{world.other_branch.name}/{records.month}.pdf"))
    [entry] = exports(app, "report.branch_month")
    assert (entry.actor_name, entry.object_type) == ("admin", "Branch")
    assert entry.summary == f"{world.other_branch.name} {records.month}"


@pytest.mark.parametrize("month", ["2026-13", "26-11", "2099-01", "latest"])
def test_a_month_that_is_not_a_past_or_current_month_is_not_found(client, world, month):
    client.login("head")
    assert client.get(f"/reports/branch/{world.branch.name}/{month}.pdf").status_code == 404


def test_an_unknown_branch_is_not_found_and_another_branch_is_refused(client, world, records):
    client.login("head")
    assert client.get(f"/reports/branch/NOPE/{records.month}.pdf").status_code == 404
    other = f"/reports/branch/{world.other_branch.name}/{records.month}.pdf"
    assert client.get(other).status_code == 403


def test_the_file_is_named_after_branch_and_month(client, world, records):
    client.login("head")
    response = client.get(_url(world, records))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(
        f'attachment; filename="branch-{world.branch.name}-{records.month}.pdf"'
    )
    assert "filename*=UTF-8''%E7%BD%91%E7%82%B9%E6%9C%88%E6%8A%A5-" in disposition


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_long_warnings_leave_the_names_on_one_line(app, client, world, records, locale):
    """Issue 20: a long reason and action squeezed the name columns to a character a line."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        officer.display_name = "张晓明"
        borrower = make_borrower(officer, full_name="欧阳春花")
        make_loan(borrower, LoanStatus.ACTIVE)
        visit = make_visit(
            borrower, officer, utcnow() - timedelta(hours=3), risk_signals=frozenset(RiskSignal)
        )
        acknowledge_warning(
            db.session.scalars(sa.select(VisitWarning).filter_by(visit_id=visit.id)).one(),
            db.session.get(User, world.head.id),
            "已电话联系担保人和村委会，约定下周三一起上门复访，并请借款人先提交近三个月的"
            "销售流水和饲料采购单据，逾期部分分两期补还。",
        )
        db.session.commit()
    client.login("head")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(_url(world, records)))
    # The lines as printed (not squeezed): a name broken a character a line shows here.
    lines = [line for page in reader(pdf).pages for line in page.extract_text().split("\n")]
    cells = [word for line in lines for word in line.split()]
    assert "欧阳春花" in cells and "张晓明" in cells, lines
    for broken in ("欧", "阳", "春", "花", "晓", "明"):
        assert broken not in cells, lines
    page = next(i for i, t in enumerate(page_texts(pdf), 1) if "欧阳春花" in t)
    name = f"reports-branch-warnings-{locale}"
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
         str(ARTIFACTS / f"{name}.pdf"), str(ARTIFACTS / name)],
        check=True,
    )  # fmt: skip
