"""Forms for onboarding, editing, searching and reassigning borrowers, and activation."""

import re
from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import TextInput

from portal.accounts.forms import PASSWORD_RULES
from portal.accounts.models import User
from portal.borrowers import queries
from portal.borrowers.masking import holds_number, mask_phone, mask_resident_id
from portal.borrowers.models import (
    BIRTHDAY_CALENDAR_LABELS,
    BUSINESS_TYPE_LABELS,
    SEX_LABELS,
    TIER_LABELS,
    BirthdayCalendar,
    Borrower,
    BusinessType,
    Sex,
)
from portal.borrowers.validators import (
    InvalidValueError,
    ResidentId,
    check_mobile,
    check_phone,
    check_resident_id,
    reencode_photo,
)
from portal.core.calendar import local_today
from portal.core.forms import SaneDateField, choices, id_number, optional_id
from portal.loans.models import LOAN_STATUS_LABELS
from portal.privacy.models import Purpose

ADULT_AGE = 18
MAX_MONTHLY_AMOUNT = Decimal("1000000")
# Letters of any script (Chinese, Uyghur, Latin…) with the middle dot of minority names.
_PERSON_NAME = re.compile(r"[^\W\d_]+(?:[·・.\s][^\W\d_]+)*")
_AMOUNT_NOISE = re.compile(r"[\s,，¥￥元]")


def officer_label(officer: User) -> str:
    """An officer in a select box: name and branch, since admins choose across branches."""
    return (
        f"{officer.display_name} · {officer.branch.name}"
        if officer.branch
        else officer.display_name
    )


def _required(message):
    return DataRequired(message=message)


def person_name(form, field):
    """A person's name: letters and the middle dot, no digits or symbols."""
    field.data = (field.data or "").strip()
    if field.data and not _PERSON_NAME.fullmatch(field.data):
        raise ValidationError(_l("A name has only letters (and · in minority names)."))


class MoneyField(DecimalField):
    """An amount in yuan with at most two decimals; blanks, commas and ¥ are ignored."""

    # A text box keeps what was typed (a number box sends nothing for "3,500").
    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = _AMOUNT_NOISE.sub("", valuelist[0])
        self.data = None
        if not text:
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_l("Enter an amount in yuan, e.g. 3500 or 3500.50.")) from None
        if not value.is_finite() or value.as_tuple().exponent < -2:
            raise ValueError(_l("Enter an amount in yuan, e.g. 3500 or 3500.50."))
        self.data = value


def monthly_amount(label):
    """A monthly amount between 0 and a sane maximum."""
    return MoneyField(
        label,
        validators=[
            InputRequired(message=_l("Enter an amount, 0 if there is none.")),
            NumberRange(
                min=0,
                max=MAX_MONTHLY_AMOUNT,
                message=_l("Enter an amount between 0 and 1,000,000 yuan."),
            ),
        ],
        render_kw={"inputmode": "decimal"},
    )


def _duplicate_message(existing: Borrower, user: User, what) -> Markup:
    """Link to a borrower the user may see; otherwise only say whom to ask."""
    if existing.visible_to(user):
        return escape(_l("%(what)s is already registered: %(link)s.")) % {
            "what": what,
            "link": Markup('<a href="{}">{}</a>').format(
                url_for("borrowers.detail", borrower_id=existing.id), existing.full_name
            ),
        }
    return escape(
        _l(
            "%(what)s is already registered with another loan officer. Please ask %(branch)s (telephone %(phone)s)."
        )
    ) % {
        "what": what,
        "branch": existing.branch.name,
        "phone": existing.branch.phone or "—",
    }


