"""Forms of the networking feature."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.borrowers.models import BUSINESS_TYPE_LABELS, TIER_LABELS
from portal.core.forms import MultiCheckboxField, SaneDateField, choices, code_field, id_number
from portal.extensions import db
from portal.networking.models import (
    OUTCOME_LABELS,
    REPLY_LABELS,
    BusinessTag,
    EntryDetails,
    month_list,
    month_set,
)
from portal.networking.operations import NetworkingError, check_free_tags, split_free_tags


def tag_choices(locale: str) -> list:
    """The active vocabulary, for checkboxes."""
    tags = db.session.scalars(
        sa.select(BusinessTag).where(BusinessTag.active).order_by(BusinessTag.code)
    )
    return choices((tag.id, tag.name(locale)) for tag in tags)


class TagForm(FlaskForm):
    """The admin adds or renames a vocabulary word."""

    code = code_field()
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=40)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=60)])
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, editing: BusinessTag | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            del self.code

    def validate_code(self, field):
        if db.session.scalar(sa.select(BusinessTag.id).where(BusinessTag.code == field.data)):
            raise ValidationError(_l("Another tag already has this code."))

    def _name_taken(self, column, value: str) -> bool:
        stmt = sa.select(BusinessTag.id).where(sa.func.lower(column) == value.strip().lower())
        if self.editing is not None:
            stmt = stmt.where(BusinessTag.id != self.editing.id)
        return db.session.scalar(stmt) is not None

    def validate_name_zh(self, field):
        if self._name_taken(BusinessTag.name_zh, field.data):
            raise ValidationError(_l("Another tag already has this name."))

    def validate_name_en(self, field):
        if self._name_taken(BusinessTag.name_en, field.data):
            raise ValidationError(_l("Another tag already has this name."))


def _check_free(field) -> None:
    try:
        check_free_tags(split_free_tags(field.data))
    except NetworkingError as error:
        raise ValidationError(str(error)) from error


class ProfileForm(FlaskForm):
    """What a borrower offers and needs."""

    offers = MultiCheckboxField(_l("Offers"), coerce=id_number, validators=[Optional()])
    free_offers = StringField(_l("Other offers"), validators=[Optional(), Length(max=400)])
    needs = MultiCheckboxField(_l("Needs"), coerce=id_number, validators=[Optional()])
    free_needs = StringField(_l("Other needs"), validators=[Optional(), Length(max=400)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.offers.choices = self.needs.choices = tag_choices(locale)

    def validate_free_offers(self, field):
        _check_free(field)

    def validate_free_needs(self, field):
        _check_free(field)


def month_choices() -> list:
    """January to December in the reader's language, for the season checkboxes."""
    from babel.dates import get_month_names
    from flask_babel import get_locale

    locale = "en" if str(get_locale()).startswith("en") else "zh_Hans_CN"
    names = get_month_names("abbreviated", locale=locale)
    return choices((month, names[month]) for month in range(1, 13))


