"""Routes of the loans feature: application, list, detail and each lifecycle step."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, require, roles_required
from portal.accounts.models import STAFF_ROLES, Role
from portal.borrowers.models import Borrower
from portal.core import exports
from portal.core.actions import Refused, done, refused_on, writes
from portal.extensions import db
from portal.loans import forms, lifecycle, queries
from portal.loans.models import Loan, LoanStatus, RepaymentStatus, loan_status_label
from portal.loans.schedule import RepaymentMethod
from portal.training.queries import loan_signoffs

bp = Blueprint("loans", __name__)
STAFF = tuple(STAFF_ROLES)


@bp.get("/loans/")
@roles_required(*STAFF)
def index():
    form = forms.LoanFilterForm(request.args, user=current_user)
    status = form.status.data if form.validate() else ""
    stmt = queries.list_statement(current_user, status)
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("loans/index.html", form=form, page=page)


def _export_columns() -> list[exports.Column]:
    """The list page's columns."""
    columns = [
        (_("Borrower"), lambda loan: loan.borrower.full_name),
        (_("Status"), lambda loan: loan_status_label(loan.status)),
        (
            _("Amount"),
            lambda loan: (
                loan.amount_requested if loan.approved_amount is None else loan.approved_amount
            ),
        ),
        (
            _("Outstanding"),
            lambda loan: loan.outstanding_balance if loan.status == LoanStatus.ACTIVE else None,
        ),
        (_("Applied on"), lambda loan: loan.applied_on),
        (_("Contract"), lambda loan: loan.contract_number),
        (_("Loan officer"), lambda loan: loan.borrower.officer.display_name),
    ]
    if current_user.role == Role.ADMIN:
        columns.append((_("Branch"), lambda loan: loan.borrower.branch.code))
    return columns


@bp.get("/loans/export.<any(csv, xlsx):fmt>")
@roles_required(*STAFF)
@writes
def export(fmt: str):
    """Every loan the list shows for its status filter, as it shows them."""
    form = forms.LoanFilterForm(request.args, user=current_user)
    status = form.status.data if form.validate() else ""
    stmt = exports.limited(queries.list_statement(current_user, status))
    return exports.export_response(
        "loans", _export_columns(), db.session.scalars(stmt), fmt, {"status": status}
    )


