"""Routes of the evidence feature.

The borrower's site (pin, confirm, decline) comes first; the head's "visits to check"
follow below.
"""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required
from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core import exports
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.core.calendar import current_month, month_of
from portal.core.inputs import requested_month
from portal.core.paging import paginate_rows, per_page
from portal.evidence import operations, queries, rules, sites
from portal.evidence.forms import AnswerForm, PinSiteForm, ReviewForm
from portal.evidence.models import ReviewAction, SiteSource
from portal.evidence.plot import distance_plot
from portal.extensions import db
from portal.visits.models import Visit

bp = Blueprint("evidence", __name__)


# --- The borrower's site: pinned by the officer, confirmed by the head ---------------------


def _site_page(borrower: Borrower, pin_form: PinSiteForm | None = None):
    row = sites.stored(borrower.id)
    site = sites.site_in_force(borrower.id)
    fixes = sites.recent_fixes(borrower.id)
    can_pin = operations.can_pin(borrower, current_user) and (
        row is None or row.source != SiteSource.PINNED
    )
    return render_template(
        "evidence/site.html",
        borrower=borrower,
        row=row,
        site=site,
        waiting=sites.is_waiting(row),
        pinned_by=db.session.get(User, row.pinned_by_id) if row and row.pinned_by_id else None,
        confirmed_by=(
            db.session.get(User, row.confirmed_by_id) if row and row.confirmed_by_id else None
        ),
        fixes=[(fix, sites.distance_from_site(fix, site)) for fix in fixes],
        pin_form=(pin_form or _pin_form(borrower, fixes)) if can_pin else None,
        can_confirm=operations.can_confirm(borrower, current_user),
        rules=rules,
    )


def _pin_form(borrower: Borrower, fixes=None) -> PinSiteForm:
    fixes = sites.recent_fixes(borrower.id) if fixes is None else fixes
    return PinSiteForm([fix for fix in fixes if rules.is_good_fix(fix.accuracy_m)])


@bp.get("/borrowers/<int:borrower_id>/site")
@roles_required(Role.ADMIN, Role.HEAD, Role.OFFICER)
def site(borrower_id: int):
    return _site_page(get_visible_or_404(Borrower, borrower_id))


