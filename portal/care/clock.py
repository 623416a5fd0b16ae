"""The company's calendar day, which decides when greetings are due and reviews fall."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def local_today() -> date:
    """Today in the company's time zone (PORTAL_TIMEZONE), not the server's."""
    return datetime.now(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()
