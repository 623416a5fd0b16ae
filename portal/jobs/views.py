"""The admin's page of the queue: waiting, running and failed jobs, with a retry."""

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

from portal.access import or_404, roles_required
from portal.accounts.models import Role
from portal.core.actions import Refused, attempt, settle, writes
from portal.extensions import db
from portal.jobs import operations, queries
from portal.jobs.forms import RetryForm
from portal.jobs.models import Job, JobStatus

bp = Blueprint("jobs", __name__)

SHOWN = (JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.DONE)


@bp.get("/admin/jobs")
@roles_required(Role.ADMIN)
def queue():
    return render_template(
        "jobs/queue.html",
        counts=queries.queue_counts(),
        lists={status: queries.jobs_with_status(status) for status in SHOWN},
        heartbeat=queries.worker_heartbeat(),
        workers=queries.workers(),
        alive=queries.live_workers(),
        form=RetryForm(),
    )


def _retry(job: Job) -> None:
    from portal.jobs.tasks import queue_job

    if not (job.status == JobStatus.FAILED or queries.is_abandoned(job)):
        raise Refused(_("Only a failed job, or one whose worker has stopped, can be retried."))
    operations.retry(job)
    job_id = job.id
    settle()
    queue_job(job_id)


@bp.post("/admin/jobs/<int:job_id>/retry")
@roles_required(Role.ADMIN)
@writes
def retry(job_id: int):
    job = or_404(db.session.get(Job, job_id))
    RetryForm().validate_on_submit()  # CSRF is checked globally; the form has no fields
    return attempt(
        lambda: _retry(job),
        _("The job waits for the worker again."),
        url_for("jobs.queue"),
    )
