"""Forms for the loan application and each step of the lifecycle."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from portal.accounts.models import User
from portal.core.calendar import local_today
from portal.core.forms import SaneDateField, choices
from portal.loans import lifecycle, queries
from portal.loans.models import (
    LOAN_STATUS_LABELS,
    REPAYMENT_METHOD_LABELS,
    REPAYMENT_STATUS_LABELS,
    Loan,
    RepaymentStatus,
)
from portal.loans.schedule import RepaymentMethod

REQUIRED = _l("Fill in this field.")
DATE_REQUIRED = _l("Enter a date (year-month-day).")
AMOUNT_RULE = _l("Enter an amount above 0 and at most 1,000,000 yuan.")
TERM_RULE = _l("Enter a term of 1 to 60 months.")
NUMBER = re.compile(r"-?\d{1,12}(\.\d{1,2})?")


class MoneyField(DecimalField):
    """Plain digits with at most two decimals; no exponents, NaN or infinities."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip().replace(",", "")
        self.data = None
        if text and not NUMBER.fullmatch(text):
            raise ValueError(_l("Enter a number with at most two decimals, e.g. 50000 or 8.5."))
        if text:
            self.data = Decimal(text)


def _only_when_approving(message):
    """Skip the field on a rejection; on an approval it must be filled in."""

    def check(form, field):
        if form.outcome.data != "approve" or field.data is None:
            field.errors.clear()
            raise StopValidation(message if form.outcome.data == "approve" else None)

    return check


def _amount_field(label):
    return MoneyField(
        label,
        validators=[
            InputRequired(message=AMOUNT_RULE),
            NumberRange(min=0.01, max=lifecycle.MAX_AMOUNT, message=AMOUNT_RULE),
        ],
    )


def _term_field(label):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=TERM_RULE),
            NumberRange(min=1, max=lifecycle.MAX_TERM_MONTHS, message=TERM_RULE),
        ],
    )


def _date_field(label):
    return SaneDateField(label, validators=[InputRequired(message=DATE_REQUIRED)])


class LoanApplicationForm(FlaskForm):
    """What the borrower applies for."""

    amount = _amount_field(_l("Amount (yuan)"))
    term_months = _term_field(_l("Term (months)"))
    annual_rate_percent = MoneyField(
        _l("Annual interest rate (%)"),
        validators=[
            InputRequired(message=_l("Enter a yearly rate above 0 and at most 24.")),
            NumberRange(
                min=0.01,
                max=lifecycle.MAX_RATE_PERCENT,
                message=_l("Enter a yearly rate above 0 and at most 24."),
            ),
        ],
    )
    purpose = TextAreaField(
        _l("Purpose of the loan"),
        validators=[
            InputRequired(message=_l("Describe what the money is for.")),
            Length(min=4, max=1000, message=_l("Describe the purpose in 4 to 1000 characters.")),
        ],
    )
    submit = SubmitField(_l("Submit application"))


class _StepForm(FlaskForm):
    """A step form knows its loan, so its dates are checked against the previous step."""

    step = ""
    date_field = ""

    def __init__(self, *args, loan: Loan, **kwargs):
        if self.date_field:
            kwargs.setdefault(self.date_field, local_today())
        super().__init__(*args, **kwargs)
        self.loan = loan

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        field = self[self.date_field] if self.date_field else None
        if field is not None and not field.errors:
            problem = lifecycle.date_problem(self.loan, self.step, field.data)
            if problem is not None:
                field.errors.append(problem)
                valid = False
        return valid


