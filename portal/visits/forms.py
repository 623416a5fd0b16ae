"""The follow-up visit form and the head's acknowledgement of a red warning."""

import re
from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    DateTimeLocalField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from portal.core.calendar import company_tz
from portal.core.forms import choices
from portal.core.once import OnceTokenField
from portal.privacy import consents
from portal.privacy.models import Purpose
from portal.visits import capture, signing
from portal.visits import photos as visit_photos
from portal.visits.kinds import clean_text
from portal.visits.models import Visit
from portal.visits.operations import (
    PHOTOS_WITHOUT_CONSENT,
    VisitAnswers,
    VisitEvidence,
    VisitRefusedError,
    check_visit_time,
)
from portal.visits.questions import QUESTIONS

# One field per declared question (portal/visits/questions.py), in a mixin.
QuestionFields = type(
    "QuestionFields",
    (),
    {
        "__doc__": "The fields asking the declared questions.",
        **{question.name: question.field() for question in QUESTIONS},
    },
)


class PhotoField(Field):
    """One photo of the visit: a file from the tablet's camera (the online form), an image
    data URL (the field kit's entry, or a photo kept when the form was refused), or
    ``original:<position>``, a photo of the visit being amended, kept as it was stored.

    ``data`` is the upload's bytes, or None; ``original_position`` the amended visit's
    photo; ``prepared`` is what the server made of either (portal/visits/photos.py) once
    the form validated it.
    """

    prepared: visit_photos.PreparedPhoto | None = None
    original_position: int | None = None

    def process_data(self, value):
        self.data = None
        self.original_position = _original_position(value)

    def process_formdata(self, valuelist):
        self.data = None
        self.original_position = None
        for value in valuelist:  # a new file wins over a kept photo of the same slot
            if isinstance(value, FileStorage) and value.filename:
                self.data = value.stream.read(visit_photos.MAX_UPLOAD_BYTES + 1)
                return
        for value in valuelist:
            if isinstance(value, str) and value:
                self.original_position = _original_position(value)
                if self.original_position is None:
                    # "-": not an image data URL, refused as not a photo.
                    self.data = visit_photos.from_data_url(value) or b"-"
                return

    def kept(self) -> tuple[str, str] | None:
        """(photo, thumbnail) as data URLs, when the form is shown again with this photo valid."""
        if self.prepared is None or self.data is None:
            return None
        return visit_photos.kept_data_url(self.prepared), visit_photos.thumb_data_url(self.prepared)


def _original_position(value) -> int | None:
    if isinstance(value, str) and (match := ORIGINAL_PHOTO.fullmatch(value)):
        return int(match.group(1))
    return None


ORIGINAL_PHOTO = re.compile(r"original:([0-5])")


class PhotoFields:
    """Up to six photos, each with what it shows (``photo_1`` … ``photo_6``, ``photo_kind_1`` …).

    ``photos_allowed`` False (the borrower's consent to photos is not given): a photo sent
    all the same is refused beside its slot, never silently dropped.
    """

    photos_allowed = True

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return self._prepare_photos() and valid

    def photo_slots(self) -> list[tuple[PhotoField, SelectField]]:
        """(photo, kind) field pairs, in the form's order."""
        return [(self[f"photo_{n}"], self[f"photo_kind_{n}"]) for n in PHOTO_SLOTS]

    def _prepare_photos(self) -> bool:
        """Decode every attached photo (side by side); a refusal goes beside its photo.

        A photo of the visit being amended is kept as it was stored (not decoded again).
        """
        valid = True
        if not self.photos_allowed:
            for photo, _kind in self.photo_slots():
                if photo.data is not None or photo.original_position is not None:
                    photo.errors = [*photo.errors, PHOTOS_WITHOUT_CONSENT]
                    valid = False
            return valid
        original = getattr(self, "original", None)
        stored = visit_photos.photos_of(original) if original is not None else {}
        for photo, kind in self.photo_slots():
            if photo.data is None and photo.original_position in stored:
                try:
                    photo.prepared = visit_photos.copy_of(
                        stored[photo.original_position], kind.data
                    )
                except visit_photos.PhotoRefused as refusal:
                    photo.errors = [*photo.errors, refusal.message]
                    valid = False
        filled = [(photo, kind) for photo, kind in self.photo_slots() if photo.data]
        results = visit_photos.prepare_many(
            [(photo.data, kind.data, photo.name) for photo, kind in filled]
        )
        for (photo, _kind), result in zip(filled, results, strict=True):
            if isinstance(result, visit_photos.PhotoRefused):
                photo.errors = [*photo.errors, result.message]
                valid = False
            else:
                photo.prepared = result
        return valid

    def prepared_photos(self) -> tuple[visit_photos.PreparedPhoto, ...]:
        """The validated photos, in the form's order, as the operation stores them."""
        return tuple(photo.prepared for photo, _kind in self.photo_slots() if photo.prepared)


