"""Routes of the training feature: the admin's material pages and the borrower's sign-off."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required
from portal.accounts.models import Role
from portal.core.actions import Refused, attempt, done, refused_on, writes
from portal.core.forms import ConfirmForm
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan
from portal.training import operations, queries
from portal.training.forms import MaterialForm, material_form_data, signoff_form
from portal.training.models import TrainingMaterial, TrainingSignoff

bp = Blueprint("training", __name__)


# --- the admin's material ---------------------------------------------------------


@bp.get("/admin/training/")
@roles_required(Role.ADMIN)
def materials():
    return render_template(
        "training/materials.html",
        materials=queries.all_materials(),
        current=queries.current_material(),
    )


@bp.route("/admin/training/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def new_material():
    draft = queries.draft_material()
    if draft is not None:
        flash(_("A draft version exists already: finish or publish it first."), "info")
        return redirect(url_for("training.edit_material", material_id=draft.id))
    form = _material_form_from(queries.current_material())
    if form.validate_on_submit():
        material = operations.create_material(current_user, **form.content())
        return _draft_saved(material)
    return _material_form(form, None)


def _material_form_from(source: TrainingMaterial | None) -> MaterialForm:
    """The form, filled from ``source`` when first shown, with empty slots to add to."""
    if request.method != "GET":
        return MaterialForm()
    form = MaterialForm(data=material_form_data(source) if source else None)
    form.add_blank_entries()
    return form


def _material_form(form: MaterialForm, material: TrainingMaterial | None):
    return render_template("training/material_form.html", form=form, material=material)


def _draft_saved(material: TrainingMaterial):
    return done(
        _("Draft version %(version)s saved.", version=material.version),
        url_for("training.material", material_id=material.id),
    )


@bp.get("/admin/training/<int:material_id>")
@roles_required(Role.ADMIN)
def material(material_id: int):
    material = or_404(db.session.get(TrainingMaterial, material_id))
    current = queries.current_material()
    return render_template(
        "training/material.html",
        material=material,
        is_current=current is not None and current.id == material.id,
        confirm_form=ConfirmForm(),
    )


@bp.route("/admin/training/<int:material_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def edit_material(material_id: int):
    material = or_404(db.session.get(TrainingMaterial, material_id))
    if material.is_published:
        flash(_("A published version cannot be changed; create a new version."), "warning")
        return redirect(url_for("training.material", material_id=material.id))
    form = _material_form_from(material)
    if form.validate_on_submit():
        operations.update_material(material, current_user, **form.content())
        return _draft_saved(material)
    return _material_form(form, material)


@bp.post("/admin/training/<int:material_id>/publish")
@roles_required(Role.ADMIN)
@writes
def publish_material(material_id: int):
    material = or_404(db.session.get(TrainingMaterial, material_id))
    back = url_for("training.material", material_id=material.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    return attempt(
        lambda: operations.publish_material(material, current_user),
        _("Version %(version)s is published and current.", version=material.version),
        back,
    )


# --- the sign-off on the officer's tablet ----------------------------------------


@bp.route("/loans/<int:loan_id>/training", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.HEAD, Role.OFFICER)
@writes
def sign_off(loan_id: int):
    loan = get_visible_or_404(Loan, loan_id)
    require(lifecycle.may_manage(loan, current_user))
    material = queries.current_material()
    refused = lifecycle.refusal(loan, "train", current_user)
    if refused is not None or material is None:
        flash(str(refused or queries.NO_MATERIAL), "warning")
        return redirect(url_for("loans.detail", loan_id=loan.id))
    form = signoff_form(material, queries.training_language())
    if form.validate_on_submit():
        return _record_signoff(loan, material, form)
    return _signoff_page(loan, material, form)


def _record_signoff(loan: Loan, material: TrainingMaterial, form):
    again = url_for("training.sign_off", loan_id=loan.id)
    try:
        signoff = operations.sign_off(
            loan, current_user, material, chosen=form.chosen(), signature_png=form.signature_png
        )
    except Refused as refusal:
        refused_on(form, refusal)
        return redirect(again)
    if signoff.passed:
        return done(
            _("The integrity training is signed off; the loan can go to contract."),
            url_for("loans.detail", loan_id=loan.id),
        )
    return done(
        _(
            "Not passed: %(score)s%% of the answers were right, the pass mark is %(mark)s%%. The sign-off is kept; go through the material with the borrower again and retry.",
            score=signoff.score_percent,
            mark=material.pass_mark_percent,
        ),
        again,
        "warning",
    )


def _signoff_page(loan: Loan, material: TrainingMaterial, form):
    return render_template(
        "training/sign_off.html",
        loan=loan,
        material=material,
        form=form,
        attempts=queries.loan_signoffs(loan),
    )


@bp.get("/training/signoffs/<int:signoff_id>/signature.png")
@roles_required(*Role)
def signature(signoff_id: int):
    signoff = get_visible_or_404(TrainingSignoff, signoff_id)
    response = Response(signoff.signature_png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response
