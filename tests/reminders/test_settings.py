"""A member of staff chooses to have their reminders texted, to their own mobile."""

import sqlalchemy as sa

from portal.extensions import db
from portal.reminders.models import StaffSms


def _saved(app, user_id):
    with app.app_context():
        row = db.session.get(StaffSms, user_id)
        return None if row is None else (row.mobile, row.opted_in)


def test_opting_in_needs_a_valid_mobile(app, client, world):
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    page = client.submit("/reminders/sms", {"mobile": "", "opted_in": "y"}).get_data(as_text=True)
    assert "Enter your mobile number to receive reminders by SMS." in page
    page = client.submit("/reminders/sms", {"mobile": "12345", "opted_in": "y"}).get_data(
        as_text=True
    )
    assert "Enter a mainland mobile number of 11 digits" in page
    assert _saved(app, world.officer.id) is None


def test_an_officer_opts_in_and_out(app, client, world):
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    response = client.submit("/reminders/sms", {"mobile": "138 1234 5678", "opted_in": "y"})
    assert response.status_code == 302
    assert _saved(app, world.officer.id) == ("13812345678", True)
    page = client.get("/reminders/").get_data(as_text=True)
    state = page.split('data-testid="sms-state"')[1].split("</p>")[0]
    assert "also texted to" in state and "13812345678" not in state
    client.submit("/reminders/sms", {"mobile": "13812345678"})
    assert _saved(app, world.officer.id) == ("13812345678", False)
    state = client.get("/reminders/").get_data(as_text=True).split('data-testid="sms-state"')[1]
    assert "shown here only" in state.split("</p>")[0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StaffSms.user_id))) == 1
