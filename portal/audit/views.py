"""The admin's audit log page."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from portal.access import roles_required
from portal.accounts.models import Role
from portal.audit.forms import AuditSearchForm
from portal.audit.queries import search_statement
from portal.borrowers.masking import holds_number
from portal.core.paging import paginate

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
# Borrowers log in with their mobile number: it is the actor's name of their entries.


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index():
    form = AuditSearchForm(request.values)
    form.validate()
    posted = request.method == "POST"
    # A borrower's login is their mobile number, which no URL may carry: a search for
    # one is answered to the POST; any other posted search goes to its GET address.
    if holds_number(form.actor.data) != posted:
        return redirect(url_for("audit.index", **form.args()))
    per_page = current_app.config["PER_PAGE"] * 2
    page = paginate(search_statement(form), per_page)
    return render_template("audit/index.html", form=form, page=page, posted=posted)
