"""Routes of the visits feature: the form, the signed record, the monthly rule, warnings."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.core import exports
from portal.core.actions import Refused, attempt, done, refused_on, writes
from portal.core.calendar import company_tz, current_month, local_today
from portal.core.inputs import requested_month
from portal.core.once import save_once
from portal.core.paging import paginate_rows
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit import queries as fieldkit_queries
from portal.loans.models import RepaymentStatus
from portal.visits import capture, chain, compliance, operations, queries, questions, signing
from portal.visits import photos as visit_photos
from portal.visits.forms import AcknowledgeForm, VisitForm, consented_purposes, prefill_from
from portal.visits.models import RepaymentState, Visit, VisitSignature
from portal.visits.risk import LEVEL_LABELS, RiskLevel, visit_risk_reason

bp = Blueprint("visits", __name__)

# The forms that carry photos take six camera photos (portal/visits/photos.py), more
# than the app's usual request limit. Set in a URL value preprocessor because Flask runs
# those before any before_request function, and CSRFProtect reads the form in one.
PHOTO_FORMS = frozenset({"visits.new", "visits.amend"})


@bp.url_value_preprocessor
def _photo_form_limits(endpoint, values):
    if endpoint in PHOTO_FORMS:
        config = current_app.config
        request.max_content_length = max(
            config["MAX_CONTENT_LENGTH"] or 0, visit_photos.MAX_FORM_BYTES
        )
        request.max_form_memory_size = max(
            config.get("MAX_FORM_MEMORY_SIZE") or 0, visit_photos.MAX_FIELD_BYTES
        )


EVERY_ROLE = (Role.ADMIN, Role.HEAD, Role.OFFICER, Role.BORROWER)
# The page after a saved visit tells draft.js to forget the form's draft.
DRAFT_CLEAR = "visits_draft_clear"


def _saved(visit: Visit, draft_key: str, message: str):
    session[DRAFT_CLEAR] = draft_key
    return done(message, url_for("visits.detail", visit_id=visit.id))


def _save_once(form: VisitForm, draft_key: str, sign):
    """Run ``sign`` once per form token: a repeated submit finds the first record.

    Returns the redirect, or None when the operation refused (the message is on the form,
    beside the field it concerns, and the attempt is rolled back).
    """
    try:
        visit, stored = save_once(form.idempotency_token.data, operations.visit_by_token, sign)
    except Refused as refusal:
        refused_on(form, refusal)
        return None
    if not stored:
        return _saved(visit, draft_key, _("This visit was already saved."))
    return _saved(visit, draft_key, _("The visit was signed and saved."))


def _render_form(form: VisitForm, borrower, loan, draft_key: str, original=None):
    form.idempotency_token.issue()
    if not form.opened_token.data:  # the first opening counts: a re-shown form keeps its own
        form.opened_token.data = capture.issue_opened_token(form.opened_for)
    if form.signature.errors:
        form.signature.data = ""  # never redraw a refused signature as if it were valid
    return render_template(
        "visits/form.html",
        form=form,
        borrower=borrower,
        loan=loan,
        original=original,
        draft_key=draft_key,
        sections=questions.sections(),
    )


@bp.route("/borrowers/<int:borrower_id>/visits/new", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.HEAD)
@writes
def new(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    loan = operations.active_loan(borrower)
    if loan is None:
        flash(
            _("%(name)s has no active loan: a follow-up visit needs one.", name=borrower), "warning"
        )
        return redirect(url_for("visits.borrower_visits", borrower_id=borrower.id))
    draft_key = f"visit-new-borrower-{borrower.id}"
    form = VisitForm(
        opened_for=capture.opened_subject(current_user.id, draft_key),
        consented=consented_purposes(borrower.id),
    )
    if form.validate_on_submit():
        saved = _save_once(
            form,
            draft_key,
            lambda: operations.sign_visit(
                borrower,
                loan,
                current_user,
                form.answers(),
                form.signature_png,
                form.idempotency_token.data,
                evidence=form.evidence(),
            ),
        )
        if saved:
            return saved
    if request.method == "GET":
        _fill_defaults(form, borrower, loan)
    return _render_form(form, borrower, loan, draft_key)


def _fill_defaults(form: VisitForm, borrower, loan) -> None:
    now = utcnow().astimezone(company_tz()).replace(second=0, microsecond=0)
    form.visited_at.data = now
    form.place.data = f"{borrower.address} {borrower.village}".strip()
    form.repayment_status.data = str(_repayment_state(loan))


def _repayment_state(loan) -> RepaymentState:
    """What the officer will most likely find: from the schedule where the loan has one."""
    if not loan.instalments:
        overdue = loan.repayment_status == RepaymentStatus.OVERDUE
        return RepaymentState.OVERDUE if overdue else RepaymentState.ON_TIME
    now = loan.standing(local_today())
    if now.overdue_days:
        return RepaymentState.OVERDUE
    fallen_due = any(p.due.due_on <= now.as_of for p in now.instalments)
    return RepaymentState.ON_TIME if fallen_due else RepaymentState.NOT_YET_DUE


@bp.route("/visits/<int:visit_id>/amend", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.HEAD)
@writes
def amend(visit_id: int):
    original = get_visible_or_404(Visit, visit_id)
    newest = queries.newest_version_id(original)
    if newest != original.id:  # a record is corrected from its newest version only
        return done(
            _("This visit was corrected already; this is its newest version to amend."),
            url_for("visits.amend", visit_id=newest),
            "warning",
        )
    prefill = None if request.method == "POST" else prefill_from(original)
    draft_key = f"visit-amend-{original.id}"
    form = VisitForm(
        data=prefill,
        original=original,
        opened_for=capture.opened_subject(current_user.id, draft_key),
        consented=consented_purposes(original.borrower_id),
    )
    if form.validate_on_submit():
        saved = _save_once(
            form,
            draft_key,
            lambda: operations.amend_visit(
                original,
                current_user,
                form.answers(),
                form.signature_png,
                form.idempotency_token.data,
                evidence=form.evidence(),
            ),
        )
        if saved:
            return saved
    return _render_form(form, original.borrower, original.loan, draft_key, original=original)


def _detail_page(visit: Visit, acknowledge_form: AcknowledgeForm | None = None):
    warning = queries.warning_of(visit.id)
    if warning is not None and not warning.visible_to(current_user):
        warning = None  # officers and borrowers do not see the head's queue
    newest = queries.newest_version_id(visit)
    return render_template(
        "visits/detail.html",
        visit=visit,
        original=visit.amends,
        amendments=queries.amendments_of(visit),
        newest=None if newest == visit.id else newest,
        warning=warning,
        verified=operations.verify(visit),
        # Only the newest version is amended: a correction starts from what stands.
        can_amend=newest == visit.id and visit.can_amend(current_user),
        acknowledge_form=acknowledge_form or AcknowledgeForm(),
        sections=questions.sections(internal=current_user.can_see_internal_assessments),
        draft_clear_key=session.pop(DRAFT_CLEAR, None),
        genesis=signing.GENESIS,
        location_statuses=capture.NO_FIX_LABELS,
    )


@bp.get("/visits/<int:visit_id>")
@roles_required(*EVERY_ROLE)
def detail(visit_id: int):
    return _detail_page(get_visible_or_404(Visit, visit_id))


@bp.get("/visits/<int:visit_id>/signature.png")
@roles_required(*EVERY_ROLE)
def signature(visit_id: int):
    visit = get_visible_or_404(Visit, visit_id)
    stored = or_404(db.session.get(VisitSignature, visit.id))
    response = make_response(stored.png)
    response.mimetype = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/visits/<int:visit_id>/photos/<int:position>.jpg", defaults={"size": "full"})
@bp.get("/visits/<int:visit_id>/photos/<int:position>/<any(full, thumb):size>.jpg")
@roles_required(*EVERY_ROLE)
def photo(visit_id: int, position: int, size: str):
    """One photo of a visit (or its thumbnail), for whoever may see the visit."""
    visit = get_visible_or_404(Visit, visit_id)
    jpeg = or_404(visit_photos.image_of(visit.id, position, thumb=size == "thumb"))
    response = make_response(jpeg)
    response.mimetype = "image/jpeg"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/visits/<int:visit_id>/acknowledge")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def acknowledge(visit_id: int):
    visit = get_visible_or_404(Visit, visit_id)
    warning = or_404(queries.warning_of(visit.id))
    require(warning.visible_to(current_user))
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _detail_page(visit, form)
    return attempt(
        lambda: operations.acknowledge_warning(warning, current_user, form.action_taken.data),
        _("The warning was acknowledged."),
        url_for("visits.warnings"),
    )


def _open_only() -> bool:
    """The warnings list's filter: the open warnings (the default) or all of them."""
    return request.args.get("show", "open") == "open"


