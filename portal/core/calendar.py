"""The company's calendar: its time zone, today, local dates and months.

Every feature counts days and months on the company's calendar (``PORTAL_TIMEZONE``),
never the server's: a visit at 07:30 in Urumqi, a greeting due today, a service
request's deadline, the month a report covers. Times are stored in UTC; this module
is the one place that turns them into local days and months and back.
"""

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal.database import utcnow

_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})$")


def company_tz() -> ZoneInfo:
    """The company's time zone (``PORTAL_TIMEZONE``)."""
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def local_today() -> date:
    """Today's date in the company's time zone, not the server's."""
    return datetime.now(company_tz()).date()


def local_date(moment: datetime) -> date:
    """The company-calendar date of a stored UTC moment."""
    return moment.astimezone(company_tz()).date()


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the company's time zone (an aware datetime)."""
    return datetime.combine(day, time.min, tzinfo=company_tz())


def deadline_after(start: datetime, days: int) -> datetime:
    """The end of the ``days``-th local calendar day after ``start``, in UTC.

    Something received on Monday at 23:30 with two days is due before Thursday 00:00
    local time: the hour of arrival never shortens the time given.
    """
    local_day = local_date(start) + timedelta(days=days + 1)
    return local_midnight(local_day).astimezone(UTC)


def last_day_before(moment: datetime) -> date:
    """The last local calendar day before ``moment`` (a local midnight): what pages show."""
    return local_date(moment - timedelta(microseconds=1))


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in the company's time zone."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """``"2026-11"`` → Month(2026, 11); ValueError for anything else."""
        match = _MONTH_TEXT.match(text or "")
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValueError(f"not a month: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime, tz: ZoneInfo) -> "Month":
        """The month ``moment`` falls in, on the local calendar."""
        local = moment.astimezone(tz)
        return cls(local.year, local.month)

    @classmethod
    def containing(cls, day: date) -> "Month":
        """The month of a calendar date."""
        return cls(day.year, day.month)

    def shift(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def day(self, number: int) -> date:
        """The ``number``-th day of this month."""
        return date(self.year, self.month, number)

    @property
    def first_day(self) -> date:
        return self.day(1)

    @property
    def last_day(self) -> date:
        return self.day(monthrange(self.year, self.month)[1])

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in UTC: local midnight of the 1st to that of the next 1st."""
        start = datetime(self.year, self.month, 1, tzinfo=tz)
        following = self.shift(1)
        end = datetime(following.year, following.month, 1, tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def current_month(now: datetime | None = None) -> Month:
    """This month on the company's calendar."""
    return Month.of(now or utcnow(), company_tz())


def month_of(moment: datetime) -> Month:
    """The company-calendar month of a stored UTC time."""
    return Month.of(moment, company_tz())
