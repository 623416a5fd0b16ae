"""Writes of the privacy feature: the borrower's own consent decisions, correction
requests and their answers, the audit of a data copy. They flush and audit; the view
commits (``@writes``)."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.notices.operations import notify
from portal.privacy import consents
from portal.privacy.corrections import ANSWER_DAYS, CORRECTABLE_FIELDS
from portal.privacy.models import (
    OPTIONAL_PURPOSES,
    ConsentMethod,
    CorrectionRequest,
    CorrectionStatus,
    Purpose,
)


class PrivacyRefused(Refused):
    """A refused step; its message is translated and shown to the user."""


def decide_own(borrower: Borrower, purpose: Purpose, give: bool, actor: User) -> bool:
    """The borrower gives or withdraws an optional consent in the portal, at once.

    The loan's consent is not theirs to withdraw here (the branch explains what that
    means). Returns False when the consent already stood so (a second press of the same
    button): nothing is recorded then.
    """
    if purpose not in OPTIONAL_PURPOSES:
        raise PrivacyRefused(
            _l("The consent for the loan cannot be withdrawn here. Please contact your branch.")
        )
    if consents.given(borrower.id, purpose) == give:
        return False
    consents.decide(borrower, purpose, give, ConsentMethod.PORTAL, actor)
    return True


def request_correction(
    borrower: Borrower, field: str, note: str, actor: User | None
) -> CorrectionRequest:
    """Record the borrower's request to correct ``field``, due in ``ANSWER_DAYS`` days."""
    if field not in CORRECTABLE_FIELDS:
        raise PrivacyRefused(_l("Choose what should be corrected."), field="field")
    note = note.strip()
    if not note:
        raise PrivacyRefused(_l("Tell us what is wrong and what is right."), field="note")
    correction = CorrectionRequest(
        borrower_id=borrower.id,
        field=field,
        note=note[:500],
        status=CorrectionStatus.OPEN,
        requested_at=utcnow(),
        requested_by_id=actor.id if actor else None,
        due_on=local_today() + timedelta(days=ANSWER_DAYS),
    )
    db.session.add(correction)
    # The field's name only: the note may hold the very numbers the audit must not.
    record("privacy.correction_requested", correction, f"field {field}", actor=actor)
    return correction


def answer_correction(
    correction: CorrectionRequest, corrected: bool, answer: str, actor: User | None
) -> None:
    """Close an open request (corrected or not, with the answer) and tell the borrower."""
    if correction.status != CorrectionStatus.OPEN:
        raise PrivacyRefused(_l("This request was already answered."))
    correction.status = CorrectionStatus.DONE if corrected else CorrectionStatus.DECLINED
    correction.answer = answer.strip()[:500]
    correction.answered_at = utcnow()
    correction.answered_by_id = actor.id if actor else None
    record(
        "privacy.correction_answered",
        correction,
        f"field {correction.field}: {correction.status.value}",
        actor=actor,
    )
    notify(
        correction.borrower_id,
        "correction.done" if corrected else "correction.declined",
        correction,
        answer=correction.answer,
    )


def record_copy(borrower: Borrower, file_format: str, actor: User | None) -> None:
    """The borrower downloaded a copy of their data (no content in the audit entry)."""
    record("privacy.data_copy", borrower, f"format {file_format}", actor=actor)