@bp.route("/borrowers/<int:borrower_id>/loans/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def apply(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(borrower.can_manage(current_user))
    form = forms.LoanApplicationForm()
    if form.validate_on_submit():
        try:
            loan = lifecycle.apply(
                borrower,
                current_user,
                amount=form.amount.data,
                term_months=form.term_months.data,
                purpose=form.purpose.data,
                annual_rate_percent=form.annual_rate_percent.data,
            )
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(_("The loan application was recorded."), _loan_url(loan))
    return render_template("loans/apply.html", borrower=borrower, form=form)


@bp.get("/loans/<int:loan_id>")
@roles_required(*Role)
def detail(loan_id: int):
    loan = get_visible_or_404(Loan, loan_id)
    return render_template(
        "loans/detail.html",
        loan=loan,
        standing=lifecycle.standing_of(loan) if loan.instalments else None,
        history=_history_for(loan, current_user),
        steps=lifecycle.available_steps(loan, current_user),
        signoffs=loan_signoffs(loan),
        gate=lifecycle.contract_gate(loan),
        disbursement=queries.disbursement_people(loan),
    )


# Steps that are the company's judgement alone (the written-off flag): staff only.
INTERNAL_EVENTS = frozenset({"write_off"})


def _history_for(loan: Loan, user) -> list:
    """The loan's history as ``user`` may read it: without internal steps for a borrower."""
    history = queries.loan_history(loan.id)
    if user.can_see_internal_assessments:
        return history
    return [event for event in history if event.action not in INTERNAL_EVENTS]


def _loan_for(step_name: str, loan_id: int) -> Loan:
    """Load a visible loan (404/403), then 403 unless the user may take this kind of step."""
    loan = get_visible_or_404(Loan, loan_id)
    require(lifecycle.STEPS[step_name].allowed(loan, current_user))
    return loan


def _loan_url(loan: Loan) -> str:
    return url_for("loans.detail", loan_id=loan.id)


def _run_step(loan, step_name, form, template, action, success, **context):
    """Show the step's form; on a valid POST run ``action`` and go to the loan.

    A refusal from the state machine is shown beside its field, or as a message;
    nothing is written then. Behind a shut training gate the page explains the gate
    and takes no step.
    """
    gate = context.get("gate")
    refused = lifecycle.refusal(loan, step_name, current_user)
    if refused is not None and gate is None:
        flash(str(refused), "warning")
        return redirect(_loan_url(loan))
    if gate is None and form.validate_on_submit():
        try:
            action(form)
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(success, _loan_url(loan))
    return render_template(template, loan=loan, form=form, **context)


@bp.route("/loans/<int:loan_id>/decision", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def decision(loan_id: int):
    loan = _loan_for("approve", loan_id)
    form = forms.DecisionForm(
        loan=loan,
        approved_amount=loan.amount_requested,
        approved_term_months=loan.term_months_requested,
    )
    return _run_step(
        loan,
        "approve",
        form,
        "loans/decision.html",
        lambda f: _decide(loan, f),
        _("The committee decision was recorded."),
    )


def _decide(loan: Loan, form) -> None:
    if form.outcome.data == "approve":
        lifecycle.approve(
            loan,
            current_user,
            decided_on=form.decision_date.data,
            amount=form.approved_amount.data,
            term_months=form.approved_term_months.data,
            note=form.note.data or "",
            method=RepaymentMethod(form.repayment_method.data),
        )
    else:
        lifecycle.reject(
            loan, current_user, decided_on=form.decision_date.data, reason=form.note.data or ""
        )


@bp.route("/loans/<int:loan_id>/contract", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def contract(loan_id: int):
    loan = _loan_for("contract", loan_id)
    return _run_step(
        loan,
        "contract",
        forms.ContractForm(loan=loan),
        "loans/contract.html",
        lambda f: lifecycle.sign_contract(
            loan, current_user, number=f.contract_number.data, signed_on=f.contract_signed_on.data
        ),
        _("The loan contract was recorded."),
        gate=lifecycle.contract_gate(loan),
    )


@bp.route("/loans/<int:loan_id>/disburse", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def disburse(loan_id: int):
    loan = _loan_for("disburse", loan_id)
    return _run_step(
        loan,
        "disburse",
        forms.DisbursementForm(loan=loan),
        "loans/step.html",
        lambda f: lifecycle.disburse(loan, current_user, disbursed_on=f.disbursed_on.data),
        _("The disbursement was recorded; the branch head or an admin confirms it."),
        title=_("Record disbursement"),
    )


@bp.route("/loans/<int:loan_id>/confirm-disbursement", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def confirm_disbursement(loan_id: int):
    loan = _loan_for("confirm_disbursement", loan_id)
    return _run_step(
        loan,
        "confirm_disbursement",
        forms.ConfirmDisbursementForm(loan=loan),
        "loans/disbursement_check.html",
        lambda f: lifecycle.confirm_disbursement(loan, current_user, seen_version=f.seen_version),
        _("The disbursement was confirmed; the loan is active."),
        title=_("Confirm disbursement"),
        disbursement=queries.disbursement_people(loan),
    )


@bp.route("/loans/<int:loan_id>/return-disbursement", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def return_disbursement(loan_id: int):
    loan = _loan_for("return", loan_id)
    return _run_step(
        loan,
        "return",
        forms.ReturnDisbursementForm(loan=loan),
        "loans/disbursement_check.html",
        lambda f: lifecycle.return_disbursement(
            loan, current_user, reason=f.reason.data, seen_version=f.seen_version
        ),
        _("The disbursement was returned; it can be recorded again."),
        title=_("Return disbursement"),
        disbursement=queries.disbursement_people(loan),
    )


@bp.route("/loans/<int:loan_id>/payment", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def payment(loan_id: int):
    loan = _loan_for("payment", loan_id)
    return _run_step(
        loan,
        "payment",
        forms.PaymentForm(loan=loan),
        "loans/step.html",
        lambda f: lifecycle.record_payment(
            loan, current_user, paid_on=f.paid_on.data, amount=f.amount.data, note=f.note.data or ""
        ),
        _("The payment was recorded."),
        title=_("Record a payment"),
    )


@bp.route("/loans/<int:loan_id>/repayment", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def repayment(loan_id: int):
    loan = _loan_for("repayment", loan_id)
    form = forms.RepaymentForm(
        loan=loan,
        repayment_status=loan.repayment_status.value,
        overdue_days=loan.overdue_days,
        outstanding_balance=loan.outstanding_balance,
    )
    return _run_step(
        loan,
        "repayment",
        form,
        "loans/step.html",
        lambda f: lifecycle.update_repayment(
            loan,
            current_user,
            status=RepaymentStatus(f.repayment_status.data),
            overdue_days=f.overdue_days.data,
            balance=f.outstanding_balance.data,
            note=f.note.data or "",
        ),
        _("The repayment status was saved."),
        title=_("Update repayment"),
    )


@bp.route("/loans/<int:loan_id>/write-off", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def write_off(loan_id: int):
    loan = _loan_for("write_off", loan_id)
    return _run_step(
        loan,
        "write_off",
        forms.WriteOffForm(loan=loan),
        "loans/step.html",
        lambda f: lifecycle.write_off(loan, current_user, reason=f.reason.data),
        _("The loan was written off."),
        title=_("Write off"),
    )


@bp.route("/loans/<int:loan_id>/close", methods=["GET", "POST"])
@roles_required(*STAFF)
@writes
def close(loan_id: int):
    loan = _loan_for("close", loan_id)
    return _run_step(
        loan,
        "close",
        forms.CloseForm(loan=loan),
        "loans/step.html",
        lambda f: lifecycle.close(
            loan, current_user, closed_on=f.closed_on.data, note=f.note.data or ""
        ),
        _("The loan was closed."),
        title=_("Close loan"),
    )
