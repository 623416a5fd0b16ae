"""Forms of reminders: a member of staff's SMS choice."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from portal.borrowers.validators import InvalidValueError, check_mobile


class StaffSmsForm(FlaskForm):
    """Whether this member of staff's reminders are texted too, and to which number."""

    mobile = StringField(
        _l("My mobile number"),
        validators=[Optional(), Length(max=20)],
        description=_l("Your own mobile, for your reminders only; borrowers never see it."),
    )
    opted_in = BooleanField(
        _l("Text me my reminders (this morning's visits, red warnings past their deadline)")
    )
    submit = SubmitField(_l("Save"))

    def validate_mobile(self, field):
        if field.data:
            try:
                field.data = check_mobile(field.data)
            except InvalidValueError as error:
                raise ValidationError(error.message) from None

    def validate_opted_in(self, field):
        if field.data and not self.mobile.data:
            raise ValidationError(_l("Enter your mobile number to receive reminders by SMS."))
