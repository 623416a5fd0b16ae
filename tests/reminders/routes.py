"""Routes of reminders for the route x role matrix (tests/test_access_matrix.py)."""

from tests.routes import STAFF, Route

ROUTES = [
    Route("reminders.index", "GET", "/reminders/", STAFF),
    Route("reminders.mark_read", "POST", "/reminders/read", STAFF),
    Route("reminders.sms", "GET", "/reminders/sms", STAFF),
    Route("reminders.sms", "POST", "/reminders/sms", STAFF, data={"mobile": "", "opted_in": ""}),
]
