"""Forms of the complaints feature."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.complaints.models import (
    CATEGORY_LABELS,
    RESPONSE_DAYS,
    SEVERITY_LABELS,
    ComplaintCategory,
    ComplaintSeverity,
)
from portal.core.forms import choices


def _severity_choices():
    return choices(
        (
            severity.value,
            lazy_ngettext(
                "%(label)s (answer within %(num)d day)",
                "%(label)s (answer within %(num)d days)",
                RESPONSE_DAYS[severity],
                label=label,
            ),
        )
        for severity, label in SEVERITY_LABELS.items()
    )


class ComplaintForm(FlaskForm):
    """A borrower files a complaint."""

    category = SelectField(
        _l("What is it about?"),
        choices=choices(
            [("", _l("— choose —"))] + [(c.value, label) for c, label in CATEGORY_LABELS.items()]
        ),
        validators=[DataRequired(message=_l("Choose what the complaint is about."))],
        validate_choice=False,
    )
    severity = RadioField(
        _l("How serious is it?"),
        default=ComplaintSeverity.GENERAL.value,
        validators=[InputRequired(message=_l("Choose how serious it is."))],
        validate_choice=False,
    )
    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(message=_l("Enter a short subject.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("What happened?"),
        validators=[
            DataRequired(message=_l("Please describe what happened.")),
            Length(min=10, max=4000, message=_l("Write between 10 and 4000 characters.")),
        ],
        render_kw={"rows": 5},
    )
    submit = SubmitField(_l("Send complaint"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = _severity_choices()

    def validate_category(self, field):
        if field.data not in {c.value for c in ComplaintCategory}:
            raise ValidationError(_l("Choose what the complaint is about."))

    def validate_severity(self, field):
        if field.data not in {s.value for s in ComplaintSeverity}:
            raise ValidationError(_l("Choose how serious it is."))


class ResolveForm(FlaskForm):
    """The handler's answer."""

    resolution = TextAreaField(
        _l("Answer to the borrower"),
        validators=[
            DataRequired(message=_l("Write the answer to the borrower.")),
            Length(min=10, max=4000, message=_l("Write between 10 and 4000 characters.")),
        ],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Send answer"))


class EscalateForm(FlaskForm):
    """Pass a general complaint to the branch head."""

    note = StringField(
        _l("Why (optional)"),
        validators=[Optional(), Length(max=500, message=_l("At most 500 characters."))],
    )
    submit = SubmitField(_l("Pass to the branch head"))


VERDICTS = {
    "satisfied": _l("I am satisfied: close it"),
    "reopen": _l("I am not satisfied: reopen it"),
}


class VerdictForm(FlaskForm):
    """The borrower's verdict on the answer."""

    verdict = RadioField(
        _l("Are you satisfied with the answer?"),
        choices=choices(VERDICTS.items()),
        validators=[InputRequired(message=_l("Choose one of the two answers."))],
        validate_choice=False,
    )
    reason = TextAreaField(
        _l("If not, why? (needed to reopen)"),
        # No Optional(): it would stop validate_reason from asking for a reason.
        validators=[Length(max=2000, message=_l("At most 2000 characters."))],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Send"))

    def validate_verdict(self, field):
        if field.data not in VERDICTS:
            raise ValidationError(_l("Choose one of the two answers."))

    def validate_reason(self, field):
        if self.verdict.data == "reopen" and len((field.data or "").strip()) < 5:
            raise ValidationError(_l("Tell us in a few words why you are not satisfied."))