class EntryDetailsForm(FlaskForm):
    """How much, when and at what price one saved offer or need is (all optional).

    One per saved entry on the profile page, prefixed with the entry's id; the page's
    own form carries the CSRF token.
    """

    class Meta:
        csrf = False

    quantity = DecimalField(
        _l("Quantity"),
        places=None,
        validators=[
            Optional(),
            NumberRange(min=0, max=10**9, message=_l("Give a number of 0 or more.")),
        ],
    )
    unit = StringField(
        _l("Unit"),
        validators=[Optional(), Length(max=20)],
        filters=[lambda value: value.strip() if value else value],
    )
    per_month = BooleanField(_l("a month"))
    months = MultiCheckboxField(_l("Season"), coerce=int, validators=[Optional()])
    price = DecimalField(
        _l("Price per unit (yuan)"),
        places=None,
        validators=[
            Optional(),
            NumberRange(min=0, max=10**9, message=_l("Give a number of 0 or more.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.months.choices = month_choices()

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        # Checked here: the unit's Optional() stops its own validators when it is empty.
        if (self.quantity.data is not None or self.price.data is not None) and not self.unit.data:
            self.unit.errors = [_l("Give the unit of the quantity or price (head, t, kg).")]
            return False
        return True

    def details(self) -> EntryDetails:
        return EntryDetails(
            quantity=self.quantity.data,
            unit=self.unit.data or "",
            per_month=bool(self.per_month.data) and self.quantity.data is not None,
            months=month_set(self.months.data or []),
            price=self.price.data,
        )


def _plain(value):
    """60.00 as 60, 2.50 as 2.5: what the officer typed, not the column's two places."""
    if value is None:
        return None
    return value.quantize(1) if value == value.to_integral_value() else value.normalize()


def entry_details_data(entry) -> dict:
    """A saved entry as the details form's data."""
    return {
        "quantity": _plain(entry.quantity),
        "unit": entry.unit,
        "per_month": entry.per_month,
        "months": month_list(entry.months),
        "price": _plain(entry.price),
    }


class EventForm(FlaskForm):
    """Plan a networking event."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    held_on = SaneDateField(
        _l("Date"), validators=[DataRequired(message=_l("Give the date as YYYY-MM-DD."))]
    )
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 4}
    )
    branch = SelectField(_l("Branch"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, branch_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branch_choices is None:
            del self.branch  # heads plan for their own branch
        else:
            self.branch.choices = branch_choices

    def values(self) -> dict:
        return {
            "title": self.title.data.strip(),
            "held_on": self.held_on.data,
            "place": self.place.data.strip(),
            "description": (self.description.data or "").strip(),
        }


class InviteForm(FlaskForm):
    """Borrowers ticked on the invitation page."""

    borrower_ids = SelectMultipleField(
        coerce=id_number,
        validate_choice=False,
        validators=[DataRequired(message=_l("Tick at least one borrower to invite."))],
    )
    submit = SubmitField(_l("Invite"))


class InviteFilterForm(FlaskForm):
    """Find borrowers to invite; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=50)])
    tier = SelectField(_l("Tier"), choices=choices([("", _l("All tiers")), *TIER_LABELS.items()]))
    business_type = SelectField(
        _l("Business"),
        choices=choices([("", _l("All businesses")), *BUSINESS_TYPE_LABELS.items()]),
    )
    tag = SelectField(_l("Offers or needs"))

    def __init__(self, *args, locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag.choices = choices([("", _l("Any"))]) + tag_choices(locale)

    @property
    def used(self) -> bool:
        return any((self.q.data, self.tier.data, self.business_type.data, self.tag.data))


class ReplyForm(FlaskForm):
    """The guest's answer: the button tapped (coming or not coming) carries it."""

    answer = SelectField(
        choices=choices(REPLY_LABELS.items()),
        validators=[DataRequired(message=_l("Say whether you are coming."))],
    )


class AttendanceForm(FlaskForm):
    """Who came."""

    attended = SelectMultipleField(coerce=id_number, validate_choice=False, validators=[Optional()])
    submit = SubmitField(_l("Save who attended"))


class IntroductionForm(FlaskForm):
    """Two attendees introduced to each other."""

    supplier_id = SelectField(
        _l("Who offers"), validators=[DataRequired(message=_l("Choose a borrower."))]
    )
    buyer_id = SelectField(
        _l("Who needs"), validators=[DataRequired(message=_l("Choose a borrower."))]
    )
    topic = StringField(_l("About"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Record introduction"))

    def __init__(self, *args, attendees: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier_id.choices = self.buyer_id.choices = choices(
            [("", _l("— choose —")), *attendees]
        )

    def validate_buyer_id(self, field):
        if field.data == self.supplier_id.data:
            raise ValidationError(_l("Choose two different borrowers."))

    @property
    def pair(self) -> tuple[int, int]:
        return int(self.supplier_id.data), int(self.buyer_id.data)


class OutcomeForm(FlaskForm):
    """What came of an introduction."""

    outcome = SelectField(
        _l("Outcome"), choices=choices(OUTCOME_LABELS.items()), validators=[DataRequired()]
    )
    deal_amount = DecimalField(
        _l("Amount (yuan)"),
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=0.01,
                max=99_999_999,
                message=_l("The amount must be between 0.01 and 99,999,999 yuan."),
            ),
        ],
    )
    submit = SubmitField(_l("Save outcome"))

    def validate_deal_amount(self, field):
        if field.data is not None and self.outcome.data != "deal":
            raise ValidationError(_l("An amount can only be given for a deal."))
