"""Corrections of a borrower's identity by the head of their branch (or the admin).

A typo at onboarding happens: the name, the resident ID number, the birth date and the
sex can be corrected with a reason. Each changed field is kept as an
``IdentityCorrection`` (portal/privacy/models.py: the old and the new value, encrypted,
the reason, who and when); the audit entry names the fields and the reason, with the ID
numbers masked and no name or birth date. A corrected ID number runs onboarding's rules
again (the form, portal/borrowers/forms.py ``IdentityForm``) and, here, the checksum and
duplicate rules once more, so no caller writes an ID number onboarding would refuse.
What depends on the fields follows: the pinyin initials, the login's display name, the
number's blind index and tail (the model). That the birth date and sex agree with the
number is the form's rule, as at onboarding.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers import queries
from portal.borrowers.masking import mask_numbers_in_text, mask_resident_id
from portal.borrowers.models import Borrower, Sex
from portal.borrowers.operations import BorrowerError, name_initials
from portal.borrowers.validators import InvalidValueError, check_resident_id
from portal.core.calendar import local_today
from portal.extensions import db
from portal.privacy.models import IdentityCorrection

# The identity fields a head may correct, in the form's order.
IDENTITY_FIELDS = ("full_name", "resident_id", "birth_date", "sex")


class IdentityError(BorrowerError):
    """A correction that breaks a rule; nothing is written."""

    message = _l("This correction is not possible.")


def _text(value) -> str | None:
    """A field's value as stored in the correction (dates ISO, sexes by their value)."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value.value if isinstance(value, Sex) else value)


def may_correct(borrower: Borrower, user: User) -> bool:
    """The head of the borrower's branch and the admin; never an anonymised record."""
    return borrower.anonymised_at is None and user.can_manage_branch(borrower.branch_id)


def correct(
    borrower: Borrower, expected_version: int, wanted: dict, reason: str, actor: User
) -> list[str]:
    """Correct ``borrower``'s identity to ``wanted`` (every field of ``IDENTITY_FIELDS``),
    made on the form of ``expected_version``; returns the fields that changed."""
    if borrower.version != expected_version:
        # Someone saved this borrower since the form was filled in: the usual 409.
        raise StaleDataError("the borrower changed since the correction form was shown")
    reason = (reason or "").strip()
    if not reason:
        raise IdentityError(_l("Give the reason for the correction."), field="reason")
    if borrower.anonymised_at is not None:
        raise IdentityError(_l("An anonymised borrower has no identity to correct."))
    changed = [
        name for name in IDENTITY_FIELDS if _text(getattr(borrower, name)) != _text(wanted[name])
    ]
    if not changed:
        raise IdentityError(_l("The values are those of the record: nothing to correct."))
    number = wanted["resident_id"]
    if "resident_id" in changed:
        _check_new_number(borrower, number)
    old_number = borrower.resident_id
    for name in changed:
        db.session.add(
            IdentityCorrection(
                borrower_id=borrower.id,
                field=name,
                old_value=_text(getattr(borrower, name)),
                new_value=_text(wanted[name]),
                reason=reason,
                corrected_by_id=actor.id,
            )
        )
    if "full_name" in changed:
        if borrower.user is not None and borrower.user.display_name == borrower.full_name:
            borrower.user.display_name = wanted["full_name"]
        borrower.name_initials = name_initials(wanted["full_name"])
    for name in changed:
        setattr(borrower, name, wanted[name])  # the model keeps the ID's index and tail
    db.session.flush()  # a unique index lost to a race answers 409, nothing half-written
    summary = "corrected: " + ", ".join(changed)
    if "resident_id" in changed:
        summary += f" (ID {mask_resident_id(old_number)} → {mask_resident_id(number)})"
    record(
        "borrower.correct_identity", borrower, f"{summary}; reason: {mask_numbers_in_text(reason)}"
    )
    return changed


def _check_new_number(borrower: Borrower, number: str) -> None:
    try:
        checked = check_resident_id(number, local_today())
    except InvalidValueError as error:
        raise IdentityError(error.message, field="resident_id") from None
    if checked.number != number:
        raise IdentityError(_l("An ID number has 18 characters."), field="resident_id")
    existing = queries.registered_with(resident_id=number)
    if existing is not None and existing is not borrower:
        raise IdentityError(
            _l("This ID number is already registered to another borrower."), field="resident_id"
        )


def corrections_of(borrower: Borrower) -> list[IdentityCorrection]:
    """The borrower's identity corrections, newest first (values decrypted on reading)."""
    return list(
        db.session.scalars(
            sa.select(IdentityCorrection)
            .options(joinedload(IdentityCorrection.corrected_by))
            .where(IdentityCorrection.borrower_id == borrower.id)
            .order_by(IdentityCorrection.corrected_at.desc(), IdentityCorrection.id.desc())
        )
    )
