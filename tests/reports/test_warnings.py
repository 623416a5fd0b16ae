"""Do the warnings work? The page's figures against a small data set counted by hand.

Month M is six months ago (complete: its window, the 1st of M+1 to the last day of
M+3, has ended). ``a`` and ``b`` are the window's first and last days.
"""

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.core.calendar import Month, current_month, local_midnight
from portal.demo.generate import generate
from portal.extensions import db
from portal.loans.models import LoanInstalment, LoanStatus
from portal.reports import warnings
from portal.reports.models import WarningFigure, WarningMonth
from portal.services.operations import ensure_catalogue
from portal.visits.risk import RiskLevel, RiskSignal
from tests.factories import make_borrower, make_loan
from tests.performance import plans
from tests.reports.helpers import (
    assert_printed,
    english,
    page_texts,
    pdf_of,
    save_page,
    squeeze,
    text_of,
)
from tests.reports.test_query_counts import counted
from tests.visits.helpers import make_visit

SIGNALS = {
    RiskLevel.GREEN: frozenset(),
    RiskLevel.YELLOW: frozenset({RiskSignal.FAMILY_ILLNESS}),
    RiskLevel.ORANGE: frozenset({RiskSignal.NEW_LARGE_DEBTS}),
    RiskLevel.RED: frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED}),
}
GREEN, YELLOW, ORANGE, RED = RiskLevel
DAY = timedelta(days=1)
_contracts = itertools.count(1)


@dataclass(frozen=True)
class Cohort:
    month: Month
    first: date  # a: the window's first day
    last: date  # b: its last day


def _cohort(app) -> Cohort:
    with app.app_context():
        month = current_month().shift(-6)
    first, last = warnings.window(month)
    return Cohort(month, first, last)


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local time of the company's calendar, as stored (UTC)."""
    return (local_midnight(day) + timedelta(hours=hour, minutes=minute)).astimezone(UTC)


def _loan(borrower, instalments=(), written_off_on=None):
    """An active loan with one instalment per (due_on, settled_on); none: no schedule."""
    loan = make_loan(
        borrower,
        LoanStatus.ACTIVE,
        contract_number=f"W-{next(_contracts):05d}",
        disbursed_on=date(2020, 1, 5),
        written_off=written_off_on is not None,
        written_off_on=written_off_on,
    )
    for number, (due_on, settled_on) in enumerate(instalments, 1):
        db.session.add(
            LoanInstalment(
                loan_id=loan.id,
                number=number,
                due_on=due_on,
                principal=Decimal("1000.00"),
                interest=Decimal("50.00"),
                balance_after=Decimal("0.00"),
                settled_on=settled_on,
            )
        )
    db.session.flush()
    return loan


def _borrower(officer, cohort: Cohort, level: RiskLevel | None, *loans, day: int = 10):
    """A borrower with ``loans`` (lists of instalments), visited on ``day`` of M at ``level``
    (None: not visited)."""
    borrower = make_borrower(officer)
    for instalments in loans or [[]]:
        _loan(borrower, instalments)
    if level is not None:
        make_visit(borrower, officer, _at(cohort.month.day(day)), risk_signals=SIGNALS[level])
    return borrower


