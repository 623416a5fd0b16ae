"""Forms for editing training material and for the borrower's sign-off."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.core.forms import choices
from portal.training.models import TrainingMaterial
from portal.training.queries import MATERIAL_CHANGED
from portal.training.signature import SignatureError, decode_signature

BLANK_SECTIONS = 2
BLANK_QUESTIONS = 2
MAX_OPTIONS = 6
REQUIRED = _l("Fill in this field.")


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class _Entry(Form):
    """A repeated block that may be left empty (ignored) or ticked for removal."""

    remove = BooleanField(_l("Remove"))
    required = ()

    def is_blank(self) -> bool:
        return self.remove.data or not any(
            (getattr(self, name).data or "").strip() for name in self.required
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        for name in self.required:
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors = [*field.errors, REQUIRED]
                valid = False
        return self.check_entry() and valid

    def check_entry(self) -> bool:
        return True


class SectionEntry(_Entry):
    """One section: heading and text in both languages."""

    heading_zh = StringField(_l("Heading (Chinese)"), validators=[Length(max=200)])
    heading_en = StringField(_l("Heading (English)"), validators=[Length(max=200)])
    body_zh = TextAreaField(
        _l("Text (Chinese)"), validators=[Length(max=20000)], render_kw={"rows": 8}
    )
    body_en = TextAreaField(
        _l("Text (English)"), validators=[Length(max=20000)], render_kw={"rows": 8}
    )
    required = ("heading_zh", "heading_en", "body_zh", "body_en")

    def values(self) -> dict:
        return {name: getattr(self, name).data.strip() for name in self.required}


class QuestionEntry(_Entry):
    """One multiple-choice question; options one per line, in the same order in both languages."""

    text_zh = TextAreaField(_l("Question (Chinese)"), validators=[Length(max=1000)])
    text_en = TextAreaField(_l("Question (English)"), validators=[Length(max=1000)])
    options_zh = TextAreaField(
        _l("Options (Chinese), one per line"),
        validators=[Length(max=3000)],
        render_kw={"rows": 4},
    )
    options_en = TextAreaField(
        _l("Options (English), one per line"),
        validators=[Length(max=3000)],
        render_kw={"rows": 4},
    )
    correct = IntegerField(_l("Number of the correct option"), validators=[Optional()])
    required = ("text_zh", "text_en", "options_zh", "options_en")

    def check_entry(self) -> bool:
        zh, en = _lines(self.options_zh.data), _lines(self.options_en.data)
        if not 2 <= len(zh) <= MAX_OPTIONS or len(zh) != len(en):
            self.options_en.errors = [
                *self.options_en.errors,
                _l("Give 2 to 6 options, the same number in Chinese and in English."),
            ]
            return False
        if self.correct.data is None or not 1 <= self.correct.data <= len(zh):
            self.correct.errors = [
                *self.correct.errors,
                _l("Enter the number of the correct option (1 to %(count)s).", count=len(zh)),
            ]
            return False
        return True

    def values(self) -> dict:
        options = zip(_lines(self.options_zh.data), _lines(self.options_en.data), strict=True)
        return {
            "text_zh": self.text_zh.data.strip(),
            "text_en": self.text_en.data.strip(),
            "options": [{"zh": zh, "en": en} for zh, en in options],
            "correct_option": self.correct.data - 1,
        }


class MaterialForm(FlaskForm):
    """A version of the material: titles, pass mark, sections and questions."""

    title_zh = StringField(
        _l("Title (Chinese)"), validators=[InputRequired(message=REQUIRED), Length(max=200)]
    )
    title_en = StringField(
        _l("Title (English)"), validators=[InputRequired(message=REQUIRED), Length(max=200)]
    )
    pass_mark_percent = IntegerField(
        _l("Pass mark (%)"),
        default=80,
        validators=[
            InputRequired(message=_l("Enter a pass mark from 1 to 100.")),
            NumberRange(min=1, max=100, message=_l("Enter a pass mark from 1 to 100.")),
        ],
    )
    sections = FieldList(FormField(SectionEntry))
    questions = FieldList(FormField(QuestionEntry))
    submit = SubmitField(_l("Save draft"))

    def add_blank_entries(self) -> None:
        """Empty slots to add sections and questions without any script."""
        for _ in range(BLANK_SECTIONS):
            self.sections.append_entry()
        for _ in range(BLANK_QUESTIONS):
            self.questions.append_entry()

    def content(self) -> dict:
        """The submitted version as keyword arguments of the operations."""
        return {
            "title_zh": self.title_zh.data,
            "title_en": self.title_en.data,
            "pass_mark_percent": self.pass_mark_percent.data,
            "sections": [e.form.values() for e in self.sections if not e.form.is_blank()],
            "questions": [e.form.values() for e in self.questions if not e.form.is_blank()],
        }


def material_form_data(material: TrainingMaterial) -> dict:
    """A stored version as form data (to edit it, or to start the next version from it)."""
    return {
        "title_zh": material.title_zh,
        "title_en": material.title_en,
        "pass_mark_percent": material.pass_mark_percent,
        "sections": [
            {name: getattr(s, name) for name in SectionEntry.required} for s in material.sections
        ],
        "questions": [
            {
                "text_zh": q.text_zh,
                "text_en": q.text_en,
                "options_zh": "\n".join(option["zh"] for option in q.options),
                "options_en": "\n".join(option["en"] for option in q.options),
                "correct": q.correct_option + 1,
            }
            for q in material.questions
        ],
    }


class SignoffForm(FlaskForm):
    """Answers and the drawn signature; one radio field per question is added at runtime."""

    material_id = HiddenField()
    signature = HiddenField()
    submit = SubmitField(_l("Sign and submit"))

    signature_png: bytes | None = None

    def validate_material_id(self, field):
        # The page was read before a newer version was published: its answers
        # and signature belong to the old text.
        if field.data != str(self.material.id):
            raise ValidationError(MATERIAL_CHANGED)

    def validate_signature(self, field):
        try:
            self.signature_png = decode_signature(field.data)
        except SignatureError as problem:
            raise ValidationError(problem.message) from None

    def question_fields(self):
        """The (question, radio field) pairs, in the material's order."""
        return [(q, self[f"q{q.id}"]) for q in self.material.questions]

    def chosen(self) -> dict[int, int]:
        """Question id → chosen option index."""
        return {question.id: int(field.data) for question, field in self.question_fields()}


def signoff_form(material: TrainingMaterial, language: str) -> SignoffForm:
    """The sign-off form for ``material``, its questions in ``language``."""

    class QuestionsForm(SignoffForm):
        pass

    for question in material.questions:
        options = [(index, option[language]) for index, option in enumerate(question.options)]
        field = RadioField(
            getattr(question, f"text_{language}"),
            choices=choices(options),
            validators=[InputRequired(message=_l("Choose an answer."))],
        )
        setattr(QuestionsForm, f"q{question.id}", field)
    form = QuestionsForm(material_id=str(material.id))
    form.material = material
    return form
