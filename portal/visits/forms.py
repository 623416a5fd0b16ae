"""The follow-up visit form and the head's acknowledgement of a red warning."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.calendar import company_tz
from portal.core.forms import choices
from portal.core.once import OnceTokenField
from portal.visits import signing
from portal.visits.models import (
    BUSINESS_STATE_LABELS,
    COLLATERAL_STATUS_LABELS,
    FUNDS_USE_LABELS,
    GUARANTOR_STATUS_LABELS,
    REPAYMENT_STATE_LABELS,
    REVENUE_TREND_LABELS,
    SERVICE_NEED_LABELS,
    BusinessState,
    CollateralStatus,
    FundsUse,
    GuarantorStatus,
    RepaymentState,
    RevenueTrend,
    ServiceNeed,
    Visit,
)
from portal.visits.operations import VisitAnswers, VisitRefusedError, check_visit_time
from portal.visits.risk import SIGNAL_LABELS, RiskSignal

SATISFACTION_LABELS = {
    "1": _l("1 – very unsatisfied"),
    "2": _l("2"),
    "3": _l("3"),
    "4": _l("4"),
    "5": _l("5 – very satisfied"),
}


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (the macro in _forms.html renders it by this class name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _radio(label, labels: dict, message) -> RadioField:
    values = [str(value) for value in labels]
    return RadioField(
        label,
        choices=choices(labels.items()),
        validate_choice=False,
        validators=[InputRequired(message=message), AnyOf(values, message=message)],
    )


def _checklist(label, labels: dict, message) -> MultiCheckboxField:
    return MultiCheckboxField(
        label,
        choices=choices(labels.items()),
        validate_choice=False,
        validators=[_only_from({str(value) for value in labels}, message)],
    )


def _only_from(values: set[str], message):
    def check(form, field):
        if any(value not in values for value in field.data or []):
            raise ValidationError(message)

    return check


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input read in the company's time zone."""

    def process_formdata(self, valuelist):
        # An empty input is the "required" validator's business, not a parse error.
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def _text(limit: int) -> Length:
    return Length(max=limit, message=_l("Keep this under %(max)d characters.", max=limit))


def _clean(text: str | None) -> str:
    # Tablets send \r\n from text areas; the hash must not depend on the keyboard.
    return (text or "").replace("\r\n", "\n").strip()