@pytest.fixture
def hand_made(app, world) -> Cohort:
    """The borrowers of M, counted by hand in the comments.

    World's branch (the head's):
      green, 8 borrowers, 2 in trouble:
        g1 paid on time; g2 due a-10 never paid (30 days late on a+20): TROUBLE;
        g3 due b-29 never paid (29 days on b); g4 visited red on the 3rd, green on the
        20th (the latest counts), due b-30 never paid (30 days on b): TROUBLE;
        g5, g6, g7 paid on time; w1 due a-100 never paid but written off on a-1.
      yellow, 4 borrowers, 1 in trouble:
        y1 due a-60 settled on a (trouble ended before the window);
        y2 due a-60 settled on a+1 (90 days late on a): TROUBLE; y3, y4 on time.
      orange, 2 borrowers, 1 in trouble:
        o1 due b-30 settled on b (settled on the last day); o2 due b-30 settled on
        b+1 (30 days late on b): TROUBLE.
        (z was orange, then amended to red: counts red.)
      red, 4 borrowers, 3 in trouble:
        r1 two loans, both 30+ late (counted once): TROUBLE; z orange amended to red,
        due b-40 settled b-5 (35 days late on b-5): TROUBLE; r3 on time; r4 due a-40
        never paid, written off on a+5 (40 days late on a): TROUBLE.
      left out: u1, green, a loan without a schedule.
      not visited in M: n1, due a-5 never paid: in trouble, no visit.
    Shares: green 2/8 = 25.0 %, yellow 1/4 = 25.0 %, orange 1/2 = 50.0 %, red 3/4 = 75.0 %.
    Lifts over green: yellow ×1.00, orange ×2.00, red ×3.00.
    No warning: 2 of the 7 visited borrowers in trouble (2+1+1+3) were green: 28.6 %.

    The other branch: f1 red, due a-10 never paid: TROUBLE; f2 green, on time.
    Company: green 2/9 = 22.2 %, red 4/5 = 80.0 %; red ×3.60, orange ×2.25.
    """
    cohort = _cohort(app)
    a, b = cohort.first, cohort.last
    on_time = [(a - 20 * DAY, a - 25 * DAY)]
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        _borrower(officer, cohort, GREEN, on_time)  # g1
        _borrower(officer, cohort, GREEN, [(a - 10 * DAY, None)])  # g2
        _borrower(officer, cohort, GREEN, [(b - 29 * DAY, None)])  # g3
        g4 = _borrower(officer, cohort, RED, [(b - 30 * DAY, None)], day=3)
        make_visit(g4, officer, _at(cohort.month.day(20)))  # green, later in M
        for _ in range(3):  # g5, g6, g7
            _borrower(officer, cohort, GREEN, on_time)
        w1 = make_borrower(officer)
        _loan(w1, [(a - 100 * DAY, None)], written_off_on=a - DAY)
        make_visit(w1, officer, _at(cohort.month.day(12)))
        _borrower(officer, cohort, YELLOW, [(a - 60 * DAY, a)])  # y1
        _borrower(officer, cohort, YELLOW, [(a - 60 * DAY, a + DAY)])  # y2
        _borrower(officer, cohort, YELLOW, on_time)  # y3
        _borrower(officer, cohort, YELLOW, on_time)  # y4
        _borrower(officer, cohort, ORANGE, [(b - 30 * DAY, b)])  # o1
        _borrower(officer, cohort, ORANGE, [(b - 30 * DAY, b + DAY)])  # o2
        _borrower(officer, cohort, RED, [(a - 50 * DAY, None)], [(a - 45 * DAY, None)])  # r1
        z = _borrower(officer, cohort, None, [(b - 40 * DAY, b - 5 * DAY)])
        orange = make_visit(z, officer, _at(cohort.month.day(10)), risk_signals=SIGNALS[ORANGE])
        make_visit(z, officer, _at(cohort.month.day(9)), amends=orange, risk_signals=SIGNALS[RED])
        _borrower(officer, cohort, RED, on_time)  # r3
        r4 = make_borrower(officer)
        _loan(r4, [(a - 40 * DAY, None)], written_off_on=a + 5 * DAY)
        make_visit(r4, officer, _at(cohort.month.day(12)), risk_signals=SIGNALS[RED])
        _borrower(officer, cohort, GREEN)  # u1: no schedule
        _borrower(officer, cohort, None, [(a - 5 * DAY, None)])  # n1
        other = db.session.get(User, world.other_officer.id)
        _borrower(other, cohort, RED, [(a - 10 * DAY, None)])  # f1
        _borrower(other, cohort, GREEN, on_time)  # f2
        db.session.commit()
    return cohort


# --- reading the page -----------------------------------------------------------------------


def _section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    tag = re.match(r"<(\w+)", page[page.rindex("<", 0, start) :]).group(1)
    return page[start : page.index(f"</{tag}>", start)]


CELL = re.compile(r'data-level="(\w+)" data-borrowers="(\d+)" data-in-trouble="(\d+)"')


