"""Routes of the headline: the company's figures (admin) and a branch's (head, admin)."""

from flask import Blueprint, render_template, request
from flask_babel import format_date, get_locale
from flask_login import current_user

from portal.access import or_404, require, roles_required
from portal.accounts.models import Role
from portal.core.calendar import Month, local_today
from portal.core.forms import optional_id
from portal.headline import queries
from portal.headline.forms import PeriodForm

bp = Blueprint("headline", __name__)

# A month as its readers write it: "2026年1月", "Jan 2026".
MONTH_PATTERNS = {"zh": "y年M月", "en": "MMM y"}


def month_text(month: Month) -> str:
    """A month in the reader's language."""
    pattern = MONTH_PATTERNS.get(str(get_locale()), MONTH_PATTERNS["zh"])
    return format_date(month.first_day, pattern)


def _period_form() -> PeriodForm:
    return PeriodForm(request.args, today=local_today())


@bp.get("/headline/company")
@roles_required(Role.ADMIN)
def company():
    form = _period_form()
    headline = queries.company(form.period()) if form.validate() else None
    return render_template(
        "headline/company.html", form=form, headline=headline, month_text=month_text
    )


@bp.get("/headline/branch")
@roles_required(Role.HEAD, Role.ADMIN)
def branch():
    shown = _shown_branch()
    form = _period_form()
    period = form.period() if form.validate() else None
    return render_template(
        "headline/branch.html",
        form=form,
        branch=shown,
        branches=queries.branches() if current_user.role == Role.ADMIN else [],
        period=period,
        figures=queries.branch(period, shown.id) if period else None,
        month_text=month_text,
    )


def _shown_branch():
    """The branch asked for (404 when there is none, 403 unless the user manages it),
    else the head's own or the admin's first."""
    requested = request.args.get("branch")
    if requested:
        shown = or_404(queries.branch_by_id(optional_id(requested)))
    else:
        shown = or_404(queries.default_branch(current_user))
    require(current_user.can_manage_branch(shown.id))
    return shown
