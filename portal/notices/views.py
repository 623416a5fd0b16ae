"""Pages of notices: how a borrower wants to hear of things (their own page, and the
same choice recorded by the staff who look after them). The notices themselves are
listed in the services menu (``services.notices``)."""

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role
from portal.borrowers.models import Borrower
from portal.borrowers.queries import own_profile
from portal.core.actions import current_actor, done, writes
from portal.notices import channels, operations
from portal.notices.forms import ChannelsForm

bp = Blueprint("notices", __name__)


def _channels_page(borrower: Borrower, target: str, own: bool):
    current = channels.choices_of(borrower.id)
    form = ChannelsForm(data=ChannelsForm.data_of(current))
    if form.validate_on_submit():
        operations.save_choices(borrower.id, form.wanted(), current_actor())
        return done(_("Your choices are saved.") if own else _("The choices are saved."), target)
    return render_template(
        "notices/channels.html",
        form=form,
        borrower=borrower,
        own=own,
        topics=channels.TOPICS,
        labels=channels.TOPIC_LABELS,
        optional=channels.OPTIONAL,
        has_account=borrower.user_id is not None,
    )


@bp.route("/me/notices/channels", methods=["GET", "POST"])
@roles_required(Role.BORROWER)
@writes
def my_channels():
    borrower = or_404(own_profile(current_user))
    return _channels_page(borrower, url_for("notices.my_channels"), own=True)


@bp.route("/borrowers/<int:borrower_id>/notice-channels", methods=["GET", "POST"])
@staff_required
@writes
def borrower_channels(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(borrower.can_manage(current_user))
    target = url_for("notices.borrower_channels", borrower_id=borrower.id)
    return _channels_page(borrower, target, own=False)
