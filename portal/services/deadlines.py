"""Response deadlines counted in calendar days of the company's time zone (docs/services.md)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def company_zone() -> ZoneInfo:
    """The company's time zone (``PORTAL_TIMEZONE``)."""
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def response_deadline(start: datetime, days: int) -> datetime:
    """The end of the ``days``-th local calendar day after ``start``, in UTC.

    Something received on Monday at 23:30 with two days is due before Thursday
    00:00 local time: the hour of arrival never shortens the time to answer.
    """
    zone = company_zone()
    local_day = start.astimezone(zone).date() + timedelta(days=days + 1)
    return datetime.combine(local_day, time.min, tzinfo=zone).astimezone(UTC)


def last_day(deadline: datetime) -> date:
    """The last local calendar day before ``deadline`` (a local midnight): what pages show."""
    return (deadline.astimezone(company_zone()) - timedelta(microseconds=1)).date()


def local_today() -> date:
    """Today's date in the company's time zone."""
    return datetime.now(company_zone()).date()