def _counts(html: str) -> dict[str, tuple[int, int]]:
    """{level: (borrowers, in trouble)} of a table's row or rows."""
    return {level: (int(n), int(t)) for level, n, t in CELL.findall(html)}


def _levels(page: str) -> dict[str, tuple[int, int]]:
    return _counts(_section(page, "levels"))


def _lifts(page: str) -> list[str]:
    return re.findall(r'data-testid="lift">([^<]*)<', _section(page, "levels"))


def _row(page: str, table: str, attribute: str, value: str) -> str:
    html = _section(page, table)
    start = re.search(rf'{attribute}="[^"]*\b{value}\b', html).start()
    return html[start : html.index("</tr>", start)]


def _figure(page: str, testid: str) -> int:
    return int(re.search(rf'data-testid="{testid}" data-count="(\d+)"', page).group(1))


def _page(client, month: Month | None = None) -> str:
    response = client.get("/reports/warnings" + (f"?month={month}" if month else ""))
    assert response.status_code == 200
    return response.text


# --- the hand count -------------------------------------------------------------------------


HAND_COUNT = {"green": (8, 2), "yellow": (4, 1), "orange": (2, 1), "red": (4, 3)}


def test_the_head_sees_the_hand_count_of_the_branch(client, hand_made):
    client.login("head")
    page = _page(client, hand_made.month)
    assert _levels(page) == HAND_COUNT
    assert _lifts(page) == ["×1.00", "×1.00", "×2.00", "×3.00"]
    levels = _section(page, "levels")
    for share in ("25.0 %", "50.0 %", "75.0 %"):
        assert share in levels
    no_warning = re.search(r'data-testid="no-warning" data-count="(\d+)" data-of="(\d+)"', page)
    assert no_warning.groups() == ("2", "7")
    assert "28.6 %" in _section(page, "summary")
    assert _figure(page, "unscheduled") == 1
    # The month's own row says the same (the months before it had no visits); in M's
    # window only n1 was in trouble without a visit in M.
    row = _row(page, "months", "data-month", str(hand_made.month))
    assert _counts(row) == HAND_COUNT
    assert 'data-complete="yes" data-not-visited="1"' in row
    assert 'data-month="' + str(hand_made.month.shift(-11)) + '"' in page
    assert 'data-testid="branches"' not in page  # the head's branch only


def test_the_admin_sees_the_company_with_a_row_per_branch(client, world, hand_made):
    client.login("admin")
    page = _page(client, hand_made.month)
    assert _levels(page) == {"green": (9, 2), "yellow": (4, 1), "orange": (2, 1), "red": (5, 4)}
    assert _lifts(page) == ["×1.00", "×1.12", "×2.25", "×3.60"]
    own = _row(page, "branches", "data-branch", world.branch.name)
    other = _row(page, "branches", "data-branch", world.other_branch.name)
    assert _counts(own) == HAND_COUNT
    assert _counts(other) == {"green": (1, 0), "yellow": (0, 0), "orange": (0, 0), "red": (1, 1)}


@pytest.mark.parametrize("role", ["officer", "borrower"])
def test_officers_and_borrowers_are_refused(client, world, role):
    client.login(role)
    assert client.get("/reports/warnings").status_code == 403


# --- the window's edges: one green borrower with one instalment -----------------------------

EDGES = {
    # name: (due_on, settled_on, written_off_on) as (day, offset) from a or b; in trouble?
    "29 days late on the last day": (("b", -29), None, None, False),
    "30 days late on the last day": (("b", -30), None, None, True),
    "settled on the last day, 30 days after it fell due": (("b", -30), ("b", 0), None, False),
    "settled the day after the window": (("b", -30), ("b", 1), None, True),
    "trouble that ended on the first day": (("a", -60), ("a", 0), None, False),
    "trouble that ran into the first day": (("a", -60), ("a", 1), None, True),
    "paid 29 days late inside the window": (("a", 0), ("a", 29), None, False),
    "paid 31 days late inside the window": (("a", 0), ("a", 31), None, True),
    "paid 30 days late inside the window": (("a", 0), ("a", 30), None, False),
    "written off before the window": (("a", -60), None, ("a", -1), False),
    "written off on the first day": (("a", -60), None, ("a", 0), True),
    "written off before 30 days late": (("a", 10), None, ("a", 39), False),
    "written off on the 30th day late": (("a", 10), None, ("a", 40), True),
}


