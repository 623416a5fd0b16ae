"""Tier pages: the list with suggestions, a borrower's tier, the yearly and half-yearly reviews."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role
from portal.borrowers.models import TIER_LABELS, Borrower, Tier
from portal.branches.forms import branch_choices
from portal.branches.models import Branch
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.core.calendar import local_today
from portal.core.forms import optional_id
from portal.core.navigation import safe_next
from portal.extensions import db
from portal.tiers import operations, queries
from portal.tiers.forms import BulkConfirmForm, TierDecisionForm, TierFilterForm
from portal.tiers.models import DECISION_LABELS

bp = Blueprint("tiers", __name__, url_prefix="/tiers")
# The review kinds as a URL part: anything else is not a page (404).
REVIEW = "/review/<any(yearly, 'half-yearly'):kind>"


def _decision_form(borrower_id: int, suggested: Tier, **kwargs) -> TierDecisionForm:
    # A prefix per borrower keeps field ids unique on the review page's many forms.
    return TierDecisionForm(
        prefix=f"b{borrower_id}", suggested=suggested, periods=_open_periods(), **kwargs
    )


def _open_periods() -> tuple[str, ...]:
    today = local_today()
    return ("", *(queries.period_for(kind, today) for kind in queries.REVIEW_KINDS))


@bp.get("/")
@staff_required
def index():
    form = TierFilterForm(request.args)
    form.branch.choices = branch_choices(_("All branches"), with_closed=True)
    branch_id = optional_id(form.branch.data)
    stmt = queries.list_statement(current_user, form.tier_value, branch_id)
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    suggested = queries.suggestions([b.id for b in page.items], local_today())
    return render_template(
        "tiers/index.html", page=page, form=form, suggested=suggested, labels=TIER_LABELS
    )


def _borrower_page(borrower: Borrower, form: TierDecisionForm | None, suggestion, status=200):
    return render_template(
        "tiers/borrower.html",
        borrower=borrower,
        suggestion=suggestion,
        history=queries.history(borrower.id),
        form=form,
        labels=TIER_LABELS,
        decisions=DECISION_LABELS,
    ), status


def _suggestion(borrower: Borrower):
    return queries.suggestions([borrower.id], local_today())[borrower.id]


@bp.get("/borrowers/<int:borrower_id>")
@staff_required
def borrower(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    suggestion = _suggestion(borrower)
    form = None
    if current_user.can_manage_branch(borrower.branch_id):
        form = _decision_form(borrower.id, suggestion.tier)
    return _borrower_page(borrower, form, suggestion)


@bp.post("/borrowers/<int:borrower_id>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def decide(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(current_user.can_manage_branch(borrower.branch_id))
    suggestion = _suggestion(borrower)
    form = _decision_form(borrower.id, suggestion.tier)
    if not form.validate_on_submit():
        for error in form.period.errors:
            flash(error, "danger")
        return _borrower_page(borrower, form, suggestion)
    try:
        operations.decide_tier(
            borrower,
            Tier(form.tier.data),
            suggested=suggestion.tier,
            reason=form.reason.data or "",
            period=form.period.data or "",
            decided_by=current_actor(),
        )
    except Refused as refusal:
        refused_on(form, refusal)
        return _borrower_page(borrower, form, suggestion)
    return done(
        _("%(name)s is now a %(tier)s client.", name=borrower.full_name,
          tier=TIER_LABELS[borrower.tier]),
        safe_next(form.next.data) if form.next.data else request.path,
    )  # fmt: skip


def _review_branch() -> Branch:
    if current_user.role == Role.HEAD:
        return or_404(db.session.get(Branch, current_user.branch_id))
    wanted = request.args.get("branch", "")
    stmt = sa.select(Branch).order_by(Branch.code)
    if optional_id(wanted):
        stmt = stmt.where(Branch.id == optional_id(wanted))
    return or_404(db.session.scalars(stmt).first())


@bp.get(REVIEW)
@roles_required(Role.HEAD, Role.ADMIN)
def review(kind: str):
    today, branch = local_today(), _review_branch()
    period = queries.period_for(kind, today)
    page = queries.review_page(
        current_user, branch.id, period, today, current_app.config["PER_PAGE"]
    )
    bulk = BulkConfirmForm(formdata=None, next=request.full_path)
    return render_template(
        "tiers/review.html", kind=kind, period=period, branch=branch, page=page,
        bulk=bulk, labels=TIER_LABELS, branches=branch_choices(with_closed=True),
    )  # fmt: skip


def _picked_borrowers(picked: dict[int, Tier]) -> list[Borrower]:
    """The picked borrowers: 404 unless every one is visible, 403 unless the user manages each."""
    borrowers = db.session.scalars(
        sa.select(Borrower)
        .where(Borrower.id.in_(list(picked)), Borrower.visible_filter(current_user))
        .order_by(Borrower.id)
    ).all()
    or_404(borrowers if len(borrowers) == len(picked) else None)
    for borrower in borrowers:
        require(current_user.can_manage_branch(borrower.branch_id))
    return list(borrowers)


@bp.post(REVIEW + "/confirm")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def confirm_many(kind: str):
    form = BulkConfirmForm()
    back = safe_next(form.next.data) if form.next.data else url_for("tiers.review", kind=kind)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(back)
    borrowers = _picked_borrowers(form.picked)
    today = local_today()
    confirmed = ngettext(
        "%(num)d suggestion confirmed.", "%(num)d suggestions confirmed.", len(borrowers)
    )
    return attempt(
        lambda: operations.confirm_suggestions(
            borrowers,
            shown=form.picked,
            suggested=queries.suggestions([b.id for b in borrowers], today),
            note=form.note.data or "",
            period=queries.period_for(kind, today),
            decided_by=current_actor(),
        ),
        confirmed,
        back,
    )