class VisitForm(FlaskForm):
    """Every question of the post-loan follow-up form (贷后跟踪调查表)."""

    idempotency_token = OnceTokenField()
    visited_at = LocalDateTimeField(
        _l("Visit date and time"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        tz=company_tz,
        invalid_value_message=_l("Enter the date and time of the visit, e.g. 2026-11-05 14:30."),
        validators=[InputRequired(message=_l("Enter the date and time of the visit."))],
    )
    place = StringField(
        _l("Place of the visit"),
        validators=[
            InputRequired(message=_l("Enter where the visit took place.")),
            _text(200),
        ],
        filters=[_clean],
    )
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()

    business_state = _radio(
        _l("Business state"), BUSINESS_STATE_LABELS, _l("Choose the state of the business.")
    )
    revenue_trend = _radio(
        _l("Revenue trend"), REVENUE_TREND_LABELS, _l("Choose how revenue is developing.")
    )
    funds_use = _radio(
        _l("Use of the loan funds"),
        FUNDS_USE_LABELS,
        _l("Choose how the loan funds were used."),
    )
    repayment_status = _radio(
        _l("Repayment"), REPAYMENT_STATE_LABELS, _l("Choose the repayment status.")
    )
    guarantor_status = _radio(
        _l("Guarantor"), GUARANTOR_STATUS_LABELS, _l("Choose the guarantor's status.")
    )
    collateral_status = _radio(
        _l("Collateral"), COLLATERAL_STATUS_LABELS, _l("Choose the collateral's status.")
    )
    household_changes = TextAreaField(
        _l("Changes in the household"), validators=[Optional(), _text(2000)], filters=[_clean]
    )
    risk_signals = _checklist(
        _l("Risk warning signals observed"),
        SIGNAL_LABELS,
        _l("Tick only risk signals from the list."),
    )
    officer_observations = TextAreaField(
        _l("Loan officer's observations"),
        validators=[
            InputRequired(message=_l("Write down what you observed on the visit.")),
            _text(4000),
        ],
        filters=[_clean],
    )
    borrower_opinions = TextAreaField(
        _l("Borrower's opinions and suggestions"),
        validators=[Optional(), _text(4000)],
        filters=[_clean],
    )
    services_needed = _checklist(
        _l("Services the borrower needs"),
        SERVICE_NEED_LABELS,
        _l("Tick only services from the list."),
    )
    services_other = StringField(
        _l("Other service needed"), validators=[_text(200)], filters=[_clean]
    )
    satisfaction = _radio(
        _l("Satisfaction with the company"),
        SATISFACTION_LABELS,
        _l("Ask the borrower for a satisfaction rating from 1 to 5."),
    )
    signature = HiddenField(_l("Borrower's signature"))
    submit = SubmitField(_l("Sign and save the visit"))

    signature_png: bytes | None = None

    def __init__(self, *args, original: Visit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.original = original

    def validate_visited_at(self, field):
        if field.data is None:
            return
        try:
            check_visit_time(field.data.astimezone(UTC), self.original)
        except VisitRefusedError as refusal:
            raise ValidationError(refusal.message) from None

    def validate_place(self, field):
        if not field.data:
            raise ValidationError(_l("Enter where the visit took place."))

    def validate_officer_observations(self, field):
        if not field.data:
            raise ValidationError(_l("Write down what you observed on the visit."))

    def validate_latitude(self, field):
        self._coordinate(field, 90)

    def validate_longitude(self, field):
        self._coordinate(field, 180)

    def validate_accuracy(self, field):
        if field.data and not (field.data.isdigit() and int(field.data) <= 100_000):
            raise ValidationError(_l("The recorded location is not valid. Record it again."))

    def _coordinate(self, field, limit: int):
        if not field.data:
            return
        try:
            value = float(field.data)
        except ValueError:
            value = None
        if value is None or not -limit <= value <= limit:
            raise ValidationError(_l("The recorded location is not valid. Record it again."))

    def validate_services_other(self, field):
        if ServiceNeed.OTHER.value in (self.services_needed.data or []) and not field.data:
            raise ValidationError(_l("Describe the other service the borrower needs."))

    def validate_signature(self, field):
        try:
            self.signature_png = signing.decode_signature(field.data)
        except signing.SignatureError as error:
            raise ValidationError(error.message) from None

    def location(self) -> tuple[float | None, float | None, int | None]:
        """Latitude, longitude and accuracy when both coordinates were recorded."""
        if not (self.latitude.data and self.longitude.data):
            return None, None, None
        accuracy = int(self.accuracy.data) if self.accuracy.data else None
        return round(float(self.latitude.data), 6), round(float(self.longitude.data), 6), accuracy

    def answers(self) -> VisitAnswers:
        """The validated input as the operation takes it."""
        latitude, longitude, accuracy = self.location()
        return VisitAnswers(
            visited_at=self.visited_at.data.astimezone(UTC),
            place=self.place.data,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy,
            business_state=BusinessState(self.business_state.data),
            revenue_trend=RevenueTrend(self.revenue_trend.data),
            funds_use=FundsUse(self.funds_use.data),
            repayment_status=RepaymentState(self.repayment_status.data),
            guarantor_status=GuarantorStatus(self.guarantor_status.data),
            collateral_status=CollateralStatus(self.collateral_status.data),
            household_changes=self.household_changes.data,
            risk_signals=frozenset(RiskSignal(s) for s in self.risk_signals.data or []),
            officer_observations=self.officer_observations.data,
            borrower_opinions=self.borrower_opinions.data,
            services_needed=frozenset(ServiceNeed(s) for s in self.services_needed.data or []),
            services_other=self.services_other.data,
            satisfaction=int(self.satisfaction.data),
        )


def prefill_from(visit: Visit) -> dict:
    """Form data copied from a signed visit, for its amendment (the signature is not copied)."""
    return {
        "visited_at": visit.visited_at,
        "place": visit.place,
        "latitude": "" if visit.latitude is None else f"{visit.latitude:.6f}",
        "longitude": "" if visit.longitude is None else f"{visit.longitude:.6f}",
        "accuracy": "" if visit.accuracy_m is None else str(visit.accuracy_m),
        "business_state": str(visit.business_state),
        "revenue_trend": str(visit.revenue_trend),
        "funds_use": str(visit.funds_use),
        "repayment_status": str(visit.repayment_status),
        "guarantor_status": str(visit.guarantor_status),
        "collateral_status": str(visit.collateral_status),
        "household_changes": visit.household_changes,
        "risk_signals": list(visit.risk_signals),
        "officer_observations": visit.officer_observations,
        "borrower_opinions": visit.borrower_opinions,
        "services_needed": list(visit.services_needed),
        "services_other": visit.services_other,
        "satisfaction": str(visit.satisfaction),
    }


class AcknowledgeForm(FlaskForm):
    """The branch head records the action taken on a red visit."""

    action_taken = TextAreaField(
        _l("Action taken"),
        validators=[
            InputRequired(message=_l("Describe the action taken on this warning.")),
            Length(max=2000, message=_l("Keep this under %(max)d characters.", max=2000)),
        ],
        filters=[_clean],
    )
    submit = SubmitField(_l("Acknowledge the warning"))

    def validate_action_taken(self, field):
        if not field.data:
            raise ValidationError(_l("Describe the action taken on this warning."))
