"""The admin's branch pages."""

import sqlalchemy as sa
from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

from portal.access import or_404, roles_required
from portal.accounts.models import Role
from portal.branches.forms import BranchForm
from portal.branches.models import Branch
from portal.branches.operations import EDITABLE, create_branch, update_branch
from portal.core.actions import done, writes
from portal.extensions import db

bp = Blueprint("branches", __name__, url_prefix="/admin/branches")


def _form_values(form: BranchForm) -> dict:
    return {key: getattr(form, key).data or "" for key in EDITABLE} | {"active": form.active.data}


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    branches = db.session.scalars(sa.select(Branch).order_by(Branch.code)).all()
    return render_template("branches/index.html", branches=branches)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def create():
    form = BranchForm()
    if form.validate_on_submit():
        branch = create_branch(**_form_values(form))
        return done(_("Branch %(code)s created.", code=branch.code), url_for("branches.index"))
    return render_template("branches/form.html", form=form, branch=None)


@bp.route("/<int:branch_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def edit(branch_id: int):
    branch = or_404(db.session.get(Branch, branch_id))
    form = BranchForm(obj=branch, editing=branch)
    if form.validate_on_submit():
        update_branch(branch, **_form_values(form))
        return done(_("Branch %(code)s saved.", code=branch.code), url_for("branches.index"))
    return render_template("branches/form.html", form=form, branch=branch)