PHOTO_SLOTS = range(1, visit_photos.MAX_PHOTOS + 1)
# The kind each slot offers first: the business, its stock, the collateral, the guarantor.
_SLOT_KINDS = ("business", "stock", "collateral", "guarantor", "other", "other")
for _n in PHOTO_SLOTS:
    setattr(PhotoFields, f"photo_{_n}", PhotoField(_l("Photo %(number)d", number=_n)))
    setattr(
        PhotoFields,
        f"photo_kind_{_n}",
        SelectField(
            _l("What the photo shows"),
            choices=choices(visit_photos.PHOTO_KINDS.items()),
            default=_SLOT_KINDS[_n - 1],
            validate_choice=False,  # checked with the photo it belongs to (photos.prepare)
        ),
    )


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


class VisitForm(QuestionFields, PhotoFields, FlaskForm):
    """The post-loan follow-up form (贷后跟踪调查表): when and where, the declared
    questions, and the borrower's signature."""

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
        filters=[clean_text],
    )
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()
    # The evidence of the visit (docs/visit-evidence.md), filled by the page's script:
    # the tablet's clock when the form opened and when the borrower signed, what the
    # tablet said of its position; the server's own opening time, signed when served.
    opened_at = HiddenField()
    signed_at_device = HiddenField()
    location_status = HiddenField()
    opened_token = HiddenField()
    place_note = StringField(
        _l("Why the visit was not at the borrower's site"),
        validators=[_text(300)],
        filters=[clean_text],
    )

    signature = HiddenField(_l("Borrower's signature"))
    submit = SubmitField(_l("Sign and save the visit"))

    signature_png: bytes | None = None

    def __init__(
        self,
        *args,
        original: Visit | None = None,
        opened_for: str | None = None,
        consented: frozenset[Purpose] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # The borrower's consents (``consented_purposes``): a question needing one not
        # given is not asked, and photos are refused. None: not known (the field kit's
        # offline page, which hides them from the kit's data instead).
        self.consented = consented
        if consented is not None:
            self.photos_allowed = Purpose.PHOTOS in consented
            for question in QUESTIONS:
                if question.consent is not None and question.consent not in consented:
                    del self[question.name]
        self.original = original
        # What the server's opening token is bound to (capture.opened_subject); None: the
        # form was not served by the server (the field kit), any token is ignored.
        self.opened_for = opened_for

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

    def evidence(self) -> VisitEvidence:
        """The visit's evidence as the operation takes it."""
        return VisitEvidence(
            opened_at=capture.device_time(self.opened_at.data),
            opened_at_server=capture.opened_at_server(self.opened_token.data, self.opened_for),
            signed_at_device=capture.device_time(self.signed_at_device.data),
            location_status=capture.location_status(
                self.location_status.data, self.location()[0] is not None
            ),
            place_note=self.place_note.data or "",
            photos=self.prepared_photos(),
        )

    def answers(self) -> VisitAnswers:
        """The validated input as the operation takes it."""
        latitude, longitude, accuracy = self.location()
        return VisitAnswers(
            visited_at=self.visited_at.data.astimezone(UTC),
            place=self.place.data,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy,
            # A question not asked (no consent) has no answer.
            **{
                q.name: q.kind.from_form(self[q.name].data) if q.name in self else None
                for q in QUESTIONS
            },
        )

    def not_asked(self) -> list:
        """The questions left out for want of the borrower's consent."""
        return [q for q in QUESTIONS if q.name not in self]


def consented_purposes(borrower_id: int) -> frozenset[Purpose]:
    """The purposes the borrower consents to now, as ``VisitForm(consented=...)`` takes them."""
    return frozenset(
        purpose for purpose, consent in consents.current(borrower_id).items() if consent.given
    )


def prefill_from(visit: Visit) -> dict:
    """Form data copied from a signed visit, for its amendment (the signature is not copied)."""
    return {
        "visited_at": visit.visited_at,
        "place": visit.place,
        "latitude": "" if visit.latitude is None else f"{visit.latitude:.6f}",
        "longitude": "" if visit.longitude is None else f"{visit.longitude:.6f}",
        "accuracy": "" if visit.accuracy_m is None else str(visit.accuracy_m),
        # The amendment corrects the record of the same visit: its position's status and
        # the note on the place go with the position (the opening time is the new form's).
        "location_status": visit.location_status or "",
        "place_note": visit.place_note or "",
        **{q.name: q.kind.to_form(getattr(visit, q.name)) for q in QUESTIONS},
        # The photos stay with the amendment unless the officer removes or replaces them.
        **{
            name: value
            for number, photo in enumerate(visit.photos, start=1)
            for name, value in (
                (f"photo_{number}", f"original:{photo.position}"),
                (f"photo_kind_{number}", photo.kind),
            )
        },
    }


class AcknowledgeForm(FlaskForm):
    """The branch head records the action taken on a red visit."""

    action_taken = TextAreaField(
        _l("Action taken"),
        validators=[
            InputRequired(message=_l("Describe the action taken on this warning.")),
            Length(max=2000, message=_l("Keep this under %(max)d characters.", max=2000)),
        ],
        filters=[clean_text],
    )
    submit = SubmitField(_l("Acknowledge the warning"))

    def validate_action_taken(self, field):
        if not field.data:
            raise ValidationError(_l("Describe the action taken on this warning."))
