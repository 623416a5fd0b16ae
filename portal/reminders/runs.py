"""The periodic runs of reminders, as the worker (docs/jobs.md) and ``flask reminders``
run them: each stores its reminders in one transaction, commits, then hands the texts
to the care outbox's delivery (``portal.care.sending.deliver_due``), which commits per
message. Running one twice tells nobody twice (``portal.reminders.operations``)."""

from datetime import date, datetime

from portal.core.calendar import local_today
from portal.extensions import db
from portal.reminders import operations


def _deliver() -> str:
    """Send what waits in the outbox now; what happened, for the run's summary."""
    from portal.care.sending import deliver_due

    report = deliver_due()
    text = f"{report.sent} sent, {report.failed} failed"
    if getattr(report, "held", 0):
        text += f", {report.held} held back by the daily limit"
    if getattr(report, "quiet_until", None):
        text += ", none during the quiet hours"
    return text


def morning(day: date | None = None) -> str:
    """Remind the officers of the visits due and overdue on ``day`` (default today)."""
    day = day or local_today()
    told = operations.morning_visits(day)
    db.session.commit()
    return f"Visit reminders {day.isoformat()}: {told} officers; texts: {_deliver()}."


def escalation(now: datetime | None = None) -> str:
    """Alert the heads, then the admin, of the red warnings past their deadline."""
    heads, admins = operations.escalate_warnings(now)
    db.session.commit()
    return f"Late red warnings: {heads} to the heads, {admins} to the admin; texts: {_deliver()}."


def sessions(day: date | None = None) -> str:
    """Remind the borrowers of the group sessions held the day after ``day``."""
    day = day or local_today()
    count = operations.session_reminders(day)
    db.session.commit()
    return f"Session reminders for the day after {day.isoformat()}: {count}; texts: {_deliver()}."
