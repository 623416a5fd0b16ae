"""Routes of the reports feature: PDF downloads, each behind the same rule as its page."""

from urllib.parse import quote

from flask import Blueprint, Response, request
from flask_babel import get_locale
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.actions import writes
from portal.core.calendar import Month, current_month
from portal.core.forms import bounded_int
from portal.reports import data, monthly, operations, pack, queries
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
    report = data.borrower_dossier(
        queries.borrower_for_dossier(borrower.id),
        internal=current_user.can_see_internal_assessments,
    )
    return _export(report, "borrower_dossier", borrower, borrower.full_name)


@bp.get("/reports/branch/<branch_code>/<month>.pdf")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def branch_report(branch_code: str, month: str):
    branch, shown = _branch_month(branch_code, month)
    report = monthly.branch_month_report(branch, shown)
    return _export(report, "branch_month", branch, f"{branch.code} {shown}")


@bp.get("/reports/branch/<branch_code>/<month>/visits.pdf")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def visit_pack(branch_code: str, month: str):
    branch, shown = _branch_month(branch_code, month)
    parts = pack.parts(queries.month_visits(branch.id, shown))
    number = request.args.get("part", 1, type=bounded_int)
    part, locale = or_404(pack.numbered(parts, number)), str(get_locale())
    cover = data.pack_cover(branch, shown, part, len(parts))
    summary = f"{branch.code} {shown} part {number}/{len(parts)}: {len(part.visits)} visits"
    return _export(
        cover,
        "visit_pack",
        branch,
        summary,
        render=lambda cover, printing: pack.build(cover, part.visit_ids, printing, locale),
    )