def _day(cohort: Cohort, spec) -> date | None:
    if spec is None:
        return None
    edge, offset = spec
    return (cohort.first if edge == "a" else cohort.last) + offset * DAY


@pytest.mark.parametrize("case", EDGES)
def test_the_edges_of_the_window(app, client, world, case):
    due, settled, written_off, in_trouble = EDGES[case]
    cohort = _cohort(app)
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer)
        instalment = (_day(cohort, due), _day(cohort, settled))
        _loan(borrower, [instalment], written_off_on=_day(cohort, written_off))
        make_visit(borrower, officer, _at(cohort.month.day(15)))
        db.session.commit()
    client.login("head")
    row = _row(_page(client, cohort.month), "months", "data-month", str(cohort.month))
    assert _counts(row)["green"] == (1, int(in_trouble))


def test_a_visit_counts_in_the_month_of_the_company_calendar(app, client, world):
    """23:59 on M's last day (local time) is M; 00:00 on the 1st of M+1 is not."""
    cohort = _cohort(app)
    following = cohort.month.shift(1)
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        late = make_borrower(officer)
        _loan(late, [(cohort.first - 10 * DAY, None)])
        make_visit(late, officer, _at(cohort.month.last_day, 23, 59), risk_signals=SIGNALS[RED])
        early = make_borrower(officer)
        _loan(early, [(cohort.first - 10 * DAY, None)])
        make_visit(early, officer, _at(following.first_day, 0, 0), risk_signals=SIGNALS[RED])
        db.session.commit()
    client.login("head")
    page = _page(client, following)
    month_row = _row(page, "months", "data-month", str(cohort.month))
    assert _counts(month_row)["red"] == (1, 1)
    assert 'data-not-visited="1"' in month_row  # ``early``: in trouble, visited only later
    assert _counts(_row(page, "months", "data-month", str(following)))["red"] == (1, 1)


def test_incomplete_months_are_shown_and_left_out_of_the_totals(app, client, world):
    with app.app_context():
        this_month = current_month()
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer)
        recent = this_month.shift(-2)  # its window ends next month
        _loan(borrower, [(recent.first_day, None)])
        make_visit(borrower, officer, _at(recent.day(5)), risk_signals=SIGNALS[RED])
        db.session.commit()
    client.login("head")
    page = _page(client, this_month)
    marks = dict(re.findall(r'data-month="([\d-]+)" data-complete="(\w+)"', page))
    assert [month for month, complete in marks.items() if complete == "no"] == [
        str(this_month.shift(-offset)) for offset in (3, 2, 1, 0)
    ]
    assert _counts(_row(page, "months", "data-month", str(recent)))["red"] == (1, 1)
    assert _levels(page)["red"] == (0, 0)
    # The default is the last complete month: four months ago.
    default = _page(client)
    assert f'value="{this_month.shift(-4)}"' in default
    assert 'data-complete="no"' not in default


def test_the_figures_take_the_same_queries_whatever_the_data(app, world, hand_made):
    def queries() -> int:
        with app.test_request_context(), counted(app) as statements:
            warnings.warnings_table(hand_made.month)
        return len(statements)

    before = queries()
    with app.app_context():
        officer = db.session.get(User, world.other_officer.id)
        for _ in range(5):
            _borrower(officer, hand_made, ORANGE, [(hand_made.first - 40 * DAY, None)])
        db.session.commit()
    # The stored months, the others' figures, the branches' names (+ BEGIN).
    assert queries() == before <= 4


# --- stored months ---------------------------------------------------------------------------


def _stored_rows(month: Month) -> dict[tuple[int, str | None], tuple[int, int, int]]:
    rows = db.session.scalars(sa.select(WarningFigure).where(WarningFigure.month == str(month)))
    return {
        (row.branch_id, row.risk_level and row.risk_level.value): (
            row.borrowers,
            row.in_trouble,
            row.visited,
        )
        for row in rows
    }


