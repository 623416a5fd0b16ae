"""Pages of reminders: a member of staff's reminders and their SMS choice."""

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import staff_required
from portal.core.actions import current_actor, done, writes
from portal.core.forms import ConfirmForm
from portal.core.paging import per_page
from portal.extensions import db
from portal.reminders import operations, queries, texts
from portal.reminders.forms import StaffSmsForm

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.get("/")
@staff_required
def index():
    page = db.paginate(queries.notices_of(current_user.id), per_page=per_page())
    return render_template(
        "reminders/index.html",
        page=page,
        shown=[(n, texts.text(n.kind, n.params), queries.link_of(n)) for n in page.items],
        sms=queries.sms_choice(current_user.id),
    )


@bp.post("/read")
@staff_required
@writes
def mark_read():
    if ConfirmForm().validate_on_submit():
        operations.mark_all_read(current_actor())
    return redirect(url_for("reminders.index"))


@bp.route("/sms", methods=["GET", "POST"])
@staff_required
@writes
def sms():
    saved = queries.sms_choice(current_user.id)
    form = StaffSmsForm(obj=saved)
    if form.validate_on_submit():
        operations.save_sms(current_actor(), form.mobile.data or "", form.opted_in.data)
        message = (
            _("Your reminders will also be texted to you.")
            if form.opted_in.data
            else _("Your reminders stay in the portal; none are texted.")
        )
        return done(message, url_for("reminders.index"))
    return render_template("reminders/sms.html", form=form)
