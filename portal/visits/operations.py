"""Writes of the visits feature: sign a visit, amend it, acknowledge a red warning.

They flush and audit; the view's transaction (portal/core/actions.py) commits. A signed visit is never updated: a
correction is a new signed row pointing to the original.
"""

import hashlib
from dataclasses import dataclass, field, make_dataclass
from datetime import datetime

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.privacy import consents
from portal.privacy.models import PURPOSE_LABELS, Purpose
from portal.visits import photos as visit_photos
from portal.visits import signing
from portal.visits.compliance import visit_time_problem
from portal.visits.deadlines import warning_deadlines
from portal.visits.kinds import REQUIRED
from portal.visits.models import Visit, VisitSignature, VisitWarning
from portal.visits.photos import PreparedPhoto
from portal.visits.questions import QUESTIONS
from portal.visits.risk import RiskLevel, assess, signals_from_answers

# Sent inside the transaction after a visit is signed (amendments too), with
# ``visit=``; the services feature turns the ticked needs into requests.
visit_signals = Namespace()
visit_signed = visit_signals.signal("visit-signed")

TIME_PROBLEMS = {
    "future": _l("The visit time is in the future."),
    "too_old": _l("A visit can be recorded at most 7 days after it took place."),
    "other_month": _l(
        "An amendment keeps the month of the original visit; only the day and time may change."
    ),
}


class VisitRefusedError(Refused):
    """The visits feature's "no": a translatable ``message``, maybe about one ``field``."""


PHOTOS_WITHOUT_CONSENT = _l(
    "This borrower has not agreed to photos on visits: remove the photo. The borrower can "
    "give the consent on paper with the officer or in the portal."
)


def _answers_class():
    """``VisitAnswers``: the visit's time and place, its location, and one field per question."""
    declared = [
        (q.name, object)
        if q.kind.default(q) is REQUIRED
        else (q.name, object, field(default=q.kind.default(q)))
        for q in QUESTIONS
    ]
    fields = [
        ("visited_at", datetime),
        ("place", str),
        *declared,
        ("latitude", float | None, field(default=None)),
        ("longitude", float | None, field(default=None)),
        ("accuracy_m", int | None, field(default=None)),
    ]
    return make_dataclass(
        "VisitAnswers",
        fields,
        frozen=True,
        kw_only=True,
        namespace={
            "__doc__": "What the officer and the borrower filled in on the form.",
            "__module__": __name__,
        },
    )


VisitAnswers = _answers_class()


@dataclass(frozen=True, kw_only=True)
class VisitEvidence:
    """What shows the visit happened as recorded, beside the answers (docs/visit-evidence.md).

    Times are UTC. ``photos`` are decoded and re-encoded already (portal/visits/photos.py).
    """

    opened_at: datetime | None = None  # the tablet's clock when the form was opened
    opened_at_server: datetime | None = None  # the server's, when it served the form
    signed_at_device: datetime | None = None  # the tablet's clock when the borrower signed
    location_status: str | None = None  # "fix", "denied", "unavailable", "timeout", …
    place_note: str = ""  # the officer's reason when not at the borrower's site
    photos: tuple[PreparedPhoto, ...] = ()


NO_EVIDENCE = VisitEvidence()


def active_loan(borrower: Borrower) -> Loan | None:
    """The borrower's active loan, which a new visit follows up."""
    return db.session.scalar(
        sa.select(Loan)
        .where(Loan.borrower_id == borrower.id, Loan.status == LoanStatus.ACTIVE)
        .order_by(Loan.disbursed_on.desc(), Loan.id.desc())
        .limit(1)
    )


def visit_by_token(token: str | None) -> Visit | None:
    """The visit already saved from the form carrying ``token``, if any."""
    if not token:
        return None
    return db.session.scalar(sa.select(Visit).where(Visit.idempotency_token == token))


def check_visit_time(
    visited_at: datetime, original: Visit | None = None, now: datetime | None = None
) -> None:
    """Refuse a visit time in the future, too old, or (amendments) in another month."""
    problem = visit_time_problem(visited_at, now or utcnow(), original)
    if problem:
        raise VisitRefusedError(TIME_PROBLEMS[problem], field="visited_at")


def _assessed(answers: VisitAnswers):
    implied = signals_from_answers(
        answers.business_state,
        answers.repayment_status,
        answers.funds_use,
        answers.guarantor_status,
    )
    return assess(answers.risk_signals | implied)


def _stored_answers(answers: VisitAnswers) -> dict:
    """The answers as the visit's columns keep them."""
    return {q.name: q.kind.stored(getattr(answers, q.name)) for q in QUESTIONS}


