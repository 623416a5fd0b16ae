"""Routes of the reports feature: PDF downloads, each behind the same rule as its page."""

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.actions import settle, writes
from portal.core.calendar import Month, current_month
from portal.core.inputs import requested_month
from portal.extensions import db
from portal.jobs import operations as job_files
from portal.jobs.models import Job, JobKind, JobStatus
from portal.jobs.tasks import queue_job
from portal.reports import data, jobs, operations, queries, warnings
from portal.reports.data import FileName
from portal.reports.rendering import render_detached, render_report
from portal.training.models import TrainingSignoff
from portal.visits.models import Visit

bp = Blueprint("reports", __name__)

EVERY_ROLE = tuple(Role)
# RFC 5987 attr-char besides letters and digits.
FILENAME_SAFE = "!#$&+-.^_`|~"


def content_disposition(name: FileName) -> str:
    """``attachment`` with an ASCII name, plus the reader's-language name (RFC 5987/6266)."""
    plain = name.ascii.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    value = f'attachment; filename="{plain}"'
    if name.display != plain:
        value += "; filename*=UTF-8''" + quote(name.display, safe=FILENAME_SAFE)
    return value


def _download(pdf: bytes, name: FileName) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(report, kind: str, target, summary: str, render=render_report) -> Response:
    """Print ``report``, write the export to the audit log, send it as a download."""
    printing = data.printing(current_user)
    pdf = render_detached(render, report, printing)
    operations.record_export(kind, target, summary)
    return _download(pdf, report.filename)


def _month_up_to_now(text: str) -> Month | None:
    """The month ``text`` names, or None when it names none or one still to come."""
    try:
        month = Month.parse(text)
    except ValueError:
        return None
    return month if month <= current_month() else None


def _branch_month(branch_code: str, month_text: str) -> tuple[Branch, Month]:
    """The branch (404 if unknown, 403 unless managed by the user) and a month up to now."""
    branch = or_404(queries.branch_by_code(branch_code))
    require(current_user.can_manage_branch(branch.id))
    return branch, or_404(_month_up_to_now(month_text))


def _certifying(signoff: TrainingSignoff) -> TrainingSignoff | None:
    """The sign-off if it passed: a failed attempt certifies nothing."""
    return signoff if signoff.passed else None


@bp.get("/visits/<int:visit_id>/report.pdf")
@roles_required(*EVERY_ROLE)
@writes
def visit_report(visit_id: int):
    visit = get_visible_or_404(Visit, visit_id)
    report = data.visit_report(visit.id, internal=current_user.can_see_internal_assessments)
    return _export(report, "visit", visit, f"borrower={visit.borrower_id} month={report.month}")


@bp.get("/training/signoffs/<int:signoff_id>/certificate.pdf")
@roles_required(*EVERY_ROLE)
@writes
def training_certificate(signoff_id: int):
    signoff = or_404(_certifying(get_visible_or_404(TrainingSignoff, signoff_id)))
    report = data.training_certificate(queries.signoff_for_certificate(signoff.id))
    return _export(report, "training_certificate", signoff, f"borrower={signoff.borrower_id}")


