"""Forms of the privacy feature: a consent decision, a correction request, its answer."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.core.forms import choices
from portal.privacy.corrections import CORRECTABLE_FIELDS

NOTE_MAX = 500  # CorrectionRequest.note and .answer are String(500)


class ConsentForm(FlaskForm):
    """One button: give (``give`` = "1") or withdraw ("0") one purpose's consent."""

    give = HiddenField(validators=[InputRequired()])

    def validate_give(self, field):
        if field.data not in ("0", "1"):
            raise ValidationError(_l("Choose whether to give or withdraw the consent."))


class CorrectionForm(FlaskForm):
    """The borrower asks for one field of their record to be corrected."""

    field = SelectField(
        _l("What is wrong?"),
        choices=choices([("", _l("— choose —")), *CORRECTABLE_FIELDS.items()]),
        validators=[DataRequired(message=_l("Choose what should be corrected."))],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("What should it say instead?"),
        validators=[
            DataRequired(message=_l("Tell us what is wrong and what is right.")),
            Length(
                min=3,
                max=NOTE_MAX,
                message=_l("Write between %(min)d and %(max)d characters.", min=3, max=NOTE_MAX),
            ),
        ],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )
    submit = SubmitField(_l("Ask for a correction"))

    def validate_field(self, field):
        if field.data not in CORRECTABLE_FIELDS:
            raise ValidationError(_l("Choose what should be corrected."))


OUTCOMES = {
    "done": _l("Corrected"),
    "declined": _l("Not corrected (say why)"),
}


class AnswerForm(FlaskForm):
    """The officer's or head's answer to a correction request."""

    outcome = RadioField(
        _l("Outcome"),
        choices=choices(OUTCOMES.items()),
        validators=[InputRequired(message=_l("Choose whether the record was corrected."))],
        validate_choice=False,
    )
    answer = TextAreaField(
        _l("Answer to the borrower"),
        validators=[
            DataRequired(message=_l("Write the answer to the borrower.")),
            Length(
                min=3,
                max=NOTE_MAX,
                message=_l("Write between %(min)d and %(max)d characters.", min=3, max=NOTE_MAX),
            ),
        ],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )
    submit = SubmitField(_l("Send answer"))

    def validate_outcome(self, field):
        if field.data not in OUTCOMES:
            raise ValidationError(_l("Choose whether the record was corrected."))
