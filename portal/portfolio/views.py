"""Portfolio quality pages: a branch's for its head, the company's for the admin."""

from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import or_404, roles_required
from portal.accounts.models import Role
from portal.branches.models import Branch
from portal.core import exports
from portal.core.actions import writes
from portal.core.calendar import Month, current_month, local_today
from portal.core.forms import optional_id
from portal.core.inputs import requested_month
from portal.core.paging import paginate_list, paginate_rows
from portal.extensions import db
from portal.portfolio import quality as portfolio
from portal.visits.queries import branches

bp = Blueprint("portfolio", __name__)


def as_of(month: Month) -> date:
    """The day a month's figures are taken on: its last day, or today while it runs."""
    return min(month.last_day, local_today())


def _shown() -> tuple[Branch | None, Month]:
    """The branch shown (a head's own; the one an admin picked, or None for the company)
    and the month."""
    if current_user.role == Role.HEAD:
        branch = current_user.branch
    else:
        branch_id = optional_id(request.args.get("branch"))
        branch = or_404(db.session.get(Branch, branch_id)) if branch_id is not None else None
    return branch, requested_month()


@bp.get("/portfolio")
@roles_required(Role.HEAD, Role.ADMIN)
def page():
    branch, month = _shown()
    day = as_of(month)
    if branch is None:
        groups = portfolio.quality_by_branch(day)
        names = {b.id: b.name for b in branches()}
        late = paginate_rows(portfolio.late_loans(day), per_page=current_app.config["PER_PAGE"])
    else:
        # A branch's late loans (a few hundred at most) are read once: listed below, and
        # its PAR figures are made of them.
        rows = db.session.execute(portfolio.late_loans(day, branch.id)).all()
        groups = portfolio.quality_by_officer(day, branch.id, late=rows)
        names = portfolio.officer_names(groups)
        late = paginate_list(rows, per_page=current_app.config["PER_PAGE"])
    total = portfolio.total(groups.values(), day)
    return render_template(
        "portfolio/page.html",
        branch=branch,
        branches=branches() if current_user.role == Role.ADMIN else [],
        month=month,
        this_month=current_month(),
        as_of=day,
        total=total,
        rows=sorted(groups.items(), key=lambda item: names.get(item[0], "")),
        names=names,
        late=late,
        thresholds=portfolio.BUCKETS,
        days_overdue=portfolio.days_overdue,
    )


def _late_columns(day: date) -> list[exports.Column]:
    return [
        (_l("Borrower"), lambda row: row.full_name),
        (_l("Village"), lambda row: row.village),
        (_l("Responsible officer"), lambda row: row.officer_name),
        (_l("Contract number"), lambda row: row.contract_number),
        (_l("Oldest unpaid instalment due"), lambda row: portfolio.as_date(row.oldest)),
        (_l("Days overdue"), lambda row: portfolio.days_overdue(row, day)),
        (_l("Principal outstanding (yuan)"), lambda row: row.outstanding),
    ]


@bp.get("/portfolio/late.<any(csv, xlsx):fmt>")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def late_export(fmt: str):
    """The loans overdue on the shown day, as the page lists them."""
    branch, month = _shown()
    day = as_of(month)
    stmt = exports.limited(portfolio.late_loans(day, branch.id if branch else None))
    filters = {"branch": branch.code if branch else "", "month": str(month)}
    return exports.export_response(
        "portfolio-at-risk", _late_columns(day), db.session.execute(stmt), fmt, filters
    )
