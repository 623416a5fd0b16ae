"""The monthly rule (docs/visits.md) pinned on hand-built borrowers."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.models import OfficerAssignment
from portal.core.calendar import Month, current_month
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits import counts
from portal.visits.compliance import branch_trend, officer_month
from portal.visits.models import Visit
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan, make_user
from tests.visits.helpers import make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts) -> datetime:
    """A moment on the company's wall clock."""
    return datetime(*parts, tzinfo=SHANGHAI)


def _borrower(officer, name, disbursed=date(2026, 1, 25), closed=None):
    borrower = make_borrower(officer, full_name=name)
    status = LoanStatus.CLOSED if closed else LoanStatus.ACTIVE
    make_loan(borrower, status, disbursed_on=disbursed, closed_on=closed)
    return borrower


@pytest.fixture(params=["counted", "kept"])
def october(app, world, request):
    """Borrowers around October 2026 (31 days; the reference day is the 20th).

    Twice: with the months counted from scratch when read, and with them built before
    the borrowers arrive, so that every write below keeps their counts.
    """
    with app.app_context():
        if request.param == "kept":
            counts.build([Month(2026, m) for m in range(1, 13)])
        a = db.session.get(User, world.officer.id)  # the world's own borrower is A's too
        b = make_user("officerb", Role.OFFICER, a.branch, display_name="乙信贷员")
        db.session.execute(sa.update(User).where(User.id == a.id).values(display_name="甲信贷员"))
        people = {
            "visited": _borrower(a, "甲一"),
            "missed": _borrower(a, "甲二"),
            "activated_15th": _borrower(a, "甲三", disbursed=date(2026, 10, 15)),
            "disbursed_31st": _borrower(a, "甲四", disbursed=date(2026, 10, 31)),
            "activated_20th": _borrower(a, "甲五", disbursed=date(2026, 10, 20)),
            "closed_12th": _borrower(a, "甲六", closed=date(2026, 10, 12)),
            "closed_25th": _borrower(a, "甲七", closed=date(2026, 10, 25)),
            "closed_20th": _borrower(a, "甲八", closed=date(2026, 10, 20)),
            "midnight": _borrower(a, "甲九"),
            "reassigned": _borrower(b, "乙十"),
            "amended": _borrower(a, "甲十一"),
        }
        # Looked after by A until 16 October, by B since.
        history = db.session.scalars(
            sa.select(OfficerAssignment).where(
                OfficerAssignment.borrower_id == people["reassigned"].id
            )
        ).one()
        history.officer_id, history.started_at = a.id, local(2026, 1, 1)
        history.ended_at = local(2026, 10, 16, 9)
        db.session.add(
            OfficerAssignment(
                borrower_id=people["reassigned"].id,
                officer_id=b.id,
                started_at=local(2026, 10, 16, 9),
            )
        )
        visits = [
            ("visited", local(2026, 10, 10, 9, 30), a),
            ("activated_20th", local(2026, 10, 31, 23, 59), a),  # last minute of October
            ("closed_25th", local(2026, 10, 5, 15), a),
            ("midnight", local(2026, 11, 1, 0, 0), a),  # first minute of November
            ("reassigned", local(2026, 10, 5, 10), a),  # by A, before the reassignment
            ("missed", local(2026, 9, 15, 10), a),
            ("amended", local(2026, 9, 30, 23, 30), a),
        ]
        for key, when, officer in visits:
            make_visit(people[key], officer, when)
        original = db.session.scalars(
            sa.select(Visit).where(Visit.borrower_id == people["amended"].id)
        ).one()
        make_visit(people["amended"], a, local(2026, 9, 30, 23, 40), amends=original)
        db.session.commit()
        return {key: borrower.full_name for key, borrower in people.items()} | {
            "a": a.id,
            "b": b.id,
            "own": world.own_borrower.name,
        }


def _counts(app, branch_id, month_text):
    with app.app_context():
        trend = branch_trend(branch_id, Month.parse(month_text))
        result = trend[-1]
        return (result.owed, result.done), {o.officer_id: (o.owed, o.done) for o in result.officers}


def test_october_compliance_per_officer(app, world, october):
    # Owed: loans active on 20 October. Not owed: disbursed on the 31st, closed on the
    # 12th, closed on the 20th. Done: visited, 23:59 on the 31st, closed on the 25th
    # but visited before, reassigned (visited by A, counted for B who holds it at month end).
    total, officers = _counts(app, world.branch.id, "2026-10")
    assert total == (9, 4)
    assert officers == {october["a"]: (8, 3), october["b"]: (1, 1)}


def test_september_compliance_counts_a_visit_once_with_its_amendment(app, world, october):
    total, officers = _counts(app, world.branch.id, "2026-09")
    assert total == (9, 2)  # the reassigned borrower was still A's at the end of September
    assert officers == {october["a"]: (9, 2)}


def test_november_compliance_counts_the_midnight_visit(app, world, october):
    total, officers = _counts(app, world.branch.id, "2026-11")
    # Disbursed on 31 October: owes its first visit in November.
    assert total == (9, 1)
    assert officers == {october["a"]: (8, 1), october["b"]: (1, 0)}


