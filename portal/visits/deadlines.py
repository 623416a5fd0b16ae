"""When a red warning must be acted on, and when it is escalated (docs/visits.md).

The days come from ``risk.WARNING_DEADLINES``; this module turns them into moments on
the company's calendar: the end of the last local day given.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from portal.core.calendar import deadline_after, local_date, local_midnight
from portal.visits.risk import RiskSignal, warning_deadline


def warning_deadlines(raised_at: datetime, signals: Iterable[RiskSignal | str]) -> dict:
    """``act_by`` and ``admin_by`` (UTC) of a warning raised at ``raised_at``.

    A warning raised on Monday with one day to act is due before Wednesday 00:00 local
    time; with two more days for the head, the admin is alerted from Friday 00:00.
    """
    rule = warning_deadline(signals)
    act_by = deadline_after(raised_at, rule.act_within_days)
    admin_day = local_date(act_by) + timedelta(days=rule.admin_after_days)
    return {"act_by": act_by, "admin_by": local_midnight(admin_day).astimezone(act_by.tzinfo)}
