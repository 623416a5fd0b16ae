"""Routes of the complaints feature: the borrower's complaints and the staff's handling."""

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role
from portal.borrowers.queries import own_profile
from portal.complaints import operations, queries
from portal.complaints.forms import ComplaintForm, EscalateForm, ResolveForm, VerdictForm
from portal.complaints.models import Complaint, ComplaintCategory, ComplaintSeverity
from portal.core import exports
from portal.core.actions import attempt, current_actor, done, writes
from portal.core.i18n import date_text
from portal.extensions import db

bp = Blueprint("complaints", __name__)


_actor = current_actor


# The borrower's pages --------------------------------------------------------------------


@bp.get("/me/complaints")
@roles_required(Role.BORROWER)
def my_complaints():
    borrower = or_404(own_profile(current_user))
    page = db.paginate(
        queries.borrower_complaints(borrower.id), per_page=current_app.config["PER_PAGE"]
    )
    return render_template("complaints/my_complaints.html", page=page)


@bp.route("/me/complaints/new", methods=["GET", "POST"])
@roles_required(Role.BORROWER)
@writes
def new_complaint():
    borrower = or_404(own_profile(current_user))
    form = ComplaintForm()
    if form.validate_on_submit():
        complaint = operations.file_complaint(
            borrower,
            category=ComplaintCategory(form.category.data),
            severity=ComplaintSeverity(form.severity.data),
            subject=form.subject.data,
            description=form.description.data,
            actor=_actor(),
        )
        answer_by = date_text(complaint.last_answer_day)
        return done(
            _("Your complaint was received. We will answer by %(date)s.", date=answer_by),
            url_for("complaints.my_complaint", complaint_id=complaint.id),
        )
    return render_template("complaints/complaint_form.html", form=form)


def _render_my_complaint(complaint: Complaint, verdict_form: VerdictForm):
    return render_template(
        "complaints/my_complaint.html", complaint=complaint, verdict_form=verdict_form
    )


@bp.get("/me/complaints/<int:complaint_id>")
@roles_required(Role.BORROWER)
def my_complaint(complaint_id: int):
    complaint = get_visible_or_404(Complaint, complaint_id)
    return _render_my_complaint(complaint, VerdictForm(formdata=None))


@bp.post("/me/complaints/<int:complaint_id>/verdict")
@roles_required(Role.BORROWER)
@writes
def verdict(complaint_id: int):
    complaint = get_visible_or_404(Complaint, complaint_id)
    form = VerdictForm()
    if not form.validate_on_submit():
        return _render_my_complaint(complaint, form)
    target = url_for("complaints.my_complaint", complaint_id=complaint_id)
    if form.verdict.data == "satisfied":
        return attempt(
            lambda: operations.accept_resolution(complaint, _actor()),
            _("Thank you. The complaint is closed."),
            target,
        )
    return attempt(
        lambda: operations.reopen(complaint, form.reason.data, _actor()),
        _("The complaint is open again; we will look at it once more."),
        target,
    )


# The staff's pages ----------------------------------------------------------------------


def _status_filter() -> str:
    status = request.args.get("status", "open")
    return status if status in queries.STATUS_FILTERS else "open"


@bp.get("/complaints/")
@staff_required
def index():
    status = _status_filter()
    page = db.paginate(
        queries.staff_list(current_user, status), per_page=current_app.config["PER_PAGE"]
    )
    return render_template("complaints/index.html", page=page, status=status)


def _handled_by(complaint: Complaint) -> str:
    return _("Branch head") if complaint.escalated else complaint.handler.display_name


def _export_columns() -> list[exports.Column]:
    """The list page's columns."""
    return [
        (_("Subject"), lambda c: c.subject),
        (_("Category"), lambda c: c.category_label),
        (_("Borrower"), lambda c: c.borrower.full_name),
        (_("Severity"), lambda c: c.severity_label),
        (_("Status"), lambda c: c.status_label),
        (pgettext("deadline", "Overdue"), lambda c: _("Yes") if c.listed_overdue else ""),
        (_("Answer by"), lambda c: c.last_answer_day),
        (_("Handled by"), _handled_by),
    ]


@bp.get("/complaints/export.<any(csv, xlsx):fmt>")
@staff_required
@writes
def export(fmt: str):
    """The complaints of the tab shown, as the list shows them."""
    status = _status_filter()
    stmt = exports.limited(queries.staff_list(current_user, status))
    return exports.export_response(
        "complaints", _export_columns(), db.session.scalars(stmt), fmt, {"status": status}
    )


def _render_staff_complaint(complaint: Complaint, **forms):
    forms.setdefault("resolve_form", ResolveForm(formdata=None))
    forms.setdefault("escalate_form", EscalateForm(formdata=None))
    return render_template("complaints/detail.html", complaint=complaint, **forms)


@bp.get("/complaints/<int:complaint_id>")
@staff_required
def detail(complaint_id: int):
    return _render_staff_complaint(get_visible_or_404(Complaint, complaint_id))


def _handled_complaint(complaint_id: int) -> Complaint:
    complaint = get_visible_or_404(Complaint, complaint_id)
    require(complaint.can_handle(current_user))
    return complaint


@bp.post("/complaints/<int:complaint_id>/resolve")
@staff_required
@writes
def resolve(complaint_id: int):
    complaint = _handled_complaint(complaint_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _render_staff_complaint(complaint, resolve_form=form)
    return attempt(
        lambda: operations.resolve(complaint, form.resolution.data, _actor()),
        _("The answer was sent to the borrower."),
        url_for("complaints.detail", complaint_id=complaint_id),
    )


@bp.post("/complaints/<int:complaint_id>/escalate")
@staff_required
@writes
def escalate(complaint_id: int):
    complaint = _handled_complaint(complaint_id)
    form = EscalateForm()
    if not form.validate_on_submit():
        return _render_staff_complaint(complaint, escalate_form=form)
    # An officer no longer sees an escalated complaint: back to their list.
    target = (
        url_for("complaints.index")
        if current_user.role == Role.OFFICER
        else url_for("complaints.detail", complaint_id=complaint_id)
    )
    return attempt(
        lambda: operations.escalate(complaint, _actor(), form.note.data or ""),
        _("The complaint was passed to the branch head."),
        target,
    )