class DecisionForm(_StepForm):
    """The loan committee's decision, recorded by the branch head."""

    outcome = RadioField(
        _l("Decision"),
        choices=choices([("approve", _l("Approve")), ("reject", _l("Reject"))]),
        validators=[InputRequired(message=_l("Choose approve or reject."))],
    )
    decision_date = _date_field(_l("Date of the committee decision"))
    approved_amount = MoneyField(
        _l("Approved amount (yuan)"), validators=[_only_when_approving(AMOUNT_RULE)]
    )
    approved_term_months = IntegerField(
        _l("Approved term (months)"), validators=[_only_when_approving(TERM_RULE)]
    )
    repayment_method = SelectField(
        _l("Repayment method"),
        choices=choices([(m.value, label) for m, label in REPAYMENT_METHOD_LABELS.items()]),
        default=RepaymentMethod.EQUAL_INSTALMENTS.value,
        validators=[_only_when_approving(_l("Choose how the loan is repaid."))],
    )
    note = TextAreaField(
        _l("Note, or the reason for a rejection"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Record decision"))
    date_field = "decision_date"

    @property
    def step(self) -> str:
        return self.outcome.data if self.outcome.data in lifecycle.DECISION_STEPS else "approve"

    def validate_approved_amount(self, field):
        if lifecycle.amount_problem(field.data) or field.data > self.loan.amount_requested:
            raise ValidationError(
                _l("The approved amount must be above 0 and at most the amount applied for.")
            )

    def validate_approved_term_months(self, field):
        if not 1 <= field.data <= lifecycle.MAX_TERM_MONTHS:
            raise ValidationError(TERM_RULE)

    def validate_note(self, field):
        if self.outcome.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason for the rejection."))


class ContractForm(_StepForm):
    """The signed loan contract."""

    contract_number = StringField(
        _l("Contract number"),
        filters=[lambda value: value.strip().upper() if value else value],
        validators=[
            InputRequired(message=REQUIRED),
            Regexp(
                r"^[A-Z0-9][A-Z0-9-]{2,39}$",
                message=_l("Use 3 to 40 letters, digits and dashes."),
            ),
        ],
    )
    contract_signed_on = _date_field(_l("Date the contract was signed"))
    submit = SubmitField(_l("Record contract"))
    step = "contract"
    date_field = "contract_signed_on"

    def validate_contract_number(self, field):
        if lifecycle.contract_number_taken(field.data, self.loan):
            raise ValidationError(_l("Another loan already has this contract number."))


class DisbursementForm(_StepForm):
    """The day the money was paid out."""

    disbursed_on = _date_field(_l("Disbursement date"))
    submit = SubmitField(_l("Record disbursement"))
    step = "disburse"
    date_field = "disbursed_on"


class _DisbursementCheckForm(_StepForm):
    """The second person's check of a recorded disbursement, made on the page as it was shown.

    ``version`` is the loan's version when the page was shown; a check made on an older
    page is refused, and the form is armed with the current version to check again.
    """

    version = HiddenField(validators=[InputRequired()])

    def __init__(self, *args, loan: Loan, **kwargs):
        super().__init__(*args, loan=loan, **kwargs)
        if not self.is_submitted():
            self.version.data = loan.version

    @property
    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None

    def validate_version(self, field):
        problem = lifecycle.stale_check(self.loan, self.seen_version)
        if problem is not None:
            field.data = self.loan.version
            raise ValidationError(problem)


class ConfirmDisbursementForm(_DisbursementCheckForm):
    """The payout as recorded is right: the loan becomes active."""

    submit = SubmitField(_l("Confirm disbursement"))
    step = "confirm_disbursement"


class ReturnDisbursementForm(_DisbursementCheckForm):
    """The payout as recorded is wrong: back to the contract, to be recorded again."""

    reason = TextAreaField(
        _l("What is wrong with the recorded disbursement"),
        validators=[
            InputRequired(message=_l("Give the reason for returning the disbursement.")),
            Length(max=2000),
        ],
    )
    submit = SubmitField(_l("Return disbursement"))
    step = "return"


class RepaymentForm(_StepForm):
    """How repayment stands on an active loan."""

    repayment_status = RadioField(
        _l("Repayment"),
        choices=choices((s.value, REPAYMENT_STATUS_LABELS[s]) for s in RepaymentStatus),
        validators=[InputRequired(message=_l("Choose on time or overdue."))],
    )
    overdue_days = IntegerField(
        _l("Days overdue"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter the days overdue (0 when on time).")),
            NumberRange(min=0, max=lifecycle.MAX_OVERDUE_DAYS, message=_l("Enter 0 to 3650 days.")),
        ],
    )
    outstanding_balance = MoneyField(
        _l("Outstanding balance (yuan)"),
        validators=[InputRequired(message=_l("Enter the outstanding balance."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save repayment status"))
    step = "repayment"

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        problems = lifecycle.repayment_problems(
            self.loan,
            RepaymentStatus(self.repayment_status.data),
            self.overdue_days.data,
            self.outstanding_balance.data,
        )
        for name, message in problems.items():
            self[name].errors.append(message)
        return not problems


class WriteOffForm(_StepForm):
    """The branch head writes off what is still owed."""

    reason = TextAreaField(
        _l("Reason for the write-off"),
        validators=[
            InputRequired(message=_l("Give the reason for the write-off.")),
            Length(max=2000),
        ],
    )
    submit = SubmitField(_l("Write off"))
    step = "write_off"


class PaymentForm(_StepForm):
    """Money the borrower paid on a loan with a schedule."""

    paid_on = _date_field(_l("Paid on"))
    amount = _amount_field(_l("Amount paid (yuan)"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record payment"))
    step = "payment"
    date_field = "paid_on"


class CloseForm(_StepForm):
    """The loan ends."""

    closed_on = _date_field(_l("Closing date"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Close loan"))
    step = "close"
    date_field = "closed_on"


class LoanFilterForm(FlaskForm):
    """Filters of the loan list (a GET form). Heads and admins, who confirm disbursements,
    may also list those waiting for them."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=choices(
            [("", _l("All statuses"))]
            + [(s.value, label) for s, label in LOAN_STATUS_LABELS.items()]
            + [("overdue", _l("Active and overdue"))]
        ),
        validators=[Optional()],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.role in lifecycle.CHECKER_ROLES:
            self.status.choices = [
                *self.status.choices,
                *choices([(queries.TO_CONFIRM, _l("Disbursements waiting for my confirmation"))]),
            ]
