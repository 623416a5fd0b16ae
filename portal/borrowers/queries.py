"""Reads of borrowers: search, duplicates, officers to choose from, history."""

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, IdCardPhoto, OfficerAssignment, Tier
from portal.core.crypto import blind_index
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus

# Four or more trailing characters of a phone or ID number (an ID may end in X).
_TAIL = re.compile(r"\d{3,17}[\dX]")
_INITIALS = re.compile(r"[a-z]{1,50}")
MIN_TAIL = 4
ID_LENGTH = 18
MOBILE_LENGTH = 11


@dataclass(frozen=True)
class BorrowerFilter:
    """What the list page asks for; empty values do not filter."""

    text: str = ""
    loan_status: LoanStatus | None = None
    officer_id: int | None = None
    tier: Tier | None = None
    branch_id: int | None = None


def is_short_number(text: str) -> bool:
    """Digits too few to search the end of a phone or ID number."""
    return text.isdigit() and len(text) < MIN_TAIL


def _text_clause(text: str):
    upper = text.upper()
    if _TAIL.fullmatch(upper):
        return _number_clause(upper)
    lower = text.lower()
    if _INITIALS.fullmatch(lower):
        # A range, unlike LIKE, lets both databases walk the name_initials index.
        after = lower[:-1] + chr(ord(lower[-1]) + 1)
        return sa.and_(Borrower.name_initials >= lower, Borrower.name_initials < after)
    return Borrower.full_name.contains(text, autoescape=True)


def _number_clause(upper: str):
    """The end of an ID or mobile number, or a whole one.

    The numbers are encrypted (portal/core/crypto.py), so SQL cannot compare their
    digits: a whole number is found by its blind index, four characters by the indexed
    tails, and a longer end by its tail's few candidates, decrypted and compared here.
    """
    tail = upper[-4:]
    may_be_mobile = upper.isdigit() and len(upper) <= MOBILE_LENGTH
    if len(upper) == ID_LENGTH:
        return Borrower.resident_id_hash == blind_index(upper)
    if len(upper) == len(tail):
        by_id = Borrower.resident_id_tail == tail
        return sa.or_(Borrower.mobile_tail == tail, by_id) if may_be_mobile else by_id
    ids = _ending_with(Borrower.resident_id_tail, Borrower.resident_id, upper)
    if may_be_mobile and len(upper) < MOBILE_LENGTH:
        ids += _ending_with(Borrower.mobile_tail, Borrower.mobile, upper)
    by_ending = Borrower.id.in_(ids) if ids else sa.false()
    if may_be_mobile and len(upper) == MOBILE_LENGTH:
        return sa.or_(Borrower.mobile_hash == blind_index(upper), by_ending)
    return by_ending


def _ending_with(tail_column, number_column, upper: str) -> list[int]:
    rows = db.session.execute(
        sa.select(Borrower.id, number_column).where(tail_column == upper[-4:])
    )
    return [row_id for row_id, number in rows if number and number.endswith(upper)]


def search(user: User, wanted: BorrowerFilter) -> sa.Select:
    """Borrowers visible to ``user`` that match ``wanted``, by name, officer and branch loaded."""
    stmt = (
        sa.select(Borrower)
        .where(Borrower.visible_filter(user))
        .options(joinedload(Borrower.officer), joinedload(Borrower.branch))
        .order_by(Borrower.full_name, Borrower.id)
    )
    if wanted.text and not is_short_number(wanted.text):
        stmt = stmt.where(_text_clause(wanted.text))
    if wanted.loan_status is not None:
        stmt = stmt.where(
            sa.exists().where(Loan.borrower_id == Borrower.id, Loan.status == wanted.loan_status)
        )
    if wanted.officer_id is not None:
        stmt = stmt.where(Borrower.officer_id == wanted.officer_id)
    if wanted.tier is not None:
        stmt = stmt.where(Borrower.tier == wanted.tier)
    if wanted.branch_id is not None:
        stmt = stmt.where(Borrower.branch_id == wanted.branch_id)
    return stmt


def officers_for(user: User, branch_id: int | None = None) -> list[User]:
    """Active loan officers ``user`` may assign borrowers to: a head's branch, an admin's all."""
    stmt = (
        sa.select(User)
        .where(User.role == Role.OFFICER, User.active)
        .order_by(User.branch_id, User.display_name)
    )
    if user.role == Role.HEAD:
        stmt = stmt.where(User.branch_id == user.branch_id)
    elif user.role != Role.ADMIN:
        stmt = stmt.where(User.id == user.id)
    if branch_id is not None:
        stmt = stmt.where(User.branch_id == branch_id)
    return list(db.session.scalars(stmt))


def registered_with(*, resident_id: str | None = None, mobile: str | None = None):
    """The borrower already registered with this ID or mobile number, if any."""
    column, value = (
        (Borrower.resident_id_hash, resident_id) if resident_id else (Borrower.mobile_hash, mobile)
    )
    if not value:
        return None
    return db.session.scalar(
        sa.select(Borrower).options(joinedload(Borrower.branch)).where(column == blind_index(value))
    )


def login_name_taken(username: str, except_user_id: int | None = None) -> bool:
    """True when another account already logs in with ``username``."""
    stmt = sa.select(User.id).where(User.username == username)
    if except_user_id is not None:
        stmt = stmt.where(User.id != except_user_id)
    return db.session.scalar(stmt) is not None


def assignment_history(borrower: Borrower) -> list[OfficerAssignment]:
    """Who looked after ``borrower``, newest first."""
    return list(
        db.session.scalars(
            sa.select(OfficerAssignment)
            .options(joinedload(OfficerAssignment.officer))
            .where(OfficerAssignment.borrower_id == borrower.id)
            .order_by(OfficerAssignment.started_at.desc(), OfficerAssignment.id.desc())
        )
    )


def has_id_photo(borrower: Borrower) -> bool:
    """Whether an ID-card photo is stored, without loading it."""
    stmt = sa.select(IdCardPhoto.borrower_id).where(IdCardPhoto.borrower_id == borrower.id)
    return db.session.scalar(stmt) is not None


def id_photo(borrower: Borrower) -> IdCardPhoto | None:
    """The stored ID-card photo."""
    return db.session.get(IdCardPhoto, borrower.id)


def own_profile(user: User) -> Borrower | None:
    """The borrower record of a borrower's login."""
    return db.session.scalar(
        sa.select(Borrower)
        .options(joinedload(Borrower.officer), joinedload(Borrower.branch))
        .where(Borrower.user_id == user.id)
    )


def visible_by_ids(user: User, ids: list[int]) -> list[Borrower]:
    """The borrowers among ``ids`` that ``user`` sees, with their officers loaded."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Borrower)
            .options(joinedload(Borrower.officer))
            .where(Borrower.id.in_(ids), Borrower.visible_filter(user))
        ).unique()
    )
