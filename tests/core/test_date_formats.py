"""Dates and times that cannot be misread, in both languages (never "11/26/26")."""

import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal.extensions import db
from portal.loans.models import LoanEvent, LoanStatus

MOMENT = datetime(2026, 11, 26, 7, 4, tzinfo=UTC)  # 15:04 in Asia/Shanghai
DAY = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("locale", "day", "moment"),
    [("zh", "2026-03-05", "2026-11-26 15:04"), ("en", "5 Mar 2026", "26 Nov 2026, 15:04")],
)
def test_every_date_filter_prints_one_unambiguous_format(app, locale, day, moment):
    with app.test_request_context(), force_locale(locale):
        shown = render_template_string(
            "{{ day|dateformat }}|{{ moment|local_datetime }}|{{ moment|datetimeformat }}",
            day=DAY,
            moment=MOMENT,
        )
    assert shown == f"{day}|{moment}|{moment}"


def test_the_english_loan_history_shows_day_month_and_year(client, world, app):
    with app.app_context():
        db.session.add(
            LoanEvent(
                loan_id=world.own_loan.id,
                from_status=None,
                to_status=LoanStatus.APPLIED,
                action="apply",
                happened_at=MOMENT,
            )
        )
        db.session.commit()
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    page = client.get(f"/loans/{world.own_loan.id}").get_data(as_text=True)
    assert "26 Nov 2026, 15:04" in page
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", page)
