"""The admin's audit log page."""

from flask import Blueprint, current_app, render_template, request

from portal.access import roles_required
from portal.accounts.models import Role
from portal.audit.forms import AuditSearchForm
from portal.audit.queries import search_statement
from portal.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    form = AuditSearchForm(request.args)
    form.validate()
    stmt = search_statement(form)
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"] * 2)
    return render_template("audit/index.html", form=form, page=page)