def test_the_stored_month_holds_the_hand_count(app, world, hand_made):
    with app.app_context():
        built = warnings.build_missing()
        db.session.commit()
        assert hand_made.month in built
        assert built == warnings.buildable_months()
        assert warnings.build_missing() == []  # each month once
        stored = _stored_rows(hand_made.month)
        branch = world.branch.id
        # (borrowers with a schedule, in trouble, visited): u1 is green but left out.
        assert stored[(branch, "green")] == (8, 2, 9)
        assert stored[(branch, "yellow")] == (4, 1, 4)
        assert stored[(branch, "orange")] == (2, 1, 2)
        assert stored[(branch, "red")] == (4, 3, 4)
        assert stored[(branch, None)] == (0, 1, 0)  # n1: no visit in M
        assert stored[(world.other_branch.id, "red")] == (1, 1, 1)
        assert warnings.differences() == []


CSRF = re.compile(r'(name="csrf[-_]token" (content|value)=)"[^"]*"')


@pytest.mark.parametrize("role", ["head", "admin"])
def test_the_page_is_the_same_before_and_after_the_months_are_stored(app, client, hand_made, role):
    def pages() -> list[str]:
        shown = hand_made.month.shift(4)  # M and the months after it, the last ones incomplete
        texts = [_page(client, hand_made.month), _page(client, shown), _page(client)]
        return [CSRF.sub("", text) for text in texts]

    client.login(role)
    before = pages()
    with app.app_context():
        assert warnings.build_missing()
        db.session.commit()
    after = pages()
    assert after == before
    assert _levels(after[0]) != dict.fromkeys(HAND_COUNT, (0, 0))


def test_the_page_reads_the_stored_months(app, world, hand_made):
    with app.app_context():
        warnings.build_missing()
        db.session.commit()
    with app.test_request_context(), counted(app) as statements:
        warnings.warnings_table(hand_made.month)
        warnings.warnings_table(hand_made.month, world.branch.id)
    assert not [s for s in statements if "loan_instalments" in s or "visits" in s]


def _plant(month: Month, branch_id: int) -> None:
    db.session.execute(
        sa.update(WarningFigure)
        .where(
            WarningFigure.month == str(month),
            WarningFigure.branch_id == branch_id,
            WarningFigure.risk_level == GREEN,
        )
        .values(in_trouble=WarningFigure.in_trouble + 1)
    )
    db.session.commit()


