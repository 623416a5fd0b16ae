"""When a text may reach a borrower's phone: quiet hours and a daily limit per number.

Both apply to every gateway that reaches phones (``webhook``, ``aliyun``, ``tencent``;
not ``log``), to the outbox's greetings; docs/sms.md. On the company's clock
(portal/core/calendar.py):

- **quiet hours** (``SMS_QUIET_HOURS``, default ``21:00-08:00``): nothing is sent
  while they last; what falls due then waits, and the first run after they end (the
  08:00 greetings, or the retries every 15 minutes) sends it;
- **the daily limit** (``SMS_DAILY_CAP``, default 3, 0 for none): at most that many
  greetings go to one number in a company day; one more waits, without spending an
  attempt, until the next day's first sending hour.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.care.models import OutboxMessage
from portal.core.calendar import company_tz, local_date, local_midnight
from portal.core.crypto import blind_index
from portal.extensions import db


@dataclass(frozen=True)
class QuietHours:
    """A span of the company's day, which may run past midnight (21:00-08:00)."""

    start: time
    end: time

    def __contains__(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def quiet_hours() -> QuietHours | None:
    """The configured quiet hours; None when off (settings.py checked the spelling)."""
    text = str(current_app.config.get("SMS_QUIET_HOURS") or "")
    if not text:
        return None
    start, end = (time.fromisoformat(part) for part in text.split("-"))
    return QuietHours(start, end)


def quiet_until(now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC); None outside them."""
    hours = quiet_hours()
    local = now.astimezone(company_tz())
    if hours is None or local.time().replace(tzinfo=None) not in hours:
        return None
    end = datetime.combine(local.date(), hours.end, tzinfo=company_tz())
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), hours.end, tzinfo=company_tz())
    return end.astimezone(UTC)


def daily_cap() -> int:
    return int(current_app.config.get("SMS_DAILY_CAP") or 0)


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    day = local_date(now)
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return start.astimezone(UTC), end.astimezone(UTC)


def sent_today(mobile: str, now: datetime) -> int:
    """Greetings handed to a gateway for ``mobile`` since the company's midnight."""
    start, end = _day_bounds(now)
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                OutboxMessage.mobile_hash == blind_index(mobile),
                OutboxMessage.sent_at >= start,
                OutboxMessage.sent_at < end,
            )
        )
        or 0
    )


def limit_reached(mobile: str, now: datetime) -> bool:
    """Whether ``mobile`` has had its greetings for today."""
    cap = daily_cap()
    return cap > 0 and sent_today(mobile, now) >= cap


def next_day_opening(now: datetime) -> datetime:
    """The first moment of the next company day on which a text may go out (UTC)."""
    _, midnight = _day_bounds(now)
    return quiet_until(midnight) or midnight
