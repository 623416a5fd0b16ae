"""The reports the worker renders: the month's visit pack, the branch report, the dossier.

A page asks for a report (``request``): when the same user asked for the same report
in the same language and its data has not changed since (the fingerprint), the job
already done, running or waiting is reused; otherwise a new job is queued. The worker
renders it (``render``) and stores the file (portal/jobs). Who may download a file is
decided again on every download by the rule of the page that asked for it
(``may_print``), and only the user who asked may download it: the file prints that
user's name, and for a borrower it leaves out the internal assessments.
"""

import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.calendar import Month, company_tz, local_today
from portal.extensions import db
from portal.jobs import operations as jobs
from portal.jobs.models import Job, JobKind
from portal.reports import data, monthly, pack, queries
from portal.reports.rendering import render_report
from portal.visits.models import Visit

BRANCH_KINDS = (JobKind.VISIT_PACK, JobKind.BRANCH_MONTH)


def _month_visits_fingerprint(branch_id: int, month: Month) -> str:
    """Count and newest id of the month's visits: a signed visit or an amendment changes it."""
    start, end = month.bounds(company_tz())
    count, newest = db.session.execute(
        sa.select(sa.func.count(Visit.id), sa.func.max(Visit.id)).where(
            Visit.branch_id == branch_id, Visit.visited_at >= start, Visit.visited_at < end
        )
    ).one()
    return f"visits:{count}:{newest or 0}"


def _writes_fingerprint() -> str:
    """Today and the newest audited write (every write is audited; exports and jobs aside).

    Cheap (one backward walk of the primary key) and coarse: any write anywhere renders
    the branch report or a dossier afresh, which takes a second.
    """
    newest = db.session.scalar(
        sa.select(AuditEntry.id)
        .where(~AuditEntry.action.like("report.%"), ~AuditEntry.action.like("job.%"))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return f"{local_today()}:writes:{newest or 0}"


def fingerprint(kind: JobKind, branch_id=None, month=None, **_target) -> str:
    if kind == JobKind.VISIT_PACK:
        return _month_visits_fingerprint(branch_id, Month.parse(month))
    return _writes_fingerprint()


def request(kind: JobKind, user: User, **target) -> tuple[Job, bool]:
    """The user's job for this report: reused, or new and still to be queued (True)."""
    from portal.jobs.queries import reusable_report

    print_ = fingerprint(kind, **target)
    job = reusable_report(kind, user.id, print_, **target)
    if job is not None:
        return job, False
    return jobs.queue_report(kind, user, print_, **target), True


def may_print(job: Job, user: User) -> bool:
    """The rule of the page that asked, checked again now, and only for the one who asked."""
    if not job.kind.is_report or job.requested_by_id != user.id:
        return False
    if job.kind in BRANCH_KINDS:
        return user.role in (Role.HEAD, Role.ADMIN) and user.can_manage_branch(job.branch_id)
    borrower = db.session.get(Borrower, job.borrower_id)
    return (
        borrower is not None
        and borrower.visible_to(user)
        and job.internal == user.can_see_internal_assessments
    )


def _gather(job: Job, printing) -> tuple:
    """The report's plain data: what to lay out, its file name, the summary, the visits."""
    if job.kind == JobKind.BORROWER_DOSSIER:
        borrower = queries.borrower_for_dossier(job.borrower_id)
        report = data.borrower_dossier(borrower, internal=job.internal)
        return report, report.filename, borrower.full_name, None
    branch, month = db.session.get(Branch, job.branch_id), Month.parse(job.month)
    if job.kind == JobKind.BRANCH_MONTH:
        report = monthly.branch_month_report(branch, month)
        return report, report.filename, f"{branch.code} {month}", None
    whole = pack.whole_month(queries.month_visits(branch.id, month))
    cover = data.pack_cover(branch, month, whole, 1)
    return cover, cover.filename, f"{branch.code} {month}: {len(whole.visits)} visits", whole


def render(job_id: int) -> None:
    """The worker's part: render the job's report and store it.

    Everything the layout needs is read first, as plain data; then the transaction ends
    (``jobs.progress`` commits) and no ORM object is touched again until the file is
    stored, so no transaction (on SQLite, no write lock) stays open during the layout,
    which takes seconds for a report and minutes for a big visit pack.
    """
    job = db.session.get(Job, job_id)
    kind, locale = job.kind, job.locale
    with force_locale(locale):
        printing = data.printing(job.requested_by)
        report, name, summary, whole = _gather(job, printing)
        total = len(whole.visits) if whole else 1
        jobs.progress(job_id, 0, total)  # commits: the pack's workers read on their own
        if kind == JobKind.VISIT_PACK:
            pdf = pack.build(
                report,
                whole.visit_ids,
                printing,
                locale,
                progress=lambda done: jobs.progress(job_id, done, total),
            )
        else:
            pdf = render_report(report, printing)
    jobs.store_file(job_id, pdf, name.display, name.ascii, summary)