@bp.get("/borrowers/<int:borrower_id>/dossier.pdf")
@roles_required(*EVERY_ROLE)
@writes
def borrower_dossier(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    return _as_job(JobKind.BORROWER_DOSSIER, borrower_id=borrower.id)


@bp.get("/reports/branch/<branch_code>/<month>.pdf")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def branch_report(branch_code: str, month: str):
    branch, shown = _branch_month(branch_code, month)
    return _as_job(JobKind.BRANCH_MONTH, branch_id=branch.id, month=str(shown))


@bp.get("/reports/branch/<branch_code>/<month>/visits.pdf")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def visit_pack(branch_code: str, month: str):
    """The month's visit reports, all of them, in one file rendered by the worker."""
    branch, shown = _branch_month(branch_code, month)
    return _as_job(JobKind.VISIT_PACK, branch_id=branch.id, month=str(shown))


@bp.get("/reports/warnings")
@roles_required(Role.HEAD, Role.ADMIN)
def warnings_page():
    """Do the warnings work? The head's branch; for admins the company, a row per branch."""
    branch = None if current_user.role == Role.ADMIN else current_user.branch
    require(current_user.can_manage_branch(branch.id if branch else None))
    last = requested_month() if request.args.get("month") else warnings.latest_complete_month()
    return render_template(
        "reports/warnings.html",
        branch=branch,
        shown=last,
        this_month=current_month(),
        table=warnings.warnings_table(last, branch.id if branch else None),
    )


# --- reports as jobs: asked for on a page, rendered by the worker, downloaded here -------


def _as_job(kind: JobKind, **target) -> Response:
    """The file when it is ready (the same data rendered before, or rendered at once in
    tests); otherwise the job's progress page. Asking again never queues twice."""
    target |= {
        "locale": str(get_locale()),
        "internal": current_user.can_see_internal_assessments,
    }
    job, new = jobs.request(kind, current_user, **target)
    if new:
        job_id = job.id
        settle()  # the worker must find the job, and no transaction waits on the queue
        queue_job(job_id)
        job = db.session.get(Job, job_id)
    if job.has_file:
        return _send_job_file(job)
    return redirect(url_for("reports.job_page", job_id=job.id))


def _printable_job(job_id: int) -> Job:
    """The report job (404), when the user asked for it and the page's rule still holds (403)."""
    job = or_404(db.session.get(Job, job_id))
    or_404(job if job.kind.is_report else None)
    require(jobs.may_print(job, current_user))
    return job


def _target(job: Job):
    if job.kind == JobKind.BORROWER_DOSSIER:
        return db.session.get(Borrower, job.borrower_id)
    return db.session.get(Branch, job.branch_id)


def _send_job_file(job: Job) -> Response:
    """Stream the stored file after writing the download to the audit log."""
    operations.record_export(job.kind.value, _target(job), job.summary)
    response = Response(
        stream_with_context(job_files.file_chunks(job.id)), mimetype="application/pdf"
    )
    name = FileName(job.file_name_ascii, job.file_name)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Content-Length"] = str(job.file_size)
    response.headers["Cache-Control"] = "no-store"
    return response


def progress_text(job: Job) -> str:
    """What the page and its JSON say of a job: "rendering 640 of 2,300 visits" and so on."""
    if job.status == JobStatus.QUEUED:
        return _("Waiting for the worker…")
    if job.status == JobStatus.FAILED:
        return _("Rendering failed. Ask again, or ask the administrator to retry it.")
    if job.status == JobStatus.DONE:
        return _("Ready to download.") if job.has_file else _("The file has expired. Ask again.")
    if job.kind == JobKind.VISIT_PACK and job.progress_total:
        return _(
            "Rendering %(done)s of %(total)s visit reports…",
            done=format_decimal(job.progress_done),
            total=format_decimal(job.progress_total),
        )
    return _("Rendering…")


def _status(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status.value,
        "done": job.progress_done,
        "total": job.progress_total,
        "text": progress_text(job),
        "download": url_for("reports.job_file", job_id=job.id) if job.has_file else None,
    }


@bp.get("/reports/jobs/<int:job_id>")
@roles_required(*EVERY_ROLE)
def job_page(job_id: int):
    job = _printable_job(job_id)
    return render_template("reports/job.html", job=job, status=_status(job))


@bp.get("/reports/jobs/<int:job_id>/status.json")
@roles_required(*EVERY_ROLE)
def job_status(job_id: int):
    response = jsonify(_status(_printable_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports/jobs/<int:job_id>/file.pdf")
@roles_required(*EVERY_ROLE)
@writes
def job_file(job_id: int):
    job = _printable_job(job_id)
    if not job.has_file:
        return redirect(url_for("reports.job_page", job_id=job.id))
    return _send_job_file(job)
