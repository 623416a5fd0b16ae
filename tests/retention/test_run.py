"""The daily retention run: what it deletes, what it keeps, when it anonymises, and that
it leaves a borrower under a legal hold alone (portal/retention/run.py)."""

from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import IdCardPhoto
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, Repayment
from portal.networking.models import ProfileEntry
from portal.portfolio.quality import quality_by_branch
from portal.privacy import consents
from portal.privacy.models import OPTIONAL_PURPOSES, ConsentMethod, Purpose
from portal.retention import operations, schedule
from portal.retention.run import apply, placeholder_name
from portal.visits import chain
from portal.visits.models import Visit
from tests.factories import make_loan
from tests.retention.helpers import (
    CLOSED_ON,
    borrower,
    count,
    erased_of,
    greetings_of,
    kept,
    make_client,
    photos_of,
)

# The optional data's period ends this many days after the loan closed.
OPTIONAL_END = CLOSED_ON + timedelta(days=schedule.OPTIONAL_DAYS)
LEGAL_END = CLOSED_ON.replace(year=CLOSED_ON.year + schedule.LEGAL_YEARS)


def _officer(world):
    return db.session.get(User, world.officer.id)


def _withdraw(borrower_id, purpose, world):
    consents.decide(borrower(borrower_id), purpose, False, ConsentMethod.PORTAL, _officer(world))


def test_withdrawn_consents_delete_their_data_and_keep_the_records(app, world):
    with app.app_context():
        active = make_client(_officer(world), closed_on=None)
        for purpose in (Purpose.PHOTOS, Purpose.NETWORKING, Purpose.GREETINGS):
            _withdraw(active, purpose, world)
        before = kept(active)
        db.session.commit()

        outcome = apply(date(2026, 12, 1))

        assert photos_of(active) == 0 and erased_of(active) == 2
        assert count(ProfileEntry, borrower_id=active) == 0
        assert greetings_of(active) == 0
        assert kept(active) == before  # the loan, the visit, the repayment reminder
        assert borrower(active).anonymised_at is None
        assert borrower(active).resident_id is not None
        assert outcome.deleted == {"photos": 2, "profile": 2, "greetings": 2}
        assert outcome.anonymised == 0


def test_one_withdrawn_consent_deletes_only_its_own_kind(app, world):
    with app.app_context():
        active = make_client(_officer(world), closed_on=None)
        _withdraw(active, Purpose.NETWORKING, world)
        db.session.commit()

        apply(date(2026, 12, 1))

        assert count(ProfileEntry, borrower_id=active) == 0
        assert photos_of(active) == 2
        assert greetings_of(active) == 2


def test_everything_is_kept_within_the_periods(app, world):
    with app.app_context():
        closed = make_client(_officer(world))
        active = make_client(_officer(world), closed_on=None)
        db.session.commit()

        outcome = apply(OPTIONAL_END - timedelta(days=1))

        for kept_id in (closed, active):
            assert photos_of(kept_id) == 2
            assert count(ProfileEntry, borrower_id=kept_id) == 2
            assert greetings_of(kept_id) == 2
        assert not outcome.deleted and outcome.anonymised == 0


def test_optional_data_goes_when_the_period_after_the_last_loan_is_over(app, world):
    with app.app_context():
        closed = make_client(_officer(world))
        active = make_client(_officer(world), closed_on=None)
        before = kept(closed)
        db.session.commit()

        apply(OPTIONAL_END)

        assert photos_of(closed) == 0 and erased_of(closed) == 2
        assert count(ProfileEntry, borrower_id=closed) == 0
        assert greetings_of(closed) == 0
        assert kept(closed) == before
        assert borrower(closed).anonymised_at is None
        # A client with a loan still open keeps everything, however old their data.
        assert photos_of(active) == 2 and greetings_of(active) == 2


def test_a_second_loan_still_open_keeps_the_optional_data(app, world):
    with app.app_context():
        closed = make_client(_officer(world))
        make_loan(borrower(closed), LoanStatus.APPLIED)
        db.session.commit()

        apply(LEGAL_END + timedelta(days=1))

        assert photos_of(closed) == 2
        assert borrower(closed).anonymised_at is None


def test_the_visit_chain_still_verifies_after_its_photos_are_deleted(app, world):
    with app.app_context():
        closed = make_client(_officer(world), photos=3)
        db.session.commit()
        assert chain.verify_chain(closed).ok

        apply(OPTIONAL_END)

        assert photos_of(closed) == 0
        check = chain.verify_chain(closed)
        assert check.ok, check.first_break and check.first_break.reason
        assert len(check.records) == 1
        # The visit's own verification (its page and PDF) agrees.
        from portal.visits.operations import verify

        visit = db.session.scalars(sa.select(Visit).where(Visit.borrower_id == closed)).one()
        assert verify(visit)