def sign_visit(
    borrower: Borrower,
    loan: Loan,
    officer: User,
    answers: VisitAnswers,
    signature_png: bytes,
    token: str,
    amends: Visit | None = None,
    recorded_at: datetime | None = None,
    evidence: VisitEvidence = NO_EVIDENCE,
) -> Visit:
    """Store one signed visit with its evidence, risk assessment, hash and, when red, a warning.

    ``recorded_at`` (default: now) is when the borrower signed: the field kit passes the
    tablet's signing time, demo data its own. The record's hash chains it to the
    borrower's previous record.
    """
    received_at = utcnow().replace(microsecond=0)
    signed_at = (recorded_at or received_at).replace(microsecond=0)
    check_visit_time(answers.visited_at, amends, now=signed_at)
    _check_consents(borrower, answers, evidence)
    assessment = _assessed(answers)
    visit = Visit(
        borrower_id=borrower.id,
        loan_id=loan.id,
        officer_id=officer.id,
        branch_id=borrower.branch_id,
        amends_id=amends.root_id if amends else None,
        idempotency_token=token,
        # Whole seconds: the hash must read the same back from every database.
        visited_at=answers.visited_at.replace(second=0, microsecond=0),
        signed_at=signed_at,
        place=answers.place,
        latitude=answers.latitude,
        longitude=answers.longitude,
        accuracy_m=answers.accuracy_m,
        # The ticked signals give way to the assessed ones: those plus what the answers imply.
        **_stored_answers(answers) | {"risk_signals": [s.value for s in assessment.signals]},
        risk_level=assessment.level,
        risk_reason=assessment.reason,
        opened_at=_second(evidence.opened_at),
        opened_at_server=_second(evidence.opened_at_server),
        signed_at_device=_second(evidence.signed_at_device),
        received_at=received_at,
        location_status=evidence.location_status,
        place_note=evidence.place_note,
        previous_hash=previous_hash(borrower),
        signature_sha256=hashlib.sha256(signature_png).hexdigest(),
    )
    visit.content_hash = signing.content_hash(
        visit, signature_png, photos=[(photo.kind, photo.sha256) for photo in evidence.photos]
    )
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitSignature(visit_id=visit.id, png=signature_png))
    visit_photos.store(visit, evidence.photos)
    if visit.risk_level == RiskLevel.RED:
        db.session.add(
            VisitWarning(
                visit_id=visit.id,
                branch_id=visit.branch_id,
                raised_at=signed_at,
                **warning_deadlines(signed_at, assessment.signals),
            )
        )
    action = "visit.amend" if amends else "visit.sign"
    record(action, visit, f"borrower={borrower.id} {visit.risk_reason} hash={visit.content_hash}")
    visit_signed.send(visit)
    return visit


def _check_consents(borrower: Borrower, answers: VisitAnswers, evidence: VisitEvidence) -> None:
    """Refuse photos, and answers to questions needing a consent, the borrower has not
    given (or has withdrawn): asked of the register at the moment of signing."""
    if evidence.photos and not consents.given(borrower.id, Purpose.PHOTOS):
        raise VisitRefusedError(PHOTOS_WITHOUT_CONSENT, field="photo_1")
    for question in QUESTIONS:
        if question.consent is None or getattr(answers, question.name) in (None, "", ()):
            continue
        if not consents.given(borrower.id, question.consent):
            raise VisitRefusedError(
                _l(
                    "The borrower has not agreed to %(purpose)s: “%(question)s” is not asked.",
                    purpose=PURPOSE_LABELS[question.consent],
                    question=question.label,
                ),
                field=question.name,
            )


def _second(moment: datetime | None) -> datetime | None:
    # Whole seconds: the hash must read the same back from every database.
    return None if moment is None else moment.replace(microsecond=0)


def previous_hash(borrower: Borrower) -> str:
    """The hash of the borrower's newest signed record, which the next one signs; GENESIS first.

    The borrower's row is locked first (PostgreSQL; SQLite writes one at a time), so two
    visits signed at once cannot both follow the same record.
    """
    db.session.execute(sa.select(Borrower.id).where(Borrower.id == borrower.id).with_for_update())
    newest = db.session.scalar(
        sa.select(Visit.content_hash)
        .where(Visit.borrower_id == borrower.id)
        .order_by(Visit.id.desc())
        .limit(1)
    )
    return newest or signing.GENESIS


def amend_visit(
    original: Visit,
    officer: User,
    answers: VisitAnswers,
    signature_png: bytes,
    token: str,
    evidence: VisitEvidence = NO_EVIDENCE,
) -> Visit:
    """A new signed visit correcting ``original``; the original stays as it was."""
    return sign_visit(
        original.borrower,
        original.loan,
        officer,
        answers,
        signature_png,
        token,
        amends=original,
        evidence=evidence,
    )


def verify(visit: Visit) -> bool:
    """Recompute the content hash from the stored record, signature and photos, in its version."""
    png = db.session.get(VisitSignature, visit.id)
    if png is None:
        return False
    return signing.signed_version(visit, png.png, visit_photos.digests(visit)) is not None


def acknowledge_warning(warning: VisitWarning, user: User, action_taken: str) -> None:
    """The branch head records what was done about a red visit; the warning leaves the queue."""
    if not warning.is_open:
        raise VisitRefusedError(_l("This warning was already acknowledged."))
    warning.acknowledged_at = utcnow()
    warning.acknowledged_by_id = user.id
    warning.action_taken = action_taken
    record("visit.warning_acknowledge", warning, f"visit={warning.visit_id}: {action_taken}")
