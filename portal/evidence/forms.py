"""Forms of the evidence feature: pinning a borrower's site; the head's checks below."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.core.forms import choices
from portal.core.i18n import datetime_text
from portal.evidence.models import ReviewAction
from portal.evidence.sites import Fix
from portal.visits.kinds import clean_text

# --- The borrower's site -------------------------------------------------------------------

HERE = "here"  # the tablet's position now, rather than a visit's fix


class PinSiteForm(FlaskForm):
    """The officer pins the borrower's site: at one of the visits' fixes, or where they stand."""

    where = RadioField(
        _l("Pin the site at"),
        validators=[InputRequired(message=_l("Choose where the borrower's site is."))],
    )
    # Filled by geolocation.js when the site is pinned where the officer stands.
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()
    submit = SubmitField(_l("Pin the site"))

    def __init__(self, fixes: list[Fix], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixes = {str(fix.visit_id): fix for fix in fixes}
        self.where.choices = choices(
            [(HERE, _l("Here, at the tablet's position now"))]
            + [(key, _fix_label(fix)) for key, fix in self.fixes.items()]
        )

    def validate_latitude(self, field):
        if self.where.data == HERE and self.position() is None:
            raise ValidationError(_l("Record the position first (the button above)."))

    def chosen_fix(self) -> Fix | None:
        """The visit's fix chosen, or None for the tablet's position."""
        return self.fixes.get(self.where.data)

    def position(self) -> tuple[float, float, int | None] | None:
        """Latitude, longitude and accuracy recorded on the page, or None if not valid."""
        try:
            latitude, longitude = float(self.latitude.data), float(self.longitude.data)
            accuracy = int(self.accuracy.data) if self.accuracy.data else None
        except (TypeError, ValueError):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        if accuracy is not None and not 0 <= accuracy <= 100_000:
            return None
        return round(latitude, 6), round(longitude, 6), accuracy


def _fix_label(fix: Fix) -> str:
    return gettext(
        "The fix of the visit of %(time)s (accurate to %(accuracy)s m)",
        time=datetime_text(fix.visited_at),
        accuracy=fix.accuracy_m,
    )


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
