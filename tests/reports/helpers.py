"""Reading the PDFs back: text, pages, fonts, images; page one as a PNG to look at."""

import io
import logging
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.browser.fixtures import ARTIFACTS


def pdf_of(response) -> bytes:
    """The body of a PDF download, after checking the download headers."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")
    return response.data


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """All pages' text without whitespace: a line may break anywhere in CJK text."""
    return squeeze("".join(page.extract_text() for page in reader(pdf).pages))


def squeeze(text: str) -> str:
    return "".join(text.split())


def assert_printed(text: str, expected: list[str]) -> None:
    """Each expected string is in the squeezed ``text``."""
    for item in expected:
        assert squeeze(item) in text, item


def page_texts(pdf: bytes) -> list[str]:
    return [squeeze(page.extract_text()) for page in reader(pdf).pages]


def fonts_of(pdf: bytes) -> set[str]:
    names = set()
    for page in reader(pdf).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def _images(resources) -> set:
    found = set()
    for reference in resources.get("/XObject", {}).values():
        xobject = reference.get_object()
        if xobject["/Subtype"] == "/Image":
            found.add(reference.idnum)
        elif "/Resources" in xobject:  # a form XObject may hold the image
            found |= _images(xobject["/Resources"].get_object())
    return found


def images_on(pdf: bytes, page: int = 0) -> int:
    """Image XObjects in a page's resources (the drawn signature is one)."""
    return len(_images(reader(pdf).pages[page]["/Resources"]))


def images_in(pdf: bytes) -> int:
    """Distinct image XObjects in the whole document."""
    return len(set().union(*(_images(page["/Resources"]) for page in reader(pdf).pages)))


def assert_cjk_font_embedded(pdf: bytes) -> None:
    # A subset font's name carries a six-letter tag: ABCDEF+Portal-CJK.
    fonts = fonts_of(pdf)
    assert any("+Portal-CJK" in name for name in fonts), fonts


def save_page_one(pdf: bytes, name: str) -> None:
    """Page one as a PNG in tests/artifacts/ (CI keeps them) for a person to look at."""
    save_page(pdf, name, 1)


def save_page(pdf: bytes, name: str, number: int) -> None:
    """One page as a PNG in tests/artifacts/ for a person to look at."""
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm missing: run `make test` (installs poppler-utils)")
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    page = ["-png", "-r", "70", "-f", str(number), "-l", str(number), "-singlefile"]
    subprocess.run(["pdftoppm", *page, str(source), str(ARTIFACTS / name)], check=True)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000


def exports(app, action: str) -> list[AuditEntry]:
    """Audit entries of one kind of export, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def english(client) -> None:
    """Switch the logged-in user's language to English."""
    client.submit("/account", {"locale": "en"})


class LogRecords(logging.Handler):
    """WeasyPrint's log while rendering; works also with pytest's logging plugin off."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> "LogRecords":
        logging.getLogger("weasyprint").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("weasyprint").removeHandler(self)