class ProfileForm(FlaskForm):
    """The fields of a borrower's profile that stay editable after onboarding."""

    mobile = StringField(
        _l("Mobile number"),
        validators=[_required(_l("Enter the borrower's mobile number."))],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    address = StringField(
        _l("Address (province, county, township)"),
        validators=[_required(_l("Enter the address.")), Length(max=200)],
    )
    village = StringField(
        _l("Village"), validators=[_required(_l("Enter the village.")), Length(max=100)]
    )
    business_type = SelectField(
        _l("Business type"),
        choices=choices(
            [("", _l("— choose —"))]
            + [(kind.value, BUSINESS_TYPE_LABELS[kind]) for kind in BusinessType]
        ),
        validators=[_required(_l("Choose the type of business."))],
    )
    business_description = TextAreaField(
        _l("What the business does"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    household_size = IntegerField(
        _l("People in the household"),
        validators=[
            InputRequired(message=_l("Enter the number of people in the household.")),
            NumberRange(min=1, max=30, message=_l("A household has 1 to 30 people.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    monthly_income = monthly_amount(_l("Monthly income (yuan)"))
    monthly_expenses = monthly_amount(_l("Monthly expenses (yuan)"))
    guarantor_name = StringField(
        _l("Guarantor's name"),
        validators=[_required(_l("Enter the guarantor's name.")), Length(max=50), person_name],
    )
    guarantor_phone = StringField(
        _l("Guarantor's phone"),
        validators=[_required(_l("Enter the guarantor's phone number."))],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    birthday_calendar = RadioField(
        _l("Birthday greetings follow the"),
        choices=choices((c.value, BIRTHDAY_CALENDAR_LABELS[c]) for c in BirthdayCalendar),
        default=BirthdayCalendar.GREGORIAN.value,
        validators=[_required(_l("Choose a calendar."))],
    )

    def __init__(self, *args, user: User, borrower: Borrower | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.borrower = borrower

    def keeps(self, name: str) -> bool:
        """Whether the stored value of ``name`` stays (the edit form's empty phone fields)."""
        return False

    def value_of(self, name: str):
        """What ``name`` will hold after saving."""
        return self[name].data

    def validate_mobile(self, field):
        if self.keeps("mobile"):
            return
        try:
            field.data = check_mobile(field.data)
        except InvalidValueError as error:
            raise ValidationError(error.message) from None
        existing = queries.registered_with(mobile=field.data)
        if existing is not None and existing is not self.borrower:
            raise ValidationError(_duplicate_message(existing, self.user, _l("This mobile number")))
        own_login = self.borrower.user_id if self.borrower else None
        if queries.login_name_taken(field.data, except_user_id=own_login):
            raise ValidationError(_l("This mobile number is already used by another login."))

    def validate_guarantor_phone(self, field):
        if not self.keeps("guarantor_phone"):
            try:
                field.data = check_phone(field.data)
            except InvalidValueError as error:
                raise ValidationError(error.message) from None
        if self.value_of("guarantor_phone") == self.value_of("mobile"):
            raise ValidationError(_l("The guarantor needs a phone number of their own."))

    def profile(self) -> dict:
        """The editable profile values, typed for the model."""
        return {
            "mobile": self.value_of("mobile"),
            "address": self.address.data.strip(),
            "village": self.village.data.strip(),
            "business_type": BusinessType(self.business_type.data),
            "business_description": (self.business_description.data or "").strip(),
            "household_size": self.household_size.data,
            "monthly_income": self.monthly_income.data,
            "monthly_expenses": self.monthly_expenses.data,
            "guarantor_name": self.guarantor_name.data,
            "guarantor_phone": self.value_of("guarantor_phone"),
            "birthday_calendar": BirthdayCalendar(self.birthday_calendar.data),
        }


class OnboardingForm(ProfileForm):
    """A new borrower, as the loan officer takes them in."""

    full_name = StringField(
        _l("Full name"),
        validators=[_required(_l("Enter the full name.")), Length(max=50), person_name],
    )
    resident_id = StringField(
        _l("Resident ID number"),
        validators=[_required(_l("Enter the 18-character resident ID number."))],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    birth_date = SaneDateField(
        _l("Birth date"),
        validators=[InputRequired(message=_l("Enter the birth date."))],
    )
    sex = RadioField(
        _l("Sex"),
        choices=choices((s.value, SEX_LABELS[s]) for s in Sex),
        validators=[_required(_l("Choose the sex."))],
    )
    officer_id = SelectField(
        _l("Loan officer"), validators=[_required(_l("Choose the loan officer."))]
    )
    id_card_photo = FileField(
        _l("Photo of the ID card (optional)"),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    # One decision per purpose (portal/privacy/texts.py), read out and ticked on paper:
    # the loan's is required, the optional ones are left unticked unless the borrower agrees.
    consent = BooleanField(
        _l("The borrower agrees to the processing for the loan (required)."),
        validators=[_required(_l("The borrower's separate consent is required to register them."))],
    )
    consent_greetings = BooleanField(_l("The borrower agrees to care greetings by SMS."))
    consent_networking = BooleanField(
        _l("The borrower agrees that their business profile is shown for networking.")
    )
    consent_photos = BooleanField(_l("The borrower agrees to photos on visits."))
    consent_surveys = BooleanField(_l("The borrower agrees to satisfaction surveys."))
    submit = SubmitField(_l("Register borrower"))

    def __init__(self, *args, officers: list[User] | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = None
        self.photo = None
        self.officers = {o.id: o for o in officers or []}
        if officers is None:
            del self.officer_id  # an officer registers their own borrowers
        else:
            self.officer_id.choices = choices(
                [("", _l("— choose —"))] + [(o.id, officer_label(o)) for o in officers]
            )

    def validate_resident_id(self, field):
        today = local_today()
        self.resident = parse_resident_id(field, today)
        check_adult_and_new(self.resident, self.user, today)

    def validate_id_card_photo(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        try:
            self.photo = reencode_photo(upload.stream)
        except InvalidValueError as error:
            raise ValidationError(error.message) from None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.resident is None:
            return valid
        return agrees_with_id(self.resident, self.birth_date, self.sex) and valid

    def profile(self) -> dict:
        return super().profile() | {
            "full_name": self.full_name.data,
            "resident_id": self.resident.number,
            "birth_date": self.resident.birth_date,
            "sex": self.resident.sex,
        }

    def consent_fields(self) -> list[tuple[Purpose, BooleanField]]:
        """The consent checkboxes by purpose, the loan's first."""
        return [(purpose, self[CONSENT_FIELDS[purpose]]) for purpose in Purpose]

    def consents(self) -> dict[Purpose, bool]:
        """The borrower's decision on every purpose, as ``operations.onboard`` records it."""
        return {purpose: bool(field.data) for purpose, field in self.consent_fields()}

    @property
    def officer(self) -> User | None:
        """The officer a head or admin chose; None when an officer registers for themself."""
        return self.officers[int(self.officer_id.data)] if "officer_id" in self else None


CONSENT_FIELDS = {
    Purpose.LOAN: "consent",
    Purpose.GREETINGS: "consent_greetings",
    Purpose.NETWORKING: "consent_networking",
    Purpose.PHOTOS: "consent_photos",
    Purpose.SURVEYS: "consent_surveys",
}


# The onboarding rules of an ID number, shared with the correction of identity fields
# (portal/borrowers/identity.py): valid, an adult's, not registered to someone else, and
# agreeing with the birth date and sex typed beside it.


def parse_resident_id(field, today) -> ResidentId:
    """The checked ID number typed in ``field`` (normalised there), or a ValidationError."""
    try:
        resident = check_resident_id(field.data, today)
    except InvalidValueError as error:
        raise ValidationError(error.message) from None
    field.data = resident.number
    return resident


def check_adult_and_new(
    resident: ResidentId, user: User, today, borrower: Borrower | None = None
) -> None:
    """An adult's ID, registered to nobody (but ``borrower``), or a ValidationError."""
    if _age(resident.birth_date, today) < ADULT_AGE:
        raise ValidationError(_l("The borrower must be at least 18 years old."))
    existing = queries.registered_with(resident_id=resident.number)
    if existing is not None and existing is not borrower:
        raise ValidationError(_duplicate_message(existing, user, _l("This ID number")))


def agrees_with_id(resident: ResidentId, birth_date, sex) -> bool:
    """Whether the birth date and sex fields agree with the ID; errors beside them if not."""
    valid = True
    # The ID encodes birth date and sex: a mismatch means a mistyped digit.
    if birth_date.data and birth_date.data != resident.birth_date:
        birth_date.errors.append(
            _l(
                "The birth date does not match the ID number, which says %(date)s. Please check both.",
                date=resident.birth_date.isoformat(),
            )
        )
        valid = False
    if sex.data and sex.data != resident.sex.value:
        sex.errors.append(
            _l("The sex does not match the ID number (its 17th digit). Please check both.")
        )
        valid = False
    return valid


def _age(birth_date, today) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


# Numbers the edit form never fills in: the full values are shown only by the audited
# reveal on the detail page. Left empty, the stored number stays.
UNSHOWN_NUMBERS = ("mobile", "guarantor_phone")


class EditForm(ProfileForm):
    """Changes to a borrower's contact, business, household and greeting details.

    Consents are not edited here: a decision has its own page (``borrowers.consents``),
    which records how and when it was made.
    """

    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in UNSHOWN_NUMBERS:
            field = self[name]
            field.validators = [v for v in field.validators if not isinstance(v, DataRequired)]
            field.flags.required = False
            field.render_kw = (field.render_kw or {}) | {
                "placeholder": mask_phone(getattr(self.borrower, name))
            }
            if not self.is_submitted():
                field.data = ""  # not the stored number, which ``obj`` filled in

    def keeps(self, name: str) -> bool:
        return name in UNSHOWN_NUMBERS and not (self[name].data or "").strip()

    def value_of(self, name: str):
        return getattr(self.borrower, name) if self.keeps(name) else self[name].data

    @property
    def expected_version(self) -> int:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return -1


class FilterForm(FlaskForm):
    """The search box and filters of the borrower lists.

    The page posts it (CSRFProtect checks the token): a search without a number is then
    redirected to its GET address, one with a phone or ID number is answered directly.
    """

    class Meta:
        csrf = False

    q = StringField(_l("Name, pinyin initials, or last digits of phone or ID"))
    status = SelectField(
        _l("Loan status"),
        choices=choices(
            [("", _l("Any"))] + [(s.value, lbl) for s, lbl in LOAN_STATUS_LABELS.items()]
        ),
        validate_choice=False,
    )
    officer = SelectField(_l("Loan officer"), validate_choice=False)
    tier = SelectField(
        _l("Tier"),
        choices=choices([("", _l("Any"))] + [(t.value, lbl) for t, lbl in TIER_LABELS.items()]),
        validate_choice=False,
    )
    submit = SubmitField(_l("Search"))

    def __init__(self, *args, officers: list[User] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if officers is None:
            del self.officer
        else:
            self.officer.choices = choices(
                [("", _l("Any"))] + [(o.id, o.display_name) for o in officers]
            )

    def holds_number(self) -> bool:
        """Whether the search text may hold a phone or ID number, which no URL may carry."""
        return holds_number(self.q.data)

    def args(self, numbers: bool = False) -> dict:
        """The filled-in filters; the search text only with ``numbers`` or when it holds none."""
        values = {
            "q": (self.q.data or "").strip()[:50],
            "status": self.status.data,
            "officer": self.officer.data if "officer" in self else None,
            "tier": self.tier.data,
        }
        if self.holds_number() and not numbers:
            del values["q"]
        return {name: value for name, value in values.items() if value}

    def wanted(self) -> queries.BorrowerFilter:
        """The filter asked for; unknown values are ignored rather than refused."""
        text = (self.q.data or "").strip()[:50]
        if self.holds_number():
            text = "".join(text.split()).replace("-", "")  # typed as read: 139 1234 5678
        return queries.BorrowerFilter(
            text=text,
            loan_status=_enum_or_none(LOAN_STATUS_LABELS, self.status.data),
            officer_id=optional_id(self.officer.data) if "officer" in self else None,
            tier=_enum_or_none(TIER_LABELS, self.tier.data),
        )


def _enum_or_none(labels: dict, value):
    return next((member for member in labels if member.value == value), None)


class ReassignForm(FlaskForm):
    """Move the ticked borrowers to another officer of their branch."""

    borrower_ids = SelectMultipleField(_l("Borrowers"), coerce=id_number, validate_choice=False)
    officer_id = SelectField(
        _l("New loan officer"), validators=[_required(_l("Choose the new loan officer."))]
    )
    reason = StringField(
        _l("Reason"),
        validators=[_required(_l("Give a reason for the change.")), Length(max=200)],
    )
    submit = SubmitField(_l("Reassign"))

    def __init__(self, *args, officers: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.officers = {o.id: o for o in officers}
        self.officer_id.choices = choices(
            [("", _l("— choose —"))] + [(o.id, officer_label(o)) for o in officers]
        )

    def validate_borrower_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one borrower."))

    @property
    def officer(self) -> User:
        return self.officers[int(self.officer_id.data)]


class ConsentDecisionForm(FlaskForm):
    """Staff record a decision the borrower made on paper: give or withdraw one consent."""

    purpose = SelectField(
        _l("Purpose"),
        choices=choices((p.value, p.value) for p in Purpose),
        validators=[_required(_l("Choose a purpose."))],
    )
    decision = RadioField(
        _l("The borrower"),
        choices=choices([("give", _l("gives the consent")), ("withdraw", _l("withdraws it"))]),
        validators=[_required(_l("Choose whether the borrower gives or withdraws the consent."))],
    )
    submit = SubmitField(_l("Record the paper decision"))

    @property
    def chosen_purpose(self) -> Purpose:
        return Purpose(self.purpose.data)

    @property
    def give(self) -> bool:
        return self.decision.data == "give"


class ActivationForm(FlaskForm):
    """A borrower sets their own password with the code the officer handed over."""

    mobile = StringField(
        _l("Mobile number"),
        validators=[_required(_l("Enter your mobile number.")), Length(max=32)],
        render_kw={"inputmode": "tel", "autocomplete": "username"},
    )
    code = StringField(
        _l("Activation code"),
        validators=[_required(_l("Enter the activation code.")), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
    )
    new_password = PasswordField(
        _l("New password"), validators=PASSWORD_RULES, render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set my password"))

    def normalized_mobile(self) -> str:
        """The mobile number as stored, or "" when it cannot be one (answered generically)."""
        try:
            return check_mobile(self.mobile.data)
        except InvalidValueError:
            return ""


class IdentityForm(FlaskForm):
    """A head corrects the name, ID number, birth date or sex (portal/borrowers/identity.py).

    The fields are onboarding's, with its rules. The ID number and birth date are not
    filled in (the masked ID hides the birth date): left empty, the stored ones stay.
    """

    full_name = OnboardingForm.full_name
    resident_id = StringField(
        _l("Resident ID number (leave empty to keep it)"),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    birth_date = SaneDateField(_l("Birth date (leave empty to keep it)"), validators=[Optional()])
    sex = OnboardingForm.sex
    reason = TextAreaField(
        _l("Reason for the correction"),
        validators=[_required(_l("Give the reason for the correction.")), Length(max=500)],
        render_kw={"rows": 2},
    )
    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Correct the record"))

    def __init__(self, *args, user: User, borrower: Borrower, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.borrower = borrower
        self.resident = None
        self.resident_id.render_kw = self.resident_id.render_kw | {
            "placeholder": mask_resident_id(borrower.resident_id)
        }
        if not self.is_submitted():
            self.resident_id.data = ""
            self.birth_date.data = None

    def validate_resident_id(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            return
        today = local_today()
        self.resident = parse_resident_id(field, today)
        check_adult_and_new(self.resident, self.user, today, borrower=self.borrower)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        resident = self.resident
        if resident is None and not self.resident_id.data and self.borrower.resident_id:
            try:  # the stored ID, which a corrected birth date or sex must agree with
                resident = check_resident_id(self.borrower.resident_id)
            except InvalidValueError:
                resident = None
        if resident is None:
            return valid
        if self.resident is not None and not self.birth_date.data:
            # A new ID is checked against the birth date typed beside it, as at onboarding.
            self.birth_date.errors.append(_l("Enter the birth date."))
            valid = False
        return agrees_with_id(resident, self.birth_date, self.sex) and valid

    @property
    def expected_version(self) -> int:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return -1

    def wanted(self) -> dict:
        """The identity the record should have: the typed values, the stored ones kept."""
        return {
            "full_name": self.full_name.data,
            "resident_id": self.resident.number if self.resident else self.borrower.resident_id,
            "birth_date": self.birth_date.data or self.borrower.birth_date,
            "sex": Sex(self.sex.data),
        }