def test_a_photo_removed_otherwise_still_breaks_the_chain(app, world):
    from portal.visits.models import ERASING_PHOTOS, VisitPhoto

    with app.app_context():
        closed = make_client(_officer(world))
        db.session.commit()
        visit_id = db.session.scalar(sa.select(Visit.id).where(Visit.borrower_id == closed))
        # Deleted behind the erasure's back: no record of what the record signed.
        db.session.execute(
            sa.delete(VisitPhoto)
            .where(VisitPhoto.visit_id == visit_id, VisitPhoto.position == 1)
            .execution_options(**{ERASING_PHOTOS: True})
        )
        db.session.commit()

        assert not chain.verify_chain(closed).ok


def test_after_the_legal_period_the_borrower_is_anonymised_and_the_statistics_stay(app, world):
    from portal.core.calendar import current_month
    from portal.visits.compliance import branch_trend

    with app.app_context():
        officer = _officer(world)
        login = User(
            username="borrower:x", display_name="x", role=Role.BORROWER, branch_id=officer.branch_id
        )
        db.session.add(login)
        db.session.flush()
        closed = make_client(officer, user=login)
        name = borrower(closed).full_name
        db.session.commit()
        day = date.today()

        def statistics():
            quality = quality_by_branch(day).get(world.branch.id)
            trend = branch_trend(world.branch.id, current_month())
            return (
                count(Loan, branch_id=world.branch.id),
                count(Visit, branch_id=world.branch.id),
                db.session.scalar(sa.select(sa.func.count(Repayment.id))),
                repr(quality),
                [(str(m.month), m.owed, m.done) for m in trend],
            )

        before, records = statistics(), kept(closed)

        assert apply(LEGAL_END - timedelta(days=1)).anonymised == 0
        assert borrower(closed).anonymised_at is None
        outcome = apply(LEGAL_END)
        db.session.expire_all()

        assert outcome.anonymised == 1
        anonymised = borrower(closed)
        assert anonymised.anonymised_at is not None
        assert anonymised.full_name == placeholder_name(closed)
        assert anonymised.name_initials == ""
        assert anonymised.resident_id is None and anonymised.mobile is None
        assert anonymised.resident_id_tail == "" and anonymised.mobile_tail == ""
        assert anonymised.address == "" and anonymised.guarantor_name == ""
        assert not anonymised.guarantor_phone
        assert (anonymised.birth_date.month, anonymised.birth_date.day) == (1, 1)
        assert db.session.get(IdCardPhoto, closed) is None
        login = db.session.get(User, login.id)
        assert not login.active and login.display_name == placeholder_name(closed)
        assert login.password_hash == ""
        assert kept(closed) == records
        assert statistics() == before
        # The texts sent keep their row, not their words.
        from portal.care.models import OutboxMessage

        reminder = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.borrower_id == closed)
        ).one()
        assert reminder.body == "" and reminder.mobile is None and reminder.mobile_hash is None
        # Nothing of the person is left in what the run wrote to the audit log.
        summaries = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action.like("retention.%"))
        ).all()
        assert summaries and not any(name in text for text in summaries)
        assert chain.verify_chain(closed).ok
        # No optional processing for a person no longer known.
        assert not any(consents.given(closed, purpose) for purpose in OPTIONAL_PURPOSES)
        assert consents.given(closed, Purpose.LOAN)


def test_a_borrower_under_a_legal_hold_is_skipped_until_it_is_lifted(app, world):
    with app.app_context():
        head = db.session.get(User, world.head.id)
        held = make_client(_officer(world))
        free = make_client(_officer(world))
        _withdraw(held, Purpose.GREETINGS, world)
        hold = operations.place_hold(borrower(held), "诉讼中", head)
        db.session.commit()

        outcome = apply(LEGAL_END)

        assert outcome.anonymised == 1 and borrower(free).anonymised_at is not None
        assert borrower(held).anonymised_at is None
        assert photos_of(held) == 2 and greetings_of(held) == 2
        assert count(ProfileEntry, borrower_id=held) == 2
        assert db.session.get(IdCardPhoto, held) is not None

        operations.lift_hold(hold, head)
        db.session.commit()
        outcome = apply(LEGAL_END)

        assert outcome.anonymised == 1
        assert borrower(held).anonymised_at is not None
        assert photos_of(held) == 0 and greetings_of(held) == 0


