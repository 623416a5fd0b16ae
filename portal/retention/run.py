"""The daily retention run: the schedule of portal/retention/schedule.py, applied.

``apply(today)`` works in bounded batches (``schedule.BATCH`` borrowers), each its own
transaction, committed before the next is chosen, so a run never holds a long lock and a
run cut off in the middle has done whole batches. In order:

1. Optional data whose consent the borrower withdrew (the ``Consent`` row says no):
   visit photos (PHOTOS), business profile entries (NETWORKING), greeting history
   (GREETINGS).
2. Optional data of every kind of borrowers whose relationship ended
   ``schedule.OPTIONAL_DAYS`` ago or more.
3. Borrowers whose relationship ended ``schedule.LEGAL_YEARS`` ago or more are anonymised:
   who they are goes, the loans, repayments, visits, complaints and their figures stay.

A borrower with a legal hold in place is left out of every step. Each deletion and each
anonymisation writes an audit entry naming the kind and how many, never what was
deleted. A second run on the same day finds nothing left to do: every step chooses only
borrowers that still have something to delete.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.accounts.operations import revoke_sessions
from portal.audit.operations import record
from portal.borrowers.models import ActivationCode, Borrower, IdCardPhoto
from portal.care.models import OutboxMessage, OutboxStatus
from portal.core.calendar import local_midnight
from portal.database import utcnow
from portal.evidence.models import BorrowerSite
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.networking.models import ProfileEntry
from portal.privacy import consents
from portal.privacy.models import (
    OPTIONAL_PURPOSES,
    Consent,
    ConsentMethod,
    CorrectionRequest,
    IdentityCorrection,
)
from portal.retention import schedule
from portal.retention.models import LegalHold
from portal.retention.schedule import OPTIONAL_KINDS, Kind
from portal.visits import photos as visit_photos
from portal.visits.models import Visit, VisitPhoto


def placeholder_name(borrower_id: int) -> str:
    """The name an anonymised borrower is shown by (the same in every language)."""
    return f"已匿名 #{borrower_id}"


@dataclass
class Outcome:
    """What one run did: items deleted by kind, borrowers anonymised."""

    deleted: Counter = field(default_factory=Counter)
    borrowers: Counter = field(default_factory=Counter)
    anonymised: int = 0

    def __str__(self) -> str:
        parts = [
            f"{kind}: {self.deleted[kind]} of {self.borrowers[kind]} borrowers"
            for kind in Kind
            if self.deleted[kind]
        ]
        parts.append(f"anonymised: {self.anonymised} borrowers")
        return "Retention: " + "; ".join(parts) + "."


# --- When a relationship ended -----------------------------------------------------------


def _loan_end():
    """The day a loan ended (closed, written off, or its application rejected); NULL while open."""
    return sa.case(
        (Loan.status == LoanStatus.CLOSED, sa.func.coalesce(Loan.closed_on, Loan.written_off_on)),
        (sa.and_(Loan.status == LoanStatus.ACTIVE, Loan.written_off), Loan.written_off_on),
        (Loan.status == LoanStatus.REJECTED, sa.func.coalesce(Loan.decision_date, Loan.applied_on)),
        else_=sa.null(),
    )


def ended_by(cutoff: date):
    """WHERE clause: the borrower's relationship ended on or before ``cutoff``.

    No loan is open or ended after the cutoff, and the borrower was registered by then
    (a borrower who never applied ends on the day of registration).
    """
    end = _loan_end()
    return sa.and_(
        Borrower.created_at < local_midnight(cutoff + timedelta(days=1)),
        ~sa.exists().where(Loan.borrower_id == Borrower.id, sa.or_(end.is_(None), end > cutoff)),
    )


def not_held():
    """WHERE clause: no legal hold is in place for the borrower."""
    return ~sa.exists().where(LegalHold.borrower_id == Borrower.id, LegalHold.lifted_at.is_(None))


def withdrew(kind: Kind):
    """WHERE clause: the borrower withdrew the consent ``kind`` hangs on."""
    return sa.exists().where(
        Consent.borrower_id == Borrower.id,
        Consent.purpose == OPTIONAL_KINDS[kind],
        ~Consent.given,
    )


# --- The optional data, kind by kind -------------------------------------------------------


def _greetings(borrower_ids):
    # Greetings only (notices and reminders carry a once_key); one being sent right now is
    # left to the next run rather than pulled from under the delivery.
    return sa.and_(
        OutboxMessage.borrower_id.in_(borrower_ids) if borrower_ids is not None else sa.true(),
        OutboxMessage.once_key.is_(None),
        OutboxMessage.status != OutboxStatus.SENDING,
    )


def has_data(kind: Kind):
    """WHERE clause: the borrower still has data of ``kind``."""
    if kind == Kind.PHOTOS:
        return sa.exists().where(Visit.borrower_id == Borrower.id, VisitPhoto.visit_id == Visit.id)
    if kind == Kind.PROFILE:
        return sa.exists().where(ProfileEntry.borrower_id == Borrower.id)
    return sa.exists().where(OutboxMessage.borrower_id == Borrower.id, _greetings(None))


def _counts(kind: Kind, borrower_ids: list[int]) -> dict[int, int]:
    """How many items of ``kind`` each borrower has."""
    if kind == Kind.PHOTOS:
        stmt = (
            sa.select(Visit.borrower_id, sa.func.count(VisitPhoto.id))
            .join(VisitPhoto, VisitPhoto.visit_id == Visit.id)
            .where(Visit.borrower_id.in_(borrower_ids))
            .group_by(Visit.borrower_id)
        )
    elif kind == Kind.PROFILE:
        stmt = (
            sa.select(ProfileEntry.borrower_id, sa.func.count(ProfileEntry.id))
            .where(ProfileEntry.borrower_id.in_(borrower_ids))
            .group_by(ProfileEntry.borrower_id)
        )
    else:
        stmt = (
            sa.select(OutboxMessage.borrower_id, sa.func.count(OutboxMessage.id))
            .where(_greetings(borrower_ids))
            .group_by(OutboxMessage.borrower_id)
        )
    return dict(db.session.execute(stmt).all())


def _delete(kind: Kind, borrower_ids: list[int]) -> None:
    if kind == Kind.PHOTOS:
        visit_ids = db.session.scalars(
            sa.select(Visit.id).where(
                Visit.borrower_id.in_(borrower_ids),
                sa.exists().where(VisitPhoto.visit_id == Visit.id),
            )
        ).all()
        visit_photos.erase(list(visit_ids))
    elif kind == Kind.PROFILE:
        db.session.execute(
            sa.delete(ProfileEntry)
            .where(ProfileEntry.borrower_id.in_(borrower_ids))
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            sa.delete(OutboxMessage)
            .where(_greetings(borrower_ids))
            .execution_options(synchronize_session=False)
        )


WHY = {
    "withdrawn": "consent withdrawn",
    "ended": "retention period over",
    "anonymised": "anonymised",
}


def delete_optional(kind: Kind, borrowers: list[Borrower], why: str) -> int:
    """Delete the data of ``kind`` of ``borrowers``, audited per borrower; returns how many."""
    counts = _counts(kind, [b.id for b in borrowers])
    if not counts:
        return 0
    _delete(kind, list(counts))
    for borrower in borrowers:
        if counts.get(borrower.id):
            record(
                f"retention.delete_{kind.value}",
                borrower,
                f"{counts[borrower.id]} {kind.value} deleted: {WHY[why]}",
            )
    return sum(counts.values())


# --- Anonymisation -------------------------------------------------------------------------


def anonymise(borrower: Borrower) -> None:
    """Remove who the borrower is; keep every record and figure (docs/privacy.md).

    Name, ID number, phone, address, guarantor and business description go, the ID-card
    photo and the business site are deleted, the birth date keeps its year only, the login
    is closed. Sex, village, business type, household and income figures stay for the
    statistics, as do loans, repayments, visits and complaints.
    """
    for kind in Kind:
        delete_optional(kind, [borrower], "anonymised")
    # Nothing optional is done for a person no longer known: no greeting, no match.
    for purpose, consent in consents.current(borrower.id).items():
        if purpose in OPTIONAL_PURPOSES and consent.given:
            consents.decide(borrower, purpose, False, ConsentMethod.RETENTION, None)
    borrower.full_name = placeholder_name(borrower.id)
    borrower.name_initials = ""
    borrower.resident_id = None  # the model blanks the blind index and the tail with it
    borrower.mobile = None
    borrower.birth_date = borrower.birth_date.replace(month=1, day=1)
    borrower.address = ""
    borrower.business_description = ""
    borrower.guarantor_name = ""
    borrower.guarantor_phone = None
    borrower.anonymised_at = utcnow()
    photo = db.session.get(IdCardPhoto, borrower.id)
    if photo is not None:
        db.session.delete(photo)
    site = db.session.get(BorrowerSite, borrower.id)
    if site is not None:
        db.session.delete(site)
    # Texts already sent keep their row (counts of messages stay), not their words.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.borrower_id == borrower.id)
        .values(body="", mobile=None, mobile_hash=None, template_values=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(CorrectionRequest)
        .where(CorrectionRequest.borrower_id == borrower.id)
        .values(note="", answer="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(IdentityCorrection)
        .where(IdentityCorrection.borrower_id == borrower.id)
        .values(old_value=None, new_value=None)
        .execution_options(synchronize_session=False)
    )
    if borrower.user is not None:
        _close_login(borrower.user, borrower)
    record("retention.anonymise", borrower, "anonymised: retention period over")


def _close_login(login: User, borrower: Borrower) -> None:
    login.active = False
    login.display_name = placeholder_name(borrower.id)
    login.password_hash = ""
    revoke_sessions(login)
    db.session.execute(
        sa.update(ActivationCode)
        .where(ActivationCode.user_id == login.id, ActivationCode.used_at.is_(None))
        .values(expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# --- The run ---------------------------------------------------------------------------------


def _batches(where, batch: int):
    """Lists of at most ``batch`` borrowers matching ``where``, one per transaction.

    Each list is chosen after the previous one was committed; the step must make the
    borrowers it acted on stop matching (it deletes what matched), or the run stops.
    """
    seen: set[int] = set()
    while True:
        borrowers = list(
            db.session.scalars(
                sa.select(Borrower).where(where, not_held()).order_by(Borrower.id).limit(batch)
            )
        )
        fresh = [b for b in borrowers if b.id not in seen]
        if not fresh:
            db.session.rollback()
            return
        seen.update(b.id for b in fresh)
        yield fresh
        db.session.commit()


def apply(today: date, batch: int = schedule.BATCH) -> Outcome:
    """Apply the retention schedule as of ``today`` (company time); commits batch by batch."""
    outcome = Outcome()
    optional_cutoff = schedule.optional_cutoff(today)
    for why, due in (("withdrawn", withdrew), ("ended", lambda _kind: ended_by(optional_cutoff))):
        for kind in Kind:
            for borrowers in _batches(sa.and_(due(kind), has_data(kind)), batch):
                deleted = delete_optional(kind, borrowers, why)
                outcome.deleted[kind] += deleted
                outcome.borrowers[kind] += len(borrowers)
    legal = sa.and_(Borrower.anonymised_at.is_(None), ended_by(schedule.legal_cutoff(today)))
    for borrowers in _batches(legal, batch):
        for borrower in borrowers:
            anonymise(borrower)
        outcome.anonymised += len(borrowers)
    return outcome


def holds_in_place() -> list[LegalHold]:
    """Every legal hold in place, oldest first."""
    return list(
        db.session.scalars(
            sa.select(LegalHold).where(LegalHold.lifted_at.is_(None)).order_by(LegalHold.placed_at)
        )
    )
