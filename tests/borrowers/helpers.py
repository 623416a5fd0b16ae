"""Shared helpers for the borrower tests: valid form data, row counts, DB reads."""

import io
from datetime import date

import sqlalchemy as sa
from PIL import Image
from stdnum.cn import ric

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import ActivationCode, Borrower, IdCardPhoto, OfficerAssignment
from portal.core.crypto import blind_index
from portal.extensions import db

COUNTED = (Borrower, User, ActivationCode, OfficerAssignment, IdCardPhoto, AuditEntry)


def resident_id(county: str = "320802", birth: date = date(1985, 3, 2), sequence: int = 123):
    """A valid 18-character ID for these parts (odd sequence: male)."""
    body = f"{county}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def onboarding_data(**overrides) -> dict:
    """A complete, valid onboarding form for 王小明."""
    values = {
        "full_name": "王小明",
        "resident_id": resident_id(),
        "birth_date": "1985-03-02",
        "sex": "male",
        "mobile": "139 0527 1234",
        "address": "江苏省 宿迁市 泗阳县 众兴镇",
        "village": "王集村",
        "business_type": "pig_farming",
        "business_description": "家庭养猪场，存栏生猪约80头",
        "household_size": "4",
        "monthly_income": "6,500",
        "monthly_expenses": "3800.50",
        "guarantor_name": "王大山",
        "guarantor_phone": "0527-8521 0001",
        "birthday_calendar": "lunar",
        "consent": "y",
        "consent_greetings": "y",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def image_file(size=(800, 500), fmt="PNG", mode="RGB") -> io.BytesIO:
    """An in-memory image upload."""
    data = io.BytesIO()
    Image.new(mode, size, color=0).save(data, format=fmt)
    data.seek(0)
    return data


def counts(app) -> dict:
    """Rows in every table onboarding writes to."""
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in COUNTED
        }


def fetch(app, model, **where):
    """One row, detached, or None; an encrypted number is looked up by its blind index."""
    with app.app_context():
        stmt = sa.select(model)
        for name in [name for name in where if hasattr(model, f"{name}_hash")]:
            stmt = stmt.where(getattr(model, f"{name}_hash") == blind_index(where.pop(name)))
        row = db.session.scalar(stmt.filter_by(**where))
        if row is not None:
            db.session.expunge(row)
        return row


def login_of(app, mobile: str) -> User | None:
    """The login a borrower reaches by typing ``mobile`` (the users table holds no number)."""
    with app.app_context():
        user = db.session.scalar(
            sa.select(User)
            .join(Borrower, Borrower.user_id == User.id)
            .where(Borrower.mobile_hash == blind_index(mobile))
        )
        if user is not None:
            db.session.expunge(user)
        return user


def audit_actions(app, action: str) -> list[AuditEntry]:
    """The audit entries of ``action``, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        db.session.expunge_all()
        return rows


def english(client):
    """Switch the (logged-in) user's language to English."""
    client.submit("/language", {"locale": "en"}, page="/account")


def page_text(response) -> str:
    return response.get_data(as_text=True)


def search(client, query: str, path: str = "/borrowers/", **filters):
    """Search as the page does: the form is posted (a number is answered to the POST)."""
    data = {"q": query, **filters} | ({"search": "1"} if path.endswith("reassign") else {})
    return client.submit(path, data, follow_redirects=True)
