"""Home, health check and the language switch."""

from flask import Blueprint, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from portal.accounts.models import Role
from portal.accounts.operations import set_locale
from portal.core import dashboard, diagnostics
from portal.core.actions import writes
from portal.core.forms import LanguageForm
from portal.core.navigation import safe_next
from portal.extensions import csrf, limiter

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    if current_user.role == Role.BORROWER:
        return redirect(url_for("borrowers.me"))
    # Officers and branch heads start on their visit dashboards, rendered here rather
    # than redirected to, so "/" keeps answering 200 for every logged-in member of staff.
    from portal.visits import views as visits

    if current_user.role == Role.OFFICER:
        return visits.month()
    if current_user.role == Role.HEAD:
        return visits.compliance_page()
    return render_template("core/home.html", desk=dashboard.admin_desk())


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return diagnostics.health()


@bp.post("/language")
@writes
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            set_locale(current_user, form.locale.data)
    return redirect(safe_next(form.next.data))