@bp.get("/visits/warnings")
@roles_required(Role.HEAD, Role.ADMIN)
def warnings():
    open_only = _open_only()
    page = db.paginate(
        queries.warnings_list(current_user, open_only), per_page=current_app.config["PER_PAGE"]
    )
    return render_template("visits/warnings.html", page=page, open_only=open_only)


def _escalation(warning) -> str:
    """Whom an open warning was escalated to, as the queue says it."""
    if not warning.is_open or warning.act_by is None:
        return ""
    if warning.admin_alerted_at:
        return _("Escalated to the admin")
    return _("Escalated to the branch head") if warning.head_alerted_at else ""


def _handled_by(warning) -> str:
    return warning.acknowledged_by.display_name if warning.acknowledged_by else ""


WARNING_COLUMNS: list[exports.Column] = [
    (_l("Risk level"), lambda w: LEVEL_LABELS[w.visit.risk_level]),
    (_l("Borrower"), lambda w: w.visit.borrower.full_name),
    (_l("Visit date"), lambda w: w.visit.visited_at),
    (_l("Loan officer"), lambda w: w.visit.officer.display_name),
    (_l("Reason"), lambda w: visit_risk_reason(w.visit)),
    (_l("Status"), lambda w: _("Open") if w.is_open else _("Acknowledged")),
    (_l("Act by"), lambda w: w.last_day_to_act if w.is_open else None),
    (lazy_pgettext("deadline", "Overdue"), lambda w: _("Yes") if w.is_late() else ""),
    (_l("Escalation"), _escalation),
    (_l("Acknowledged on"), lambda w: w.acknowledged_at),
    (_l("Handled by"), _handled_by),
    (_l("Action taken"), lambda w: w.action_taken),
]