def test_the_audit_names_kind_and_count_never_the_content(app, world):
    with app.app_context():
        closed = make_client(_officer(world))
        who = borrower(closed)
        secrets = (who.full_name, who.resident_id, who.mobile, "仔猪", "生日快乐")
        db.session.commit()

        apply(OPTIONAL_END)

        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("retention.%"))
        ).all()
        assert {entry.action for entry in entries} == {
            "retention.delete_photos",
            "retention.delete_profile",
            "retention.delete_greetings",
        }
        assert all(entry.object_id == str(closed) for entry in entries)
        assert all(entry.actor_name == "system" for entry in entries)
        summaries = {entry.action: entry.summary for entry in entries}
        assert summaries["retention.delete_photos"].startswith("2 photos deleted")
        for summary in summaries.values():
            assert not any(secret in summary for secret in secrets)


def test_a_second_run_does_nothing(app, world):
    with app.app_context():
        make_client(_officer(world))
        withdrawn = make_client(_officer(world), closed_on=None)
        _withdraw(withdrawn, Purpose.PHOTOS, world)
        db.session.commit()

        first = apply(LEGAL_END)
        entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
        second = apply(LEGAL_END)

        assert first.anonymised == 1 and first.deleted["photos"] == 4
        assert not second.deleted and second.anonymised == 0
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries


def test_batches_are_bounded_and_each_one_committed(app, world):
    with app.app_context():
        ids = [make_client(_officer(world), photos=1) for _ in range(3)]
        db.session.commit()

        outcome = apply(LEGAL_END, batch=2)

        assert outcome.anonymised == 3
        assert all(borrower(i).anonymised_at is not None for i in ids)


def test_the_command_runs_the_schedule_and_lists_the_holds(app, world):
    from portal.retention.cli import retention_cli

    with app.app_context():
        head = db.session.get(User, world.head.id)
        closed = make_client(_officer(world))
        operations.place_hold(borrower(world.own_borrower.id), "借款纠纷", head)
        db.session.commit()
    runner = app.test_cli_runner()

    listed = runner.invoke(retention_cli, ["holds"])
    assert listed.exit_code == 0 and "借款纠纷" in listed.output
    ran = runner.invoke(retention_cli, ["run", "--day", LEGAL_END.isoformat()])
    assert ran.exit_code == 0, ran.output
    assert "anonymised: 1 borrowers" in ran.output
    with app.app_context():
        assert borrower(closed).anonymised_at is not None
    assert runner.invoke(retention_cli, ["run", "--day", "2026-13-01"]).exit_code != 0


def test_the_schedule_prints_as_the_docs_show_it(app):
    from portal.retention.cli import retention_cli

    printed = app.test_cli_runner().invoke(retention_cli, ["schedule"]).output
    assert f"{schedule.LEGAL_YEARS} years after the relationship ends" in printed
    assert f"at most {schedule.OPTIONAL_DAYS} days" in printed
    assert printed.count("\n") == 2 + len(schedule.SCHEDULE)


def test_the_pages_of_an_anonymised_borrower_still_show(app, client, world):
    with app.app_context():
        closed = make_client(_officer(world))
        db.session.commit()
        apply(LEGAL_END)
    client.login("head")
    page = client.get(f"/borrowers/{closed}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="anonymised"' in text and placeholder_name(closed) in text
    assert f"/borrowers/{closed}/identity" not in text
    assert client.get(f"/borrowers/{closed}/identity").status_code == 403
    assert client.get(f"/borrowers/{closed}/edit").status_code == 200
    visit_id = None
    with app.app_context():
        visit_id = db.session.scalar(sa.select(Visit.id).where(Visit.borrower_id == closed))
    visit_page = client.get(f"/visits/{visit_id}")
    assert visit_page.status_code == 200
    assert 'data-testid="erased-photos"' in visit_page.get_data(as_text=True)


def test_the_worker_runs_it_nightly_at_00_35_once_per_day(app, world):
    from datetime import datetime

    from portal.jobs.models import Job, JobKind, JobStatus
    from portal.jobs.tasks import nightly_retention, run_periodic

    def fires(utc: datetime) -> bool:
        with app.app_context():
            return nightly_retention.task_class().validate_datetime(utc)

    # Shanghai is UTC+8: 00:35 there is 16:35 UTC the day before.
    assert fires(datetime(2026, 11, 25, 16, 35))
    assert not fires(datetime(2026, 11, 26, 0, 35))
    with app.app_context():
        job = run_periodic(JobKind.RETENTION, "retention@2026-11-26")
        assert run_periodic(JobKind.RETENTION, "retention@2026-11-26") is None
        job = db.session.get(Job, job.id)
        assert job.status == JobStatus.DONE and job.summary.startswith("Retention:")
