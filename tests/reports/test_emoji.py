"""Emoji typed by users print as drawings, not as empty boxes (issue 20).

Rendered on a machine whose fontconfig knows only DejaVu (no emoji font of the system),
each emoji on its own page, then drawn to PNG with pdftoppm and compared with the
rendering of a character no font has: the missing-glyph box.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from tests.browser.fixtures import ARTIFACTS

# 🐷 🌾 👍 🙂 are not in DejaVu Sans nor in the CJK font; U+E000 is in no font at all.
EMOJI = ("\U0001f437", "\U0001f33e", "\U0001f44d", "\U0001f642")
MISSING = "\ue000"

SCRIPT = """
import sys
from flask import render_template_string
from portal import create_app
from portal.reports.rendering import renderer

app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.test_request_context():
    html = render_template_string(
        "{% for text in texts %}<p style='font-size: 48pt; page-break-after: always'>"
        "{{ text }}</p>{% endfor %}",
        texts=sys.argv[1:],
    )
    sys.stdout.buffer.write(renderer().render_html(html))
"""


def _render_pages(tmp_path, texts) -> Path:
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *texts],
        env={"FONTCONFIG_FILE": str(config), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    pdf = tmp_path / "emoji.pdf"
    pdf.write_bytes(result.stdout)
    return pdf


def test_emoji_print_as_drawings_not_as_the_missing_glyph_box(tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm missing: run `make test` (installs poppler-utils)")
    pdf = _render_pages(tmp_path, [MISSING, *EMOJI])
    # The top of each page, where the one line of text is, as a PNG.
    crop = ["-r", "60", "-x", "0", "-y", "0", "-W", "496", "-H", "200"]
    subprocess.run(["pdftoppm", "-png", *crop, str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 1 + len(EMOJI)
    box = Image.open(pages[0]).convert("L")
    assert ImageChops.invert(box).getbbox() is not None  # the box itself is drawn
    for emoji, path in zip(EMOJI, pages[1:], strict=True):
        drawn = Image.open(path).convert("L")
        assert ImageChops.invert(drawn).getbbox() is not None, f"{emoji!r} printed nothing"
        assert ImageChops.difference(box, drawn).getbbox() is not None, (
            f"{emoji!r} printed as the missing-glyph box"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pages[1], ARTIFACTS / "emoji-pig.png")
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(pdf).pages[1:]
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("Portal-Symbols" in name for name in fonts), fonts
