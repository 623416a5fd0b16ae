"""The admin's audit log page."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from portal.access import roles_required
from portal.accounts.models import Role
from portal.audit.forms import AuditSearchForm
from portal.audit.queries import search_statement
from portal.borrowers.masking import holds_number, mask_numbers_in_text
from portal.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
# Borrowers log in with their mobile number: it is the actor's name of their entries.
bp.add_app_template_filter(mask_numbers_in_text)


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
    if posted:
        page = db.paginate(search_statement(form), page=_posted_page(), per_page=per_page)
    else:
        page = db.paginate(search_statement(form), per_page=per_page)
    return render_template("audit/index.html", form=form, page=page, posted=posted)


def _posted_page() -> int:
    """The page a paging button of a posted search asks for."""
    value = request.form.get("page", "")
    return int(value) if value.isdigit() and len(value) < 10 else 1