def test_the_command_finds_a_planted_difference_and_the_rebuild_mends_it(
    app, client, world, hand_made
):
    runner = app.test_cli_runner()
    stored = runner.invoke(args=["reports", "warnings"])
    assert stored.exit_code == 0, stored.output
    with app.app_context():
        months = warnings.buildable_months()
    assert hand_made.month in months
    assert f"Stored {len(months)} months: {months[0]} to {months[-1]}." in stored.output
    assert runner.invoke(args=["reports", "warnings", "--check"]).exit_code == 0
    with app.app_context():
        _plant(hand_made.month, world.branch.id)
    client.login("head")
    assert _levels(_page(client, hand_made.month))["green"] == (8, 3)  # as stored
    result = runner.invoke(args=["reports", "warnings", "--check"])
    assert result.exit_code == 1
    assert f"{hand_made.month} branch {world.branch.id} green" in result.output
    assert "[8, 3, 9], computed [8, 2, 9]" in result.output
    rebuilt = runner.invoke(args=["reports", "warnings", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["reports", "warnings", "--check"]).exit_code == 0
    assert _levels(_page(client, hand_made.month))["green"] == (8, 2)


def test_the_worker_stores_new_months_each_hour_and_recent_ones_again_each_night(
    app, world, hand_made
):
    from portal.jobs.tasks import build_warning_months, rebuild_recent_warning_months

    with app.app_context():
        build_warning_months.call_local()  # what the worker runs at minute 3 of each hour
        db.session.remove()
        expected = [str(month) for month in warnings.buildable_months()]
        assert str(hand_made.month) in expected
        assert sorted(db.session.scalars(sa.select(WarningMonth.month))) == expected
        assert warnings.differences() == []
        old = warnings.buildable_months()[-warnings.RECENT_MONTHS - 1]
        _plant(hand_made.month, world.branch.id)  # six months ago: among the last 15
        db.session.add(WarningFigure(month=str(old), branch_id=world.branch.id, visited=1))
        db.session.commit()
        rebuild_recent_warning_months.call_local()  # at 00:25 each night
        db.session.remove()
        assert [(d[0], d[1]) for d in warnings.differences()] == [(str(old), world.branch.id)]


# --- in the monthly branch report -----------------------------------------------------------


def test_the_monthly_report_prints_what_became_of_the_warnings(app, client, world, hand_made):
    """The report of M+3 (the month M's window ends) shows M last among its twelve months."""
    client.login("head")
    english(client)
    printed = hand_made.month.shift(3)
    pdf = pdf_of(client.get(f"/reports/branch/{world.branch.name}/{printed}.pdf"))
    pages = page_texts(pdf)
    [page] = [text for text in pages if squeeze("Do the warnings work?") in text][1:]  # TOC, then
    assert_printed(
        page,
        [
            f"{hand_made.month.shift(-11)} to {hand_made.month}: 12 complete months",
            "Red 4 3 75.0 % ×3.00",
            "Orange 2 1 50.0 % ×2.00",
            "Green 8 2 25.0 % ×1.00",
            "2 of the 7 visited borrowers who fell 30+ days overdue had a green visit (28.6 %)",
            f"{hand_made.month} 2/8 1/4 1/2 3/4 2/7 1",
        ],
    )
    save_page(pdf, "reports-branch-warnings-work", pages.index(page) + 1)


def test_the_monthly_report_prints_the_portfolio_quality(app, client, world, hand_made):
    client.login("head")
    english(client)
    printed = hand_made.month.shift(3)
    pdf = pdf_of(client.get(f"/reports/branch/{world.branch.name}/{printed}.pdf"))
    text = text_of(pdf)
    section = text[text.rindex(squeeze("Portfolio quality")) :]
    assert_printed(section, [f"On {printed.last_day.isoformat()}", "PAR30", "officer"])
    cover = text[: text.index(squeeze("Visit compliance per loan officer"))]
    assert_printed(cover, ["Portfolio at risk, 30+ days"])


def test_the_compliance_page_links_to_the_page(client, world):
    client.login("head")
    page = client.get("/visits/compliance").text
    assert 'href="/reports/warnings" data-testid="warnings-work"' in page


def _plan(connection, statement) -> str:
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql("EXPLAIN " + statement.sql, statement.params)
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
    return "\n".join(row[-1] for row in rows)


def test_the_late_instalments_are_read_from_their_partial_index(app):
    """A generated company with fresh statistics: every window reads the instalments ever
    paid late from ``ix_loan_instalments_late``, and nothing is read once per row."""
    with app.test_request_context():
        ensure_catalogue()  # emptied with every table after the previous test
        generate(200, 12, 20261122, per_officer=10, per_branch=2)
        # Months the generator stored are forgotten: here they are computed.
        db.session.execute(sa.delete(WarningFigure))
        db.session.execute(sa.delete(WarningMonth))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        last = warnings.latest_complete_month()
        branch = db.session.scalar(sa.select(Branch.id).order_by(Branch.code).limit(1))
        with plans.capture(db.engine) as statements:
            company = warnings.warnings_table(last)
            warnings.warnings_table(last, branch)
        assert company.total.visited_in_trouble > 0  # the generated loans fall behind too
        figures = [s for s in statements if "loan_instalments" in s.sql]
        assert len(figures) == 2
        with db.engine.connect() as connection:
            for statement in figures:
                assert plans.problems(connection, statement) == []
                plan = _plan(connection, statement)
                assert plan.count("ix_loan_instalments_late") >= warnings.MONTHS, plan


@pytest.mark.browser
def test_the_admin_reads_the_page_in_a_browser(page, hand_made, screenshot):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(page.base_url + f"/reports/warnings?month={hand_made.month}")
    assert (
        page.locator("[data-testid=levels] tr[data-level=red] [data-testid=lift]").inner_text()
        == "×3.60"
    )
    assert page.locator("[data-testid=branches] tbody tr").count() == 3  # two branches, total
    screenshot("warnings-company")