@bp.get("/visits/warnings/export.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def warnings_export(fmt: str):
    """Every red warning the queue lists for its filter, as it lists them."""
    open_only = _open_only()
    stmt = exports.limited(queries.warnings_list(current_user, open_only))
    filters = {"show": "open" if open_only else "all"}
    return exports.export_response(
        "red-warnings", WARNING_COLUMNS, db.session.scalars(stmt), fmt, filters
    )


@bp.get("/visits/month")
@roles_required(Role.OFFICER)
def month():
    summary = compliance.officer_month(current_user.id)
    return render_template("visits/month.html", summary=summary, levels=LEVEL_LABELS)


@bp.get("/visits/compliance")
@roles_required(Role.HEAD, Role.ADMIN)
def compliance_page():
    branch, shown = _compliance_shown()
    trend = compliance.branch_trend(branch.id, shown)
    missed = paginate_rows(
        compliance.missed_borrowers(branch.id, shown), per_page=current_app.config["PER_PAGE"]
    )
    return render_template(
        "visits/compliance.html",
        branch=branch,
        branches=queries.branches() if current_user.role == Role.ADMIN else [],
        shown=shown,
        this_month=current_month(),
        trend=trend,
        officers=compliance.officer_trends(trend),
        missed=missed,
        levels=LEVEL_LABELS,
        red=RiskLevel.RED,
        planned_vs_done=fieldkit_queries.planned_vs_done(branch.id, shown),
        evidence=compliance.evidence_by_officer(branch.id, shown),
    )


def _compliance_shown():
    """The compliance page's branch (403 when none may be shown) and month."""
    branch = queries.compliance_branch(current_user, request.args.get("branch"))
    require(branch is not None)
    return branch, requested_month()


OFFICER_COLUMNS: list[exports.Column] = [
    (_l("Loan officer"), lambda o: o.name),
    (_l("Borrowers owing a visit"), lambda o: o.owed),
    (_l("Visited"), lambda o: o.done),
    (_l("Compliance (%)"), lambda o: o.percent),
]
MISSED_COLUMNS: list[exports.Column] = [
    (_l("Borrower"), lambda row: row.full_name),
    (_l("Village"), lambda row: row.village),
    (_l("Responsible officer"), lambda row: row.officer_name),
    (_l("Latest risk"), lambda row: LEVEL_LABELS[row.risk] if row.risk else ""),
    (_l("Last visit"), lambda row: row.last_visit),
]


@bp.get("/visits/compliance/officers.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def compliance_officers_export(fmt: str):
    """The selected month's compliance per loan officer, as the page's table shows it."""
    branch, shown = _compliance_shown()
    officers = compliance.branch_trend(branch.id, shown, months=1)[-1].officers
    filters = {"branch": branch.code, "month": str(shown)}
    return exports.export_response("visit-compliance", OFFICER_COLUMNS, officers, fmt, filters)


@bp.get("/visits/compliance/missed.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def compliance_missed_export(fmt: str):
    """Every borrower the selected month missed, as the page lists them."""
    branch, shown = _compliance_shown()
    rows = db.session.execute(exports.limited(compliance.missed_borrowers(branch.id, shown)))
    filters = {"branch": branch.code, "month": str(shown)}
    return exports.export_response("missed-visits", MISSED_COLUMNS, rows, fmt, filters)


@bp.get("/borrowers/<int:borrower_id>/visits")
@roles_required(*EVERY_ROLE)
def borrower_visits(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    return _borrower_visit_list(borrower)


@bp.get("/borrowers/<int:borrower_id>/visits/chain")
@roles_required(Role.OFFICER, Role.HEAD, Role.ADMIN)
def chain_page(borrower_id: int):
    """The borrower's signed records verified as one chain (docs/visit-evidence.md)."""
    borrower = get_visible_or_404(Borrower, borrower_id)
    return render_template(
        "visits/chain.html", borrower=borrower, check=chain.verify_chain(borrower.id)
    )


@bp.get("/me/visits")
@roles_required(Role.BORROWER)
def mine():
    borrower = or_404(queries.borrower_of(current_user))
    return _borrower_visit_list(borrower)


def _borrower_visit_list(borrower: Borrower):
    page = db.paginate(queries.visits_of(borrower.id), per_page=current_app.config["PER_PAGE"])
    can_visit = borrower.can_manage(current_user) and current_user.role != Role.ADMIN
    return render_template(
        "visits/borrower_visits.html",
        borrower=borrower,
        page=page,
        can_visit=can_visit,
        levels=LEVEL_LABELS,
    )