@bp.post("/borrowers/<int:borrower_id>/site/pin")
@roles_required(Role.OFFICER, Role.HEAD)
@writes
def pin_site(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    form = _pin_form(borrower)
    if form.validate_on_submit():
        fix = form.chosen_fix()
        latitude, longitude, accuracy = (
            (fix.latitude, fix.longitude, fix.accuracy_m) if fix else form.position()
        )
        visit = db.session.get(Visit, fix.visit_id) if fix else None
        try:
            operations.pin_site(borrower, current_actor(), latitude, longitude, accuracy, visit)
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(
                _("The site was pinned. It takes effect when the branch head confirms it."),
                url_for("evidence.site", borrower_id=borrower.id),
            )
    return _site_page(borrower, form)


@bp.post("/borrowers/<int:borrower_id>/site/confirm")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def confirm_site(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(operations.can_confirm(borrower, current_user))
    return attempt(
        lambda: operations.confirm_site(borrower, current_actor()),
        _("The pinned site was confirmed: visits are now measured from it."),
        url_for("evidence.site", borrower_id=borrower.id),
    )


@bp.post("/borrowers/<int:borrower_id>/site/remove-pin")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def remove_pin(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(operations.can_confirm(borrower, current_user))
    return attempt(
        lambda: operations.remove_pin(borrower, current_actor()),
        _("The pin was removed: the site established by the visits applies, if there is one."),
        url_for("evidence.site", borrower_id=borrower.id),
    )


# --- The head's "visits to check", the check of one visit, the officer's answers ---------


def _to_check_shown():
    """The list's branch (403 when none may be shown), month and review state shown."""
    branch = queries.check_branch(current_user, request.args.get("branch"))
    require(branch is not None)
    show = request.args.get("show", "open")
    return branch, requested_month(), show if show in queries.SHOW_CHOICES else "open"


@bp.get("/evidence/to-check")
@roles_required(Role.HEAD, Role.ADMIN)
def to_check():
    branch, shown, show = _to_check_shown()
    page = paginate_rows(queries.to_check(branch.id, shown, show), per_page=per_page())
    return render_template(
        "evidence/to_check.html",
        branch=branch,
        branches=queries.branches() if current_user.role == Role.ADMIN else [],
        shown=shown,
        this_month=current_month(),
        show=show,
        page=page,
        items=queries.page_of(page.items),
    )


STATE_LABELS = {
    None: _l("To check"),
    ReviewAction.ASKED: _l("Officer asked"),
    ReviewAction.ANSWERED: _l("Officer answered"),
    ReviewAction.CONFIRMED: _l("Confirmed genuine"),
}
TO_CHECK_COLUMNS: list[exports.Column] = [
    (_l("Status"), lambda item: STATE_LABELS[item.state]),
    (_l("Borrower"), lambda item: item.visit.borrower_name),
    (_l("Village"), lambda item: item.visit.village),
    (_l("Loan officer"), lambda item: item.visit.officer_name),
    (_l("Visit date"), lambda item: item.visit.visited_at),
    (_l("Reason"), lambda item: " ".join(reason.text for reason in item.reasons)),
    (_l("Last action on"), lambda item: item.review.reviewed_at if item.review else None),
    (_l("Last action by"), lambda item: item.review.reviewer_name if item.review else ""),
    (_l("Note"), lambda item: item.review.note if item.review else ""),
]
# Flagged visits read with their reasons and checks this many at a time.
EXPORT_BATCH = 500


def _every_flagged(stmt):
    """What the list shows for every row of ``stmt``, read a batch at a time."""
    rows = db.session.execute(exports.limited(stmt)).all()
    for start in range(0, len(rows), EXPORT_BATCH):
        yield from queries.page_of(rows[start : start + EXPORT_BATCH])


@bp.get("/evidence/to-check/export.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def to_check_export(fmt: str):
    """Every flagged visit the list shows for its branch, month and state, as it shows them."""
    branch, shown, show = _to_check_shown()
    rows = _every_flagged(queries.to_check(branch.id, shown, show))
    filters = {"branch": branch.code, "month": str(shown), "show": show}
    return exports.export_response("visits-to-check", TO_CHECK_COLUMNS, rows, fmt, filters)


def _list_of(visit: Visit) -> str:
    """The "visits to check" list the visit belongs to (its month; its branch for admins)."""
    branch = {"branch": visit.branch_id} if current_user.role == Role.ADMIN else {}
    return url_for("evidence.to_check", month=str(month_of(visit.visited_at)), **branch)


def _check_page(visit: Visit, review_form=None, answer_form=None):
    check = or_404(queries.visit_check(visit, current_user))
    fix = (visit.latitude, visit.longitude) if visit.latitude is not None else None
    site = (check.site.latitude, check.site.longitude) if check.site else None
    state = check.flagged.state
    return render_template(
        "evidence/check.html",
        visit=visit,
        check=check,
        plot=distance_plot(site, fix, visit.accuracy_m, check.earlier_fixes),
        can_review=current_user.can_manage_branch(visit.branch_id),
        can_answer=current_user.role == Role.OFFICER and state == ReviewAction.ASKED,
        review_form=review_form or ReviewForm(),
        answer_form=answer_form or AnswerForm(),
        distance_text=rules.distance_text,
        site_label=lambda source: str(rules.SITE_LABELS.get(source, source)),
        back=_list_of(visit),
    )


@bp.get("/evidence/visits/<int:visit_id>")
@roles_required(Role.HEAD, Role.ADMIN, Role.OFFICER)
def check(visit_id: int):
    return _check_page(get_visible_or_404(Visit, visit_id))


@bp.post("/evidence/visits/<int:visit_id>/review")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def review(visit_id: int):
    visit = get_visible_or_404(Visit, visit_id)
    require(current_user.can_manage_branch(visit.branch_id))
    or_404(queries.flags_of(visit) or None)
    form = ReviewForm()
    if form.validate_on_submit():
        action = ReviewAction(form.action.data)
        try:
            operations.review_visit(visit, action, form.note.data, current_actor())
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            message = (
                _("The visit was confirmed genuine.")
                if action == ReviewAction.CONFIRMED
                else _("The officer was asked; the visit waits for the answer.")
            )
            return done(message, _list_of(visit))
    return _check_page(visit, review_form=form)


@bp.post("/evidence/visits/<int:visit_id>/answer")
@roles_required(Role.OFFICER)
@writes
def answer(visit_id: int):
    visit = get_visible_or_404(Visit, visit_id)
    or_404(queries.flags_of(visit) or None)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            operations.answer_question(visit, form.note.data, current_actor())
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(
                _("Your answer was sent to the branch head."), url_for("evidence.questions")
            )
    return _check_page(visit, answer_form=form)


@bp.get("/evidence/questions")
@roles_required(Role.OFFICER)
def questions():
    page = paginate_rows(queries.questions(current_user), per_page=per_page())
    return render_template(
        "evidence/questions.html",
        page=page,
        items=queries.flagged_visits([row.id for row in page.items]),
    )
