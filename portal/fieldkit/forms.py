"""The officer's day plan and the head's note on a held entry."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.core.forms import MultiCheckboxField
from portal.visits.kinds import clean_text


class PlanForm(FlaskForm):
    """Which of the officer's borrowers to visit today, in the order listed."""

    borrower_ids = MultiCheckboxField(
        _l("Borrowers to visit today"),
        coerce=int,
        validate_choice=False,
    )
    submit = SubmitField(_l("Save today's plan"))

    def __init__(self, *args, offered: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = offered
        self.borrower_ids.choices = [(borrower_id, "") for borrower_id in offered]

    def validate_borrower_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one borrower to visit."))
        if set(field.data) - set(self.offered):
            raise ValidationError(_l("Choose only borrowers from the list."))

    def chosen(self) -> list[int]:
        """The ticked borrowers in the order of the page."""
        ticked = set(self.borrower_ids.data or [])
        return [borrower_id for borrower_id in self.offered if borrower_id in ticked]


class HandleForm(FlaskForm):
    """The branch head records what was done about a held entry."""

    note = TextAreaField(
        _l("What was done"),
        validators=[
            InputRequired(message=_l("Describe what was done about this entry.")),
            Length(max=2000, message=_l("Keep this under %(max)d characters.", max=2000)),
        ],
        filters=[clean_text],
    )
    submit = SubmitField(_l("Record and close"))

    def validate_note(self, field):
        if not field.data:
            raise ValidationError(_l("Describe what was done about this entry."))
