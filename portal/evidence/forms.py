"""Forms of the evidence feature: pinning a borrower's site; the head's checks below."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.core.forms import choices
from portal.evidence.models import ReviewAction
from portal.visits.kinds import clean_text

# --- The head's check of a flagged visit, and the officer's answer -----------------------

NOTE_MAX = 1000
REVIEW_CHOICES = {
    ReviewAction.CONFIRMED: _l("Confirmed genuine"),
    ReviewAction.ASKED: _l("Ask the officer"),
}


class ReviewForm(FlaskForm):
    """The branch head confirms a flagged visit genuine, or asks its officer to explain."""

    action = RadioField(
        _l("Your check"),
        choices=choices(REVIEW_CHOICES.items()),
        validators=[InputRequired(message=_l("Choose: confirmed genuine, or ask the officer."))],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[
            Length(max=NOTE_MAX, message=_l("Keep this under %(max)d characters.", max=NOTE_MAX))
        ],
        filters=[clean_text],
    )
    submit = SubmitField(_l("Record the check"))

    def validate_note(self, field):
        if self.action.data == ReviewAction.ASKED and not field.data:
            raise ValidationError(_l("Write the question the officer should answer."))


class AnswerForm(FlaskForm):
    """The officer answers the head's question about a visit."""

    note = TextAreaField(
        _l("Your answer"),
        validators=[
            InputRequired(message=_l("Write your answer to the branch head.")),
            Length(max=NOTE_MAX, message=_l("Keep this under %(max)d characters.", max=NOTE_MAX)),
        ],
        filters=[clean_text],
    )
    submit = SubmitField(_l("Send the answer"))

    def validate_note(self, field):
        if not field.data:
            raise ValidationError(_l("Write your answer to the branch head."))
