"""Demo borrower profiles, made from generated people."""

from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import (
    BirthdayCalendar,
    Borrower,
    BusinessType,
    OfficerAssignment,
    Sex,
)
from portal.borrowers.operations import name_initials
from portal.core.crypto import blind_index
from portal.database import utcnow
from portal.demo.people import Person
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import ConsentMethod, Purpose

__all__ = ["borrower_fields", "ensure_borrower", "name_initials", "number_indexes"]


def borrower_fields(person: Person) -> dict:
    """The profile columns of a Borrower for a generated person."""
    address, village = person.address.rsplit(" ", 1)
    return {
        "full_name": person.full_name,
        "name_initials": name_initials(person.full_name),
        "resident_id": person.resident_id,
        "birth_date": person.birth_date,
        "sex": Sex(person.sex),
        "mobile": person.mobile,
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


def number_indexes(person: Person) -> dict:
    """The numbers' blind indexes and tails, for Core inserts (portal/demo/generate.py).

    The model sets them itself whenever a number is assigned; a Core insert does not.
    The numbers are encrypted by their column type either way.
    """
    return {
        "resident_id_hash": blind_index(person.resident_id),
        "resident_id_tail": person.resident_id[-4:],
        "mobile_hash": blind_index(person.mobile),
        "mobile_tail": person.mobile[-4:],
    }


def _care_choices(person: Person) -> dict:
    # Demo variety only (tests keep the model defaults): older borrowers keep the
    # lunar birthday, as is common in the countryside, and those living alone opt out.
    return {
        "birthday_calendar": (
            BirthdayCalendar.LUNAR if person.birth_date.year < 1975 else BirthdayCalendar.GREGORIAN
        ),
    }


def _consents(borrower: Borrower, person: Person, officer: User) -> None:
    # Given on paper at onboarding; those living alone declined the greetings.
    for purpose in Purpose:
        given = purpose != Purpose.GREETINGS or person.household_size != 1
        consents.decide(borrower, purpose, given, ConsentMethod.PAPER, officer)


def ensure_borrower(user: User, officer: User, person: Person) -> Borrower:
    """The profile of the borrower login ``user``, created when missing."""
    borrower = db.session.scalar(sa.select(Borrower).where(Borrower.user_id == user.id))
    if borrower is None:
        borrower = Borrower(
            branch_id=officer.branch_id,
            officer_id=officer.id,
            user_id=user.id,
            **borrower_fields(person) | _care_choices(person),
        )
        db.session.add(borrower)
        db.session.flush()
        db.session.add(OfficerAssignment(borrower_id=borrower.id, officer_id=officer.id))
        _consents(borrower, person, officer)
    return borrower
