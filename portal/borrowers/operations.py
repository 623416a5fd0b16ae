"""Writes on borrowers: onboarding, edits, reassignment, activation codes.

They flush and write the audit log; the request commits.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from pypinyin import Style, lazy_pinyin

from portal.accounts.models import Role, User
from portal.accounts.operations import revoke_sessions
from portal.accounts.passwords import hash_password
from portal.audit.operations import record
from portal.borrowers.masking import mask_resident_id
from portal.borrowers.models import (
    ActivationCode,
    Borrower,
    IdCardPhoto,
    OfficerAssignment,
)
from portal.core.actions import Refused
from portal.core.crypto import blind_index
from portal.database import utcnow
from portal.extensions import db
from portal.privacy import consents as register
from portal.privacy.models import ConsentMethod, Purpose

# Sent inside the transaction for each borrower who changed officer, with
# ``former_officer_id=`` and ``by=``: other features move open work along.
borrower_signals = Namespace()
borrower_reassigned = borrower_signals.signal("borrower-reassigned")

# No 0/O, 1/I/L: the code is read off paper and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(days=7)

# The fields an edit may change; name, ID number, birth date and sex only a head corrects,
# with a reason (portal/borrowers/identity.py).
EDITABLE_FIELDS = (
    "mobile",
    "address",
    "village",
    "business_type",
    "business_description",
    "household_size",
    "monthly_income",
    "monthly_expenses",
    "guarantor_name",
    "guarantor_phone",
    "birthday_calendar",
)


class BorrowerError(Refused):
    """A refused step on a borrower; ``message`` (the class's own by default) is shown."""

    message = _l("This change is not possible.")
    field: str | None = None

    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(message or self.message, field=field or self.field)


class EditConflictError(BorrowerError):
    """The form was filled in from a version of the borrower that someone has since changed."""

    message = _l(
        "Someone else saved changes to this borrower while you were editing. Your changes were not saved: check the current values below and save again."
    )


class ActivationError(BorrowerError):
    """The mobile number and the code do not open an account."""

    # One message for every cause, so the form does not reveal which numbers exist.
    message = _l(
        "The mobile number or the activation code is not correct, or the code has expired or was already used."
    )


def name_initials(full_name: str) -> str:
    """Pinyin initials of a Chinese name: 王小明 → wxm."""
    letters = "".join(lazy_pinyin(full_name, style=Style.FIRST_LETTER)).lower()
    return "".join(ch for ch in letters if "a" <= ch <= "z")[:50]


def login_name(borrower: Borrower) -> str:
    """The stored name of a borrower's login: no phone number in the users table.

    Borrowers still log in by typing their mobile number (``accounts.operations.find_user``
    finds the login through the borrower's blind index). The colon keeps the name apart
    from every name a staff account may have.
    """
    return f"borrower:{borrower.id}"


class LoginNameTakenError(BorrowerError):
    """A staff account is named with the mobile number, so logging in with it is ambiguous."""

    message = _l("This mobile number is already used by another login.")
    field = "mobile"


class ConsentRequiredError(BorrowerError):
    """Onboarding without the borrower's consent to the processing for the loan."""

    message = _l("The borrower's separate consent is required to register them.")
    field = "consent"


def onboard(
    profile: dict,
    *,
    officer: User,
    by: User,
    consents: dict[Purpose, bool],
    photo: bytes | None = None,
) -> tuple[Borrower, str]:
    """Register a borrower with ``officer``, create their login and a first activation code.

    ``consents`` holds the borrower's decision on each purpose, given on paper with the
    officer: every one is recorded, given or not; without the loan's nothing is written.
    """
    if not consents.get(Purpose.LOAN):
        raise ConsentRequiredError
    now = utcnow()
    borrower = Borrower(
        **profile,
        name_initials=name_initials(profile["full_name"]),
        branch_id=officer.branch_id,
        officer_id=officer.id,
        consent_at=now,
        created_at=now,
        created_by_id=by.id,
    )
    db.session.add(borrower)
    db.session.flush()
    db.session.add(
        OfficerAssignment(
            borrower_id=borrower.id, officer_id=officer.id, started_at=now, assigned_by_id=by.id
        )
    )
    if photo is not None:
        db.session.add(IdCardPhoto(borrower_id=borrower.id, content=photo, media_type="image/jpeg"))
    record(
        "borrower.create",
        borrower,
        f"{borrower.full_name} {mask_resident_id(borrower.resident_id)}, officer {officer.username}"
        + (", with ID-card photo" if photo else ""),
    )
    for purpose in Purpose:
        register.decide(borrower, purpose, bool(consents.get(purpose)), ConsentMethod.PAPER, by)
    return borrower, issue_activation_code(borrower, by=by)


def _ensure_login(borrower: Borrower) -> User:
    """The borrower's login, created without a usable password when missing."""
    if borrower.user is not None:
        return borrower.user
    taken = db.session.scalar(sa.select(User.id).where(User.username == borrower.mobile))
    if taken is not None:
        raise LoginNameTakenError
    db.session.flush()  # the borrower's id names the login
    login = User(
        username=login_name(borrower),
        display_name=borrower.full_name,
        role=Role.BORROWER,
        branch_id=borrower.branch_id,
        password_hash="",  # unusable until the borrower activates the account
    )
    db.session.add(login)
    record("user.create", login, f"{login.username} (borrower)")
    borrower.user = login
    db.session.flush()
    return login


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def normalize_code(code: str) -> str:
    """Codes compare without case, blanks or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def issue_activation_code(borrower: Borrower, *, by: User) -> str:
    """A new one-time code for the borrower's login; earlier unused codes stop working."""
    login = _ensure_login(borrower)
    now = utcnow()
    db.session.execute(
        sa.update(ActivationCode)
        .where(
            ActivationCode.user_id == login.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(
        ActivationCode(
            user_id=login.id,
            code_hash=_code_hash(code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            created_by_id=by.id,
        )
    )
    record("borrower.issue_activation_code", borrower, f"expires {now + CODE_LIFETIME:%Y-%m-%d}")
    return code


def activate(mobile: str, code: str, password: str) -> User:
    """Set the borrower's own password with a valid code; the code is then used up."""
    now = utcnow()
    row = db.session.execute(
        sa.select(ActivationCode, User)
        .join(User, User.id == ActivationCode.user_id)
        .join(Borrower, Borrower.user_id == User.id)
        .where(
            Borrower.mobile_hash == blind_index(mobile),
            ActivationCode.code_hash == _code_hash(code),
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > now,
            User.active,
        )
    ).first()
    if row is None:
        raise ActivationError
    activation, user = row
    activation.used_at = now
    user.password_hash = hash_password(password)
    user.must_change_password = False
    revoke_sessions(user)
    record("borrower.activate", user, user.username, actor=user)
    return user


def update_profile(borrower: Borrower, expected_version: int, changes: dict) -> None:
    """Apply an edit made on the form of ``expected_version``; a stale form is refused."""
    if borrower.version != expected_version:
        raise EditConflictError
    changed = [name for name in EDITABLE_FIELDS if getattr(borrower, name) != changes[name]]
    if "mobile" in changed:
        _follow_new_mobile(borrower, changes["mobile"])
    for name in EDITABLE_FIELDS:
        setattr(borrower, name, changes[name])
    record("borrower.update", borrower, "changed: " + (", ".join(changed) or "nothing"))
    db.session.flush()


def _follow_new_mobile(borrower: Borrower, mobile: str) -> None:
    # Borrowers log in with their mobile number, found through its blind index, so the
    # login follows the new number by itself; a login still named with the old number
    # (made before the numbers were encrypted) gets the name that holds none.
    if borrower.user is not None and borrower.user.username == borrower.mobile:
        borrower.user.username = login_name(borrower)
        record("user.rename", borrower.user, f"login follows the new mobile number of {borrower}")


def reassign(borrowers: list[Borrower], officer: User, reason: str, *, by: User) -> int:
    """Move ``borrowers`` to ``officer``, closing each open assignment; returns how many moved."""
    elsewhere = [b.full_name for b in borrowers if b.branch_id != officer.branch_id]
    if elsewhere:
        # Loans and visits stay with the branch, so a borrower changes officer, never branch.
        raise BorrowerError(
            _l("These borrowers belong to another branch: %(names)s.", names=", ".join(elsewhere))
        )
    now = utcnow()
    moving = [b for b in borrowers if b.officer_id != officer.id]
    ids = [b.id for b in moving]
    if not ids:
        return 0
    former = [b.officer_id for b in moving]
    db.session.execute(
        sa.update(OfficerAssignment)
        .where(OfficerAssignment.borrower_id.in_(ids), OfficerAssignment.ended_at.is_(None))
        .values(ended_at=now)
    )
    for borrower in moving:
        previous = borrower.officer
        borrower.officer_id = officer.id
        db.session.add(
            OfficerAssignment(
                borrower_id=borrower.id,
                officer_id=officer.id,
                started_at=now,
                assigned_by_id=by.id,
                reason=reason,
            )
        )
        record(
            "borrower.reassign",
            borrower,
            f"{previous.username} → {officer.username}: {reason}",
        )
    db.session.flush()
    for borrower, former_officer_id in zip(moving, former, strict=True):
        borrower_reassigned.send(borrower, former_officer_id=former_officer_id, by=by)
    return len(moving)


def record_sensitive_view(borrower: Borrower) -> None:
    """Log a view of the full ID and phone numbers (PIPL)."""
    record("borrower.view_sensitive", borrower, borrower.full_name)


def record_photo_view(borrower: Borrower) -> None:
    """Log a view of the ID-card photo (PIPL)."""
    record("borrower.view_id_photo", borrower, borrower.full_name)
