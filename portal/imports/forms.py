"""The upload of a repayments file."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from portal.imports.reading import MAX_FILE_BYTES

ACCEPTED = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(FlaskForm):
    """A CSV or Excel file exported from the lending system."""

    file = FileField(
        _l("Repayments file (CSV or Excel .xlsx)"),
        validators=[FileRequired(message=_l("Choose the file to import."))],
        render_kw={"accept": ACCEPTED},
    )
    submit = SubmitField(_l("Preview"))

    def content(self) -> bytes:
        """The file's bytes, read no further than one byte past the limit."""
        return self.file.data.read(MAX_FILE_BYTES + 1)

    def filename(self) -> str:
        return self.file.data.filename or ""
