"""Routes of the services feature: the borrower's requests and notices, the staff workflow,
group sessions, satisfaction figures and the admin's catalogue."""

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role, User
from portal.borrowers.queries import own_profile
from portal.branches.forms import branch_choices
from portal.core import exports
from portal.core.actions import attempt, current_actor, done, writes
from portal.core.calendar import local_today
from portal.core.forms import ConfirmForm, choices
from portal.core.i18n import date_text
from portal.core.once import save_once
from portal.core.paging import per_page
from portal.extensions import db
from portal.notices.operations import mark_all_read
from portal.notices.queries import borrower_notices, shown
from portal.privacy import consents
from portal.privacy.models import Purpose
from portal.services import operations, queries
from portal.services.forms import (
    AddRequestsForm,
    AssignForm,
    AttendanceForm,
    CompleteForm,
    DeclineForm,
    KindForm,
    PeriodForm,
    RatingForm,
    ServiceRequestForm,
    SessionForm,
)
from portal.services.models import ServiceKind, ServiceRequest, ServiceSession

bp = Blueprint("services", __name__)


_actor = current_actor


# The borrower's pages --------------------------------------------------------------------


@bp.get("/me/services")
@roles_required(Role.BORROWER)
def my_requests():
    borrower = or_404(own_profile(current_user))
    page = db.paginate(queries.borrower_requests(borrower.id), per_page=per_page())
    return render_template("services/my_requests.html", page=page)


@bp.route("/me/services/new", methods=["GET", "POST"])
@roles_required(Role.BORROWER)
@writes
def new_request():
    borrower = or_404(own_profile(current_user))
    form = ServiceRequestForm()
    if form.validate_on_submit():
        token = form.idempotency_token.data
        created, stored = save_once(
            token,
            operations.request_by_token,
            lambda: operations.submit_request(
                borrower,
                db.session.get(ServiceKind, form.kind.data),
                form.description.data,
                form.preferred_time.data,
                actor=_actor(),
                token=token,
            ),
        )
        if stored:
            message = _(
                "Your request was sent. You will hear from us by %(date)s.",
                date=date_text(created.last_answer_day),
            )
        else:
            message = _("This request was already sent; here it is.")
        # get_visible_or_404 on the next page: a token of someone else's form shows nothing.
        return done(message, url_for("services.my_request", request_id=created.id))
    form.idempotency_token.issue()
    return render_template("services/request_form.html", form=form)


def _render_my_request(service_request: ServiceRequest, rating_form: RatingForm):
    return render_template(
        "services/my_request.html",
        item=service_request,
        rating_form=rating_form,
        # A rating is a survey: offered only with the borrower's consent to surveys.
        rating_asked=consents.given(service_request.borrower_id, Purpose.SURVEYS),
    )


@bp.get("/me/services/<int:request_id>")
@roles_required(Role.BORROWER)
def my_request(request_id: int):
    service_request = get_visible_or_404(ServiceRequest, request_id)
    return _render_my_request(service_request, RatingForm(formdata=None))


