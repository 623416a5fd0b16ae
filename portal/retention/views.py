"""Routes of the retention feature: a borrower's legal holds, placed and lifted by the
branch head or the admin (docs/privacy.md)."""

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, require, roles_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.retention import operations, queries
from portal.retention.forms import HoldForm, LiftForm
from portal.retention.models import LegalHold

bp = Blueprint("retention", __name__)


def _managed_borrower(borrower_id: int) -> Borrower:
    """The borrower, for the head of their branch or the admin: 404, then 403."""
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(current_user.can_manage_branch(borrower.branch_id))
    return borrower


def _page(borrower: Borrower, form: HoldForm):
    return render_template(
        "retention/holds.html",
        borrower=borrower,
        form=form,
        lift_form=LiftForm(),
        current=queries.hold_in_place(borrower),
        holds=queries.holds_of(borrower),
    )


@bp.route("/borrowers/<int:borrower_id>/holds", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def holds(borrower_id: int):
    borrower = _managed_borrower(borrower_id)
    form = HoldForm()
    if form.validate_on_submit():
        try:
            operations.place_hold(borrower, form.reason.data, current_actor())
        except Refused as refusal:
            refused_on(form, refusal)
            return _page(borrower, form)
        return done(
            _(
                "The legal hold is in place: nothing of this borrower is deleted until it is lifted."
            ),
            url_for("retention.holds", borrower_id=borrower.id),
        )
    return _page(borrower, form)


@bp.post("/holds/<int:hold_id>/lift")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def lift(hold_id: int):
    hold = get_visible_or_404(LegalHold, hold_id)
    require(current_user.can_manage_branch(hold.borrower.branch_id))
    target = url_for("retention.holds", borrower_id=hold.borrower_id)
    # CSRFProtect checked the token; the form has no fields.
    return attempt(
        lambda: operations.lift_hold(hold, current_actor()), _("The legal hold was lifted."), target
    )
