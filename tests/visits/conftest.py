"""Fixtures of the visit tests: a valid form as a browser would post it."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.database import utcnow
from portal.extensions import db
from portal.visits.models import Visit
from portal.visits.questions import QUESTIONS
from tests.visits.helpers import data_url, signature_png

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_input(moment) -> str:
    """A datetime-local input value in the company's time zone."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _first_option(question) -> str | None:
    """A valid answer to a required question with options (one declared after these tests)."""
    options = getattr(question.kind, "labels", None)
    return str(next(iter(options))) if question.required and options else None


def visit_form_data(token: str, **overrides) -> dict:
    """The POST data of a complete, valid (green) visit form; ``None`` leaves a field out."""
    data = {
        "idempotency_token": f"tok-{token:0>28}",
        "visited_at": local_input(utcnow() - timedelta(hours=1)),
        "place": "李庄村养殖场",
        "business_state": "normal",
        "revenue_trend": "stable",
        "funds_use": "as_contracted",
        "repayment_status": "on_time",
        "guarantor_status": "normal",
        "collateral_status": "intact",
        "household_changes": "",
        "officer_observations": "猪舍干净，存栏约120头。",
        "borrower_opinions": "希望提高额度。",
        "satisfaction": "4",
        "signature": data_url(signature_png()),
    }
    for question in QUESTIONS:
        data.setdefault(question.name, _first_option(question))
    return {key: value for key, value in (data | overrides).items() if value is not None}


@pytest.fixture
def visit_form():
    """A function building the POST data of a complete, valid visit form.

    A required question not named below gets its first option.
    """

    def build(**overrides) -> dict:
        return visit_form_data("a" * 28, **overrides)

    return build


def english(client):
    client.submit("/account", {"locale": "en"})


def count_visits(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def only_visit(app) -> Visit:
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        db.session.expunge(visit)
        return visit
