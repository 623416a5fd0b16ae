"""Demo borrower profiles, made from generated people."""

from decimal import Decimal

import sqlalchemy as sa
from pypinyin import Style, lazy_pinyin

from portal.accounts.models import User
from portal.borrowers.models import Borrower, BusinessType, OfficerAssignment, Sex
from portal.database import utcnow
from portal.demo.people import Person
from portal.extensions import db


def name_initials(full_name: str) -> str:
    """Pinyin initials of a Chinese name: 王小明 → wxm."""
    return "".join(lazy_pinyin(full_name, style=Style.FIRST_LETTER)).lower()


def borrower_fields(person: Person) -> dict:
    """The profile columns of a Borrower for a generated person."""
    address, village = person.address.rsplit(" ", 1)
    return {
        "full_name": person.full_name,
        "name_initials": name_initials(person.full_name),
        "resident_id": person.resident_id,
        "resident_id_tail": person.resident_id[-4:],
        "birth_date": person.birth_date,
        "sex": Sex(person.sex),
        "mobile": person.mobile,
        "mobile_tail": person.mobile[-4:],
        "address": address,
        "village": village,
        "business_type": BusinessType(person.business_type),
        "business_description": person.business_description,
        "household_size": person.household_size,
        "monthly_income": Decimal(person.monthly_income),
        "monthly_expenses": Decimal(person.monthly_expenses),
        "guarantor_name": person.guarantor_name,
        "guarantor_phone": person.guarantor_phone,
        "consent_at": utcnow(),
    }


def ensure_borrower(user: User, officer: User, person: Person) -> Borrower:
    """The profile of the borrower login ``user``, created when missing."""
    borrower = db.session.scalar(sa.select(Borrower).where(Borrower.user_id == user.id))
    if borrower is None:
        borrower = Borrower(
            branch_id=officer.branch_id,
            officer_id=officer.id,
            user_id=user.id,
            **borrower_fields(person),
        )
        db.session.add(borrower)
        db.session.flush()
        db.session.add(OfficerAssignment(borrower_id=borrower.id, officer_id=officer.id))
    return borrower
