"""The tasks the worker runs, and the schedule of the periodic ones (company time).

Every task is one Huey task, ``run_job(job_id)``, for a row of ``jobs``: a report asked
for on a page, or an admin's retry. The periodic tasks (greetings at 08:00, their
retries every 15 minutes, the SMS providers' delivery status every 15 minutes, the
loans' overdue days at 00:05, the tier refresh at 00:15, the retention run at 00:35,
cleaning up expired files every hour) first claim their slot in the database (``operations.start_periodic``), so two workers — two processes, or two
machines sharing Redis — whose schedulers both fire run each of them once.
"""

import importlib
import logging
from datetime import UTC, datetime

from huey import crontab

from portal.jobs import operations
from portal.jobs.models import Job, JobKind
from portal.jobs.queue import huey, task_app_context

log = logging.getLogger(__name__)

# What renders each kind of report: "module:function(job_id)" (the reports feature).
REPORT_RENDERERS = {
    JobKind.VISIT_PACK: "portal.reports.jobs:render",
    JobKind.BRANCH_MONTH: "portal.reports.jobs:render",
    JobKind.BORROWER_DOSSIER: "portal.reports.jobs:render",
}


def _call(target: str, *args):
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(*args)


def _send_due() -> str:
    from portal.care.sending import send_due
    from portal.core.calendar import local_today

    return f"Greetings: {send_due(local_today())}."


def _retry_greetings() -> str:
    from portal.care.sending import deliver_due

    return f"Greetings: {deliver_due()}."


def _query_sms_statuses() -> str:
    from portal.care.sending import query_statuses

    return f"SMS delivery status: {query_statuses()}."


def _refresh_tiers() -> str:
    from portal.core.calendar import local_today
    from portal.tiers.stored import refresh_all

    today = local_today()
    return f"Tier suggestions: {refresh_all(today)} borrowers as of {today}."


def _loan_standing() -> str:
    from portal.core.calendar import local_today
    from portal.portfolio.standing import refresh

    today = local_today()
    return f"Loan standing: {refresh(today)} loans changed as of {today}."


def _visit_reminders() -> str:
    from portal.reminders.runs import morning

    return morning()


def _warning_escalation() -> str:
    from portal.reminders.runs import escalation

    return escalation()


def _session_reminders() -> str:
    from portal.reminders.runs import sessions

    return sessions()


def _retention() -> str:
    from portal.core.calendar import local_today
    from portal.retention.run import apply

    return str(apply(local_today()))


PERIODIC_BODIES = {
    JobKind.CARE_SEND_DUE: _send_due,
    JobKind.CARE_RETRY: _retry_greetings,
    JobKind.CARE_SMS_STATUS: _query_sms_statuses,
    JobKind.TIER_REFRESH: _refresh_tiers,
    JobKind.LOAN_STANDING: _loan_standing,
    JobKind.VISIT_REMINDERS: _visit_reminders,
    JobKind.WARNING_ESCALATION: _warning_escalation,
    JobKind.SESSION_REMINDERS: _session_reminders,
    JobKind.RETENTION: _retention,
}


def execute(job_id: int) -> None:
    """Run one job of the table, if this worker gets it first."""
    from portal.extensions import db

    if not operations.claim(job_id):
        return
    kind = db.session.get(Job, job_id).kind
    db.session.commit()  # each job begins with no transaction open
    try:
        if kind.is_report:
            _call(REPORT_RENDERERS[kind], job_id)
        else:
            operations.finish(job_id, PERIODIC_BODIES[kind]())
    except Exception as error:
        log.exception("job %s (%s) failed", job_id, kind)
        operations.fail(job_id, error)


def run_periodic(kind: JobKind, slot: str) -> Job | None:
    """Claim ``slot`` and run ``kind`` in it; None when another worker has the slot."""
    job = operations.start_periodic(kind, slot)
    if job is None:
        log.info("%s: slot %s already taken by another worker", kind, slot)
        return None
    try:
        operations.finish(job.id, PERIODIC_BODIES[kind]())
    except Exception as error:
        log.exception("periodic job %s failed", kind)
        operations.fail(job.id, error)
    return job


@huey.task()
def run_job(job_id: int) -> None:
    with task_app_context():
        execute(job_id)


def company_schedule(minute: str = "*", hour: str = "*"):
    """A crontab read on the company's clock (``PORTAL_TIMEZONE``), not the server's."""
    matches = crontab(minute=minute, hour=hour)

    def due(timestamp: datetime) -> bool:
        with task_app_context():
            from portal.core.calendar import company_tz

            local = timestamp.replace(tzinfo=UTC).astimezone(company_tz())
        return matches(local.replace(tzinfo=None))

    return due


def _local_now() -> datetime:
    from portal.core.calendar import company_tz

    return datetime.now(company_tz())


def daily_slot(kind: JobKind) -> str:
    return f"{kind.value}@{_local_now():%Y-%m-%d}"


