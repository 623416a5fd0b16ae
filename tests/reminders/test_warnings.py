"""Red warnings: a deadline from the rule table, escalation to the head then the admin,
each once, and the queue showing where each warning stands."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.care.models import OutboxMessage
from portal.database import utcnow
from portal.extensions import db
from portal.reminders import operations, texts
from portal.reminders.models import StaffNotice, StaffSms
from portal.visits.deadlines import warning_deadlines
from portal.visits.models import VisitWarning
from portal.visits.operations import acknowledge_warning
from portal.visits.risk import (
    DEFAULT_WARNING_DEADLINE,
    WARNING_DEADLINES,
    RiskSignal,
    WarningDeadline,
    warning_deadline,
)
from tests.factories import make_user
from tests.visits.helpers import make_visit

OVERDUE_AND_SUSPENDED = frozenset({RiskSignal.REPAYMENT_OVERDUE, RiskSignal.BUSINESS_SUSPENDED})


def test_the_rule_table_gives_the_shortest_deadline_of_the_signals():
    assert warning_deadline([RiskSignal.REPAYMENT_OVERDUE]) == WarningDeadline(2, 3)
    assert warning_deadline(OVERDUE_AND_SUSPENDED) == WarningDeadline(2, 3)
    assert warning_deadline(["funds_diverted", "business_suspended"]) == WarningDeadline(1, 2)
    # A red visit always has a critical signal; the default covers a table changed later.
    assert warning_deadline([RiskSignal.NEW_LARGE_DEBTS]) == DEFAULT_WARNING_DEADLINE
    assert set(WARNING_DEADLINES) == {s for s in RiskSignal if s.value in {
        "repayment_overdue", "funds_diverted", "business_suspended", "unreachable"}}  # fmt: skip
    with pytest.raises(ValueError, match="unknown risk signal"):
        warning_deadline(["no_such_signal"])


def test_deadlines_count_whole_days_on_the_company_calendar(app_ctx):
    # Monday 23 November 2026, 23:30 in Shanghai (15:30 UTC): one day to act means
    # before Wednesday 00:00 local time, whatever the hour it was raised.
    raised = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    deadlines = warning_deadlines(raised, [RiskSignal.FUNDS_DIVERTED])
    assert deadlines["act_by"] == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 25 Nov 00:00
    assert deadlines["admin_by"] == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 27 Nov 00:00
    early = warning_deadlines(datetime(2026, 11, 23, 0, 30, tzinfo=UTC), ["repayment_overdue"])
    assert early["act_by"] == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 26 Nov 00:00
    assert early["admin_by"] == datetime(2026, 11, 28, 16, 0, tzinfo=UTC)


@pytest.fixture
def red(app, world):
    """A red visit of the World's own borrower, signed a day ago: its warning's id."""
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1, hours=1),
            risk_signals=OVERDUE_AND_SUSPENDED,
        )
        db.session.commit()
        return db.session.scalar(
            sa.select(VisitWarning.id).where(VisitWarning.visit_id == visit.id)
        )


def _warning(app, warning_id) -> VisitWarning:
    with app.app_context():
        warning = db.session.get(VisitWarning, warning_id)
        db.session.expunge(warning)
        return warning


def _escalate(app, now) -> tuple[int, int]:
    with app.app_context():
        counts = operations.escalate_warnings(now)
        db.session.commit()
        return counts


def _notices(app, kind=None) -> list[tuple[int, str]]:
    with app.app_context():
        stmt = sa.select(StaffNotice.user_id, StaffNotice.kind).order_by(StaffNotice.id)
        if kind:
            stmt = stmt.where(StaffNotice.kind == kind)
        return [tuple(row) for row in db.session.execute(stmt)]


def test_a_red_visit_raises_its_warning_with_the_rule_tables_deadline(app, red):
    warning = _warning(app, red)
    with app.app_context():
        expected = warning_deadlines(warning.raised_at, OVERDUE_AND_SUSPENDED)
    assert (warning.act_by, warning.admin_by) == (expected["act_by"], expected["admin_by"])
    assert warning.admin_by > warning.act_by
    assert warning.escalation_level == 0
    assert warning.head_alerted_at is None and warning.admin_alerted_at is None


def test_past_the_deadline_the_head_is_alerted_once_then_the_admin_once(app, world, red):
    warning = _warning(app, red)
    assert _escalate(app, warning.act_by - timedelta(minutes=1)) == (0, 0)
    assert _notices(app) == []

    assert _escalate(app, warning.act_by + timedelta(minutes=1)) == (1, 0)
    assert _escalate(app, warning.act_by + timedelta(hours=2)) == (0, 0)  # told once
    assert _notices(app) == [(world.head.id, texts.WARNING_HEAD)]
    assert _warning(app, red).escalation_level == 1

    assert _escalate(app, warning.admin_by + timedelta(minutes=1)) == (0, 1)
    assert _escalate(app, warning.admin_by + timedelta(days=3)) == (0, 0)
    assert _notices(app) == [
        (world.head.id, texts.WARNING_HEAD),
        (world.admin.id, texts.WARNING_ADMIN),
    ]
    assert _warning(app, red).escalation_level == 2
    with app.app_context():
        audited = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "visit.warning_escalated")
        ).all()
    assert audited == ["warning.head: head", "warning.admin: admin"]


def test_a_warning_acted_on_in_time_is_never_escalated(app, world, red):
    with app.app_context():
        warning = db.session.get(VisitWarning, red)
        acknowledge_warning(warning, db.session.get(User, world.head.id), "已电话联系借款人")
        db.session.commit()
    assert _escalate(app, utcnow() + timedelta(days=30)) == (0, 0)
    assert _notices(app) == []


def test_a_first_run_on_an_old_warning_gives_it_a_deadline_and_alerts_both(app, world, red):
    # A warning from before deadlines existed (like the demo's, open since August).
    with app.app_context():
        db.session.execute(
            sa.update(VisitWarning)
            .where(VisitWarning.id == red)
            .values(act_by=None, admin_by=None, raised_at=datetime(2026, 8, 3, 2, 0, tzinfo=UTC))
        )
        db.session.commit()
    assert _escalate(app, utcnow()) == (1, 1)
    warning = _warning(app, red)
    assert warning.act_by == datetime(2026, 8, 5, 16, 0, tzinfo=UTC)  # by 5 August, two days
    assert {kind for _, kind in _notices(app)} == {texts.WARNING_HEAD, texts.WARNING_ADMIN}


def test_the_heads_of_other_branches_hear_nothing_and_inactive_staff_neither(app, world, red):
    with app.app_context():
        branch = db.session.get(Branch, world.branch.id)
        make_user("formerhead", Role.HEAD, branch).active = False
        make_user("secondhead", Role.HEAD, branch)
        db.session.commit()
    _escalate(app, utcnow() + timedelta(days=3))
    with app.app_context():
        told = set(
            db.session.scalars(
                sa.select(User.username).join(StaffNotice, StaffNotice.user_id == User.id)
            )
        )
    assert told == {"head", "secondhead"}


def test_a_head_who_opted_in_is_texted_once_in_their_language(app, world, red):
    with app.app_context():
        head = db.session.get(User, world.head.id)
        head.locale = "en"
        db.session.add(StaffSms(user_id=head.id, mobile="13912345678", opted_in=True))
        db.session.commit()
    warning = _warning(app, red)
    for _ in range(2):
        _escalate(app, warning.act_by + timedelta(minutes=5))
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert [(r.user_id, r.borrower_id, r.occasion_code) for r in rows] == [
            (world.head.id, None, "warning_head")
        ]
        (row,) = rows
        assert row.once_key == f"staff:warning.head:{red}:1:{world.head.id}"
        assert row.mobile == "13912345678" and row.locale == "en"
        assert row.body.startswith("head: A red warning is past its deadline")
        assert row.recipient_name == "head"
        assert row.template_values["borrower"] == world.own_borrower.name


def test_two_runs_at_once_alert_each_level_once(app, world, red):
    warning = _warning(app, red)
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context():
                start.wait()
                results.append(operations.escalate_warnings(warning.admin_by + timedelta(hours=1)))
                db.session.commit()
        except Exception as error:  # pragma: no cover - shown by the assertion
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [(0, 0), (1, 1)]
    assert sorted(kind for _, kind in _notices(app)) == [texts.WARNING_ADMIN, texts.WARNING_HEAD]


def test_the_queue_shows_the_deadline_and_the_escalation(app, client, world, red):
    client.login("head")
    client.submit("/account", {"locale": "en"})
    page = client.get("/visits/warnings").get_data(as_text=True)
    deadline = page.split('data-testid="deadline"')[1].split("</div>")[0]
    assert 'data-level="0"' in deadline and "To be acted on by" in deadline
    assert "Escalated" not in deadline

    _escalate(app, _warning(app, red).act_by + timedelta(minutes=1))
    with app.app_context():  # the deadline is now behind us
        db.session.execute(sa.update(VisitWarning).values(act_by=utcnow() - timedelta(hours=1)))
        db.session.commit()
    page = client.get("/visits/warnings").get_data(as_text=True)
    deadline = page.split('data-testid="deadline"')[1].split("</div>")[0]
    assert 'data-level="1"' in deadline
    assert "Past its deadline" in deadline and "Escalated to the branch head" in deadline
    assert "the admin is alerted on" in deadline

    reminders = client.get("/reminders/").get_data(as_text=True)
    assert "A red warning is past its deadline" in reminders
    assert world.own_borrower.name in reminders


def test_several_warnings_at_once_make_one_text_per_person(app, world, red):
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        make_visit(
            borrower, officer, utcnow() - timedelta(days=1), risk_signals=OVERDUE_AND_SUSPENDED
        )
        db.session.add(StaffSms(user_id=world.head.id, mobile="13912345678", opted_in=True))
        db.session.add(StaffSms(user_id=world.admin.id, mobile="13912340000", opted_in=True))
        db.session.commit()
    assert _escalate(app, utcnow() + timedelta(days=30)) == (2, 2)
    assert len(_notices(app, texts.WARNING_HEAD)) == 2  # one per warning in the portal
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.user_id, r.occasion_code) for r in rows] == [
            (world.head.id, "warnings_head"),
            (world.admin.id, "warnings_admin"),
        ]
        assert rows[0].template_values["count"] == "2"
    assert _escalate(app, utcnow() + timedelta(days=31)) == (0, 0)
