"""Forms of the tiers feature."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.borrowers.models import TIER_LABELS, Tier
from portal.core.forms import choices, id_number


class TierFilterForm(FlaskForm):
    """Filter the tier list; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    tier = SelectField(
        _l("Tier"),
        choices=choices([("", _l("All tiers")), *TIER_LABELS.items()]),
        validators=[Optional()],
    )
    branch = SelectField(_l("Branch"), validators=[Optional()])

    @property
    def tier_value(self) -> Tier | None:
        return Tier(self.tier.data) if self.tier.data in set(Tier) else None


class TierDecisionForm(FlaskForm):
    """The head confirms the suggested tier or chooses another with a reason."""

    tier = SelectField(
        _l("Tier"), choices=choices(TIER_LABELS.items()), validators=[DataRequired()]
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)], render_kw={"rows": 2})
    period = HiddenField()
    next = HiddenField()
    submit = SubmitField(_l("Set tier"))

    def __init__(self, *args, suggested: Tier, periods: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.suggested = suggested
        self.periods = periods
        if not self.is_submitted():
            self.tier.data = suggested.value

    def validate_reason(self, field):
        if self.tier.data != self.suggested.value and not (field.data or "").strip():
            raise ValidationError(
                _l("Give a reason when choosing another tier than the suggested one.")
            )

    def validate_period(self, field):
        if (field.data or "") not in self.periods:
            raise ValidationError(_l("This review period is not open."))


class BulkConfirmForm(FlaskForm):
    """The head confirms the suggestions of the picked borrowers at once, with one note."""

    # Each value is "<borrower id>:<suggested tier as shown>", so a suggestion that
    # changed since the page was drawn is caught instead of confirmed unseen.
    picks = SelectMultipleField(_l("Borrowers"), validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=500)], render_kw={"rows": 2})
    next = HiddenField()
    submit = SubmitField(_l("Confirm the selected suggestions"))

    def validate_picks(self, field):
        picked = {}
        for value in field.data or []:
            borrower, _sep, tier = str(value).partition(":")
            try:
                picked[id_number(borrower)] = Tier(tier)
            except ValueError:
                raise ValidationError(_l("The selection is not valid.")) from None
        if not picked:
            raise ValidationError(_l("Select at least one borrower."))
        self.picked = picked