def test_month_bounds_are_local_midnights():
    start, end = Month(2026, 10).bounds(SHANGHAI)
    assert start == local(2026, 10, 1) and end == local(2026, 11, 1)
    assert start.utcoffset() == timedelta(0) and start.hour == 16  # 00:00 in Shanghai
    assert Month.of(local(2026, 10, 31, 23, 59), SHANGHAI) == Month(2026, 10)
    assert Month.of(local(2026, 11, 1, 0, 0), SHANGHAI) == Month(2026, 11)
    assert Month(2026, 1).shift(-1) == Month(2025, 12) and Month(2026, 12).shift(1) == Month(
        2027, 1
    )
    assert Month(2024, 2).last_day == date(2024, 2, 29)
    for bad in ("2026-13", "2026-1", "26-10", "", "2026-00", "abcd-ef"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def _section(page: str, testid: str) -> str:
    """The HTML of the element carrying ``data-testid`` (a list or a table)."""
    start = page.index(f'data-testid="{testid}"')
    tag = re.match(r"<(\w+)", page[page.rindex("<", 0, start) :]).group(1)
    return page[start : page.index(f"</{tag}>", start)]


def test_the_compliance_page_shows_officers_trend_and_missed_borrowers(client, world, october):
    client.login("head")
    page = client.get("/visits/compliance?month=2026-10").text
    assert "44 %" in page  # 4 of 9
    officers = _section(page, "officers")
    assert "甲信贷员" in officers and "乙信贷员" in officers
    assert '38 % <span class="small text-muted">(3/8)</span>' in officers
    assert '100 % <span class="small text-muted">(1/1)</span>' in officers
    assert '22 % <span class="small text-muted">(2/9)</span>' in officers  # September
    missed = _section(page, "missed")
    expected = {october[key] for key in ("missed", "activated_15th", "midnight", "amended", "own")}
    assert set(re.findall(r'">([^<]+)</a></td>', missed)) == expected
    assert "<svg" in page and page.count("<rect") == 6


def test_a_month_in_the_future_shows_this_month(app, client, world):
    client.login("head")
    page = client.get("/visits/compliance?month=2099-01").text
    with app.app_context():
        assert f'value="{current_month()}"' in page
    assert "无法识别月份" in client.get("/visits/compliance?month=tomorrow").text


@pytest.fixture
def this_month(app, world):
    """The officer's borrowers around the current month, whatever today is."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        month = current_month()
        start, _ = month.bounds(SHANGHAI)
        last_start, _ = month.shift(-1).bounds(SHANGHAI)
        older_start, _ = month.shift(-2).bounds(SHANGHAI)
        red = {"risk_signals": frozenset({RiskSignal.UNREACHABLE, RiskSignal.REPAYMENT_OVERDUE})}
        names = {
            "done": _borrower(officer, "本月已访"),
            "due_yellow": _borrower(officer, "本月待访黄"),
            "due_green": _borrower(officer, "本月待访绿"),
            "overdue_red": _borrower(officer, "上月漏访红"),
        }
        make_visit(names["done"], officer, min(start + timedelta(minutes=1), utcnow()))
        make_visit(
            names["due_yellow"],
            officer,
            last_start + timedelta(days=3),
            risk_signals=frozenset({RiskSignal.MARKET_COLLAPSE}),
        )
        make_visit(names["due_green"], officer, last_start + timedelta(days=4))
        make_visit(names["overdue_red"], officer, older_start + timedelta(days=2), **red)
        db.session.commit()
        return {key: borrower.full_name for key, borrower in names.items()}


def _names(section: str) -> list[str]:
    return re.findall(r'class="fw-semibold" href="[^"]+">([^<]+)</a>', section)


def test_the_officer_sees_overdue_due_and_done_ordered_by_risk(client, world, this_month):
    client.login("officer")
    page = client.get("/visits/month").text
    # The world's own borrower was never visited: unknown risk, after the red one.
    assert _names(_section(page, "overdue")) == [this_month["overdue_red"], world.own_borrower.name]
    assert _names(_section(page, "due")) == [this_month["due_yellow"], this_month["due_green"]]
    assert _names(_section(page, "done")) == [this_month["done"]]
    assert '<progress id="visit-progress" class="w-100" max="5" value="1"' in page
    assert "应走访 5 人，已走访 1 人（20 %）" in page
    home = client.get("/").text  # the officer's home is this page
    assert _section(home, "overdue") == _section(page, "overdue")


def test_another_officer_does_not_see_these_borrowers(client, world, this_month):
    client.login("otherofficer")
    page = client.get("/visits/month").text
    assert this_month["done"] not in page and world.own_borrower.name not in page


def test_a_visit_before_the_loan_owes_one_is_shown_as_visited_not_yet_owed(app, world):
    """Disbursed after the 20th and visited in the same month: listed apart, not counted."""
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        early = _borrower(officer, "月末放款", disbursed=date(2026, 10, 25))
        later = _borrower(officer, "月末放款未访", disbursed=date(2026, 10, 26))
        make_visit(early, officer, local(2026, 10, 27, 10))
        make_visit(later, officer, local(2026, 11, 2, 10))  # November: not this month's
        db.session.commit()
        month = officer_month(officer.id, now=local(2026, 10, 28, 12))
        assert [r.full_name for r in month.early] == ["月末放款"]
        assert "月末放款" not in [r.full_name for r in month.rows]
        assert "月末放款未访" not in [r.full_name for r in month.rows + month.early]
        # The next month the same loan owes its visit as any other.
        november = officer_month(officer.id, now=local(2026, 11, 28, 12))
        assert "月末放款" in [r.full_name for r in november.rows] and november.early == []


def test_the_month_page_lists_visited_not_yet_owed_apart(app, client, world):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        month = current_month()
        start, _ = month.bounds(SHANGHAI)
        borrower = _borrower(officer, "二十日后放款", disbursed=month.day(21))
        make_visit(borrower, officer, min(start + timedelta(minutes=1), utcnow()))
        db.session.commit()
    client.login("officer")
    page = client.get("/visits/month").text
    assert _names(_section(page, "early")) == ["二十日后放款"]
    assert "二十日后放款" not in _section(page, "done") + _section(page, "due")
    assert "已走访，本月尚不需走访" in page