def quarter_hour_slot(kind: JobKind) -> str:
    now = _local_now()
    return f"{kind.value}@{now:%Y-%m-%dT%H}:{now.minute // 15 * 15:02d}"


@huey.periodic_task(company_schedule(minute="0", hour="8"))
def morning_greetings() -> None:
    with task_app_context():
        run_periodic(JobKind.CARE_SEND_DUE, daily_slot(JobKind.CARE_SEND_DUE))


@huey.periodic_task(company_schedule(minute="*/15"))
def greeting_retries() -> None:
    with task_app_context():
        run_periodic(JobKind.CARE_RETRY, quarter_hour_slot(JobKind.CARE_RETRY))


@huey.periodic_task(company_schedule(minute="5,20,35,50"))
def sms_delivery_status() -> None:
    with task_app_context() as app:
        if str(app.config["CARE_GATEWAY"]).strip().lower() not in ("aliyun", "tencent"):
            return  # only the providers can be asked (docs/sms.md)
        run_periodic(JobKind.CARE_SMS_STATUS, quarter_hour_slot(JobKind.CARE_SMS_STATUS))


@huey.periodic_task(company_schedule(minute="5", hour="0"))
def nightly_loan_standing() -> None:
    """The loans' overdue days for the new day, before the tiers read them at 00:15."""
    with task_app_context():
        run_periodic(JobKind.LOAN_STANDING, daily_slot(JobKind.LOAN_STANDING))


@huey.periodic_task(company_schedule(minute="15", hour="0"))
def nightly_tier_refresh() -> None:
    with task_app_context():
        run_periodic(JobKind.TIER_REFRESH, daily_slot(JobKind.TIER_REFRESH))


# Reminders (portal/reminders/runs.py, docs/jobs.md): the officers' visits at 07:30, red
# warnings past their deadline each hour from 08:05 to 20:05, group sessions at 10:00.
def hourly_slot(kind: JobKind) -> str:
    return f"{kind.value}@{_local_now():%Y-%m-%dT%H}"


@huey.periodic_task(company_schedule(minute="30", hour="7"))
def morning_visit_reminders() -> None:
    with task_app_context():
        run_periodic(JobKind.VISIT_REMINDERS, daily_slot(JobKind.VISIT_REMINDERS))


@huey.periodic_task(company_schedule(minute="5", hour="8-20"))
def late_warning_escalation() -> None:
    with task_app_context():
        run_periodic(JobKind.WARNING_ESCALATION, hourly_slot(JobKind.WARNING_ESCALATION))


@huey.periodic_task(company_schedule(minute="0", hour="10"))
def group_session_reminders() -> None:
    with task_app_context():
        run_periodic(JobKind.SESSION_REMINDERS, daily_slot(JobKind.SESSION_REMINDERS))


@huey.periodic_task(company_schedule(minute="1"))
def build_compliance_months() -> None:
    """Count a new month's visit compliance from scratch (docs/visits.md, "Compliance counts")."""
    with task_app_context():
        from portal.extensions import db
        from portal.visits.counts import build_missing

        built = build_missing()
        db.session.commit()
        if built:
            log.info("compliance counts built for %s", ", ".join(map(str, built)))


@huey.periodic_task(company_schedule(minute="3"))
def build_warning_months() -> None:
    """Store the figures of a month just complete (docs/risk.md, "Stored months")."""
    with task_app_context():
        from portal.extensions import db
        from portal.reports.warnings import build_missing

        built = build_missing()
        db.session.commit()
        if built:
            log.info("warning figures stored for %s", ", ".join(map(str, built)))


@huey.periodic_task(company_schedule(minute="25", hour="0"))
def rebuild_recent_warning_months() -> None:
    """Compute the recent stored months again: payments dated back, amended visits."""
    with task_app_context():
        from portal.extensions import db
        from portal.reports.warnings import RECENT_MONTHS, rebuild

        rebuilt = rebuild(RECENT_MONTHS)
        db.session.commit()
        log.info("warning figures rebuilt for %s months", len(rebuilt))


@huey.periodic_task(company_schedule(minute="35", hour="0"))
def nightly_retention() -> None:
    """The retention schedule: optional data deleted, borrowers anonymised (docs/privacy.md)."""
    with task_app_context():
        run_periodic(JobKind.RETENTION, daily_slot(JobKind.RETENTION))


@huey.periodic_task(company_schedule(minute="45"))
def clean_up_files() -> None:
    with task_app_context():
        deleted = operations.clean_up()
        if deleted:
            log.info("deleted %s expired report files", deleted)


def queue_job(job_id: int) -> None:
    """Queue the task of a committed job (the request's ``settle()`` came first).

    Takes the id, not the row: reading the row again here would open a read snapshot
    (SQLite) from before an immediate run's result.
    """
    from portal.jobs.queue import enqueue

    enqueue(run_job, job_id)