@bp.post("/me/services/<int:request_id>/rate")
@roles_required(Role.BORROWER)
@writes
def rate(request_id: int):
    service_request = get_visible_or_404(ServiceRequest, request_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _render_my_request(service_request, form)
    return attempt(
        lambda: operations.rate(
            service_request, int(form.rating.data), form.comment.data or "", _actor()
        ),
        _("Thank you for your rating."),
        url_for("services.my_request", request_id=request_id),
    )


@bp.get("/me/notices")
@roles_required(Role.BORROWER)
def notices():
    borrower = or_404(own_profile(current_user))
    page = db.paginate(borrower_notices(borrower.id), per_page=per_page())
    return render_template(
        "services/notices.html", page=page, notices=shown(page.items, queries.kind_names())
    )


@bp.post("/me/notices/read")
@roles_required(Role.BORROWER)
@writes
def mark_notices_read():
    borrower = or_404(own_profile(current_user))
    if ConfirmForm().validate_on_submit():
        mark_all_read(borrower.id)
    return redirect(url_for("services.notices"))


# The staff workflow ---------------------------------------------------------------------


def _queue_filters() -> tuple[str, bool]:
    """The queue's tab and its "overdue only" switch, from the address."""
    status = request.args.get("status", "open")
    status = status if status in queries.QUEUE_FILTERS else "open"
    return status, request.args.get("overdue") == "1"


@bp.get("/services/queue")
@roles_required(Role.HEAD, Role.ADMIN)
def queue():
    status, overdue_only = _queue_filters()
    stmt = queries.queue(current_user, status, overdue_only)
    page = db.paginate(stmt, per_page=per_page())
    return render_template(
        "services/queue.html", page=page, status=status, overdue_only=overdue_only
    )


def _queue_columns() -> list[exports.Column]:
    """The queue page's columns."""
    columns = [
        (_("Borrower"), lambda r: r.borrower.full_name),
        (_("Source"), lambda r: r.source_label),
        (_("Service"), lambda r: r.kind.name),
        (_("Status"), lambda r: r.status_label),
        (pgettext("deadline", "Overdue"), lambda r: _("Yes") if r.listed_overdue else ""),
        (_("Answer by"), lambda r: r.last_answer_day),
        (_("Assigned to"), lambda r: r.assignee.display_name if r.assignee else ""),
        (_("Planned date"), lambda r: r.planned_on),
    ]
    if current_user.role == Role.ADMIN:
        columns.append((_("Branch"), lambda r: r.branch.name))
    return columns


@bp.get("/services/queue/export.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def queue_export(fmt: str):
    """The whole queue as its page lists it, for the tab shown."""
    status, overdue_only = _queue_filters()
    stmt = exports.limited(queries.queue(current_user, status, overdue_only))
    filters = {"status": status, "overdue": "1" if overdue_only else ""}
    return exports.export_response(
        "service-requests", _queue_columns(), db.session.scalars(stmt), fmt, filters
    )


@bp.get("/services/assignments")
@staff_required
def assignments():
    done = request.args.get("done") == "1"
    # Only what the user may still open: not a moved borrower's history (``visible_to``).
    stmt = queries.assignments(current_user, done).where(
        ServiceRequest.assigned_filter(current_user)
    )
    page = db.paginate(stmt, per_page=per_page())
    return render_template("services/assignments.html", page=page, done=done)


def _render_staff_request(service_request: ServiceRequest, **forms):
    manage = service_request.can_manage(current_user)
    staff = operations.assignable_staff(service_request.branch_id) if manage else []
    forms.setdefault(
        "assign_form",
        AssignForm(
            formdata=None,
            staff=staff,
            partner_name=service_request.partner_name,
            partner_contact=service_request.partner_contact,
        ),
    )
    forms.setdefault("decline_form", DeclineForm(formdata=None))
    forms.setdefault("complete_form", CompleteForm(formdata=None))
    return render_template(
        "services/request_detail.html",
        item=service_request,
        can_manage=manage,
        can_complete=service_request.can_complete(current_user),
        too_early=operations.completion_too_early(service_request),
        **forms,
    )


@bp.get("/services/requests/<int:request_id>")
@staff_required
def request_detail(request_id: int):
    return _render_staff_request(get_visible_or_404(ServiceRequest, request_id))


def _managed_request(request_id: int) -> ServiceRequest:
    service_request = get_visible_or_404(ServiceRequest, request_id)
    require(service_request.can_manage(current_user))
    return service_request


@bp.post("/services/requests/<int:request_id>/assign")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def assign(request_id: int):
    service_request = _managed_request(request_id)
    form = AssignForm(staff=operations.assignable_staff(service_request.branch_id))
    if not form.validate_on_submit():
        return _render_staff_request(service_request, assign_form=form)
    return attempt(
        lambda: operations.assign(
            service_request,
            form.assignee,
            form.planned_on.data,
            _actor(),
            form.note.data or "",
            partner_name=form.partner_name.data or "",
            partner_contact=form.partner_contact.data or "",
        ),
        _("The request was assigned."),
        url_for("services.request_detail", request_id=request_id),
    )


@bp.post("/services/requests/<int:request_id>/decline")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def decline(request_id: int):
    service_request = _managed_request(request_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render_staff_request(service_request, decline_form=form)
    return attempt(
        lambda: operations.decline(service_request, form.reason.data, _actor()),
        _("The request was declined; the borrower will see the reason."),
        url_for("services.request_detail", request_id=request_id),
    )


@bp.post("/services/requests/<int:request_id>/complete")
@staff_required
@writes
def complete(request_id: int):
    service_request = get_visible_or_404(ServiceRequest, request_id)
    require(service_request.can_complete(current_user))
    form = CompleteForm()
    if not form.validate_on_submit():
        return _render_staff_request(service_request, complete_form=form)
    return attempt(
        lambda: operations.complete(service_request, form.notes.data, _actor()),
        _("The request is completed; the borrower is asked to rate it."),
        url_for("services.request_detail", request_id=request_id),
    )


# Group sessions -------------------------------------------------------------------------


@bp.get("/services/sessions")
@staff_required
def sessions():
    page = db.paginate(queries.sessions(current_user), per_page=per_page())
    return render_template("services/sessions.html", page=page)


def _session_form() -> SessionForm:
    if current_user.role == Role.ADMIN:
        branches = branch_choices()
        staff = db.session.scalars(
            sa.select(User)
            .where(User.role.in_(operations.ASSIGNEE_ROLES), User.active)
            .order_by(User.branch_id, User.display_name)
        ).all()
    else:
        branches = choices([(current_user.branch_id, str(current_user.branch))])
        staff = operations.assignable_staff(current_user.branch_id)
    return SessionForm(branches=branches, staff=staff)


@bp.route("/services/sessions/new", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def new_session():
    form = _session_form()
    if form.validate_on_submit():
        session = operations.create_session(
            branch_id=int(form.branch_id.data),
            kind=db.session.get(ServiceKind, form.kind.data),
            title=form.title.data,
            held_on=form.held_on.data,
            place=form.place.data,
            trainer=form.trainer.data,
            organizer=form.organizer,
            actor=_actor(),
            partner_name=form.partner_name.data or "",
            partner_contact=form.partner_contact.data or "",
        )
        return done(
            _("The group session was created. Now add the requests it serves."),
            url_for("services.session_detail", session_id=session.id),
        )
    return render_template("services/session_form.html", form=form)


def _add_form(session: ServiceSession, formdata=None) -> AddRequestsForm:
    candidates = operations.session_candidates(session) if session.can_manage(current_user) else []
    form = AddRequestsForm(formdata=formdata)
    form.request_ids.choices = choices(
        (r.id, f"{r.borrower.full_name} · {date_text(r.submitted_at)}") for r in candidates
    )
    form.candidates = {str(r.id): r for r in candidates}
    return form


def _attendance_form(session: ServiceSession, served: list, formdata=None) -> AttendanceForm:
    form = AttendanceForm(formdata=formdata)
    form.attended.choices = choices((r.id, r.borrower.full_name) for r in served)
    if formdata is None:
        form.attended.data = [str(r.id) for r in served if r.attended]
    return form


def _render_session(session: ServiceSession, add_form=None, attendance_form=None):
    served = operations.session_requests(session)
    return render_template(
        "services/session_detail.html",
        session=session,
        served=served,
        add_form=add_form or _add_form(session),
        attendance_form=attendance_form or _attendance_form(session, served),
        can_manage=session.can_manage(current_user),
        too_early=operations.session_too_early(session),
    )


@bp.get("/services/sessions/<int:session_id>")
@staff_required
def session_detail(session_id: int):
    return _render_session(get_visible_or_404(ServiceSession, session_id))


@bp.post("/services/sessions/<int:session_id>/requests")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def add_session_requests(session_id: int):
    session = get_visible_or_404(ServiceSession, session_id)
    require(session.can_manage(current_user))
    form = _add_form(session, formdata=request.form)
    if not form.validate_on_submit():
        return _render_session(session, add_form=form)
    chosen = [form.candidates[value] for value in form.request_ids.data]
    return attempt(
        lambda: operations.add_to_session(session, chosen, _actor()),
        _("The requests were added to the session."),
        url_for("services.session_detail", session_id=session_id),
    )


@bp.post("/services/sessions/<int:session_id>/attendance")
@staff_required
@writes
def session_attendance(session_id: int):
    session = get_visible_or_404(ServiceSession, session_id)
    served = operations.session_requests(session)
    form = _attendance_form(session, served, formdata=request.form)
    if not form.validate_on_submit():
        return _render_session(session, attendance_form=form)
    attended = {int(value) for value in form.attended.data}
    return attempt(
        lambda: operations.record_attendance(session, attended),
        _("Attendance saved."),
        url_for("services.session_detail", session_id=session_id),
    )


@bp.post("/services/sessions/<int:session_id>/complete")
@staff_required
@writes
def complete_session(session_id: int):
    session = get_visible_or_404(ServiceSession, session_id)
    target = url_for("services.session_detail", session_id=session_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(target)
    return attempt(
        lambda: operations.complete_session(session, _actor()),
        _("The session is completed; its attended requests are completed too."),
        target,
    )


# Satisfaction ---------------------------------------------------------------------------


@bp.get("/services/satisfaction")
@roles_required(Role.HEAD, Role.ADMIN)
def satisfaction():
    today = local_today()
    form = PeriodForm(request.args if request.args else None)
    if not request.args:
        form.start.data, form.end.data = today - timedelta(days=89), today
    figures = None
    if not request.args or form.validate():
        branch_id = None if current_user.role == Role.ADMIN else current_user.branch_id
        figures = queries.satisfaction(branch_id, form.start.data, form.end.data)
    return render_template("services/satisfaction.html", form=form, figures=figures)


# The admin's catalogue ------------------------------------------------------------------


@bp.get("/admin/services/kinds")
@roles_required(Role.ADMIN)
def kinds():
    rows = db.session.scalars(
        sa.select(ServiceKind).order_by(ServiceKind.position, ServiceKind.code)
    )
    return render_template("services/kinds.html", kinds=rows.all())


@bp.route("/admin/services/kinds/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def new_kind():
    form = KindForm()
    if form.validate_on_submit():
        operations.save_kind(None, **_kind_values(form))
        return done(_("The kind of service was added."), url_for("services.kinds"))
    return render_template("services/kind_form.html", form=form, kind=None)


@bp.route("/admin/services/kinds/<code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def edit_kind(code: str):
    kind = or_404(db.session.get(ServiceKind, code))
    form = KindForm(obj=kind, editing=kind)
    if form.validate_on_submit():
        operations.save_kind(kind, **_kind_values(form))
        return done(_("The kind of service was saved."), url_for("services.kinds"))
    return render_template("services/kind_form.html", form=form, kind=kind)


def _kind_values(form: KindForm) -> dict:
    return {
        name: field.data
        for name, field in form._fields.items()
        if name not in ("submit", "csrf_token")
    }
