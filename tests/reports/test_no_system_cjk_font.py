"""Chinese prints from our own font on a machine that has no CJK font installed."""

import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

SCRIPT = """
import sys
from flask import render_template_string
from portal import create_app
from portal.reports.rendering import renderer

app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.test_request_context():
    html = render_template_string(
        "<h1>贷后跟踪调查表</h1><p>借款人：王小明</p>"
        "<svg width='200' height='40'><text x='5' y='30'>风险分布</text></svg>"
    )
    sys.stdout.buffer.write(renderer().render_html(html))
"""


def test_chinese_needs_no_system_font(tmp_path):
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    config = tmp_path / "fonts.conf"
    # A fontconfig that knows only DejaVu: no CJK font but ours.
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={"FONTCONFIG_FILE": str(config), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(result.stdout)
    page = PdfReader(pdf).pages[0]
    text = page.extract_text()
    assert "贷后跟踪调查表" in text and "王小明" in text and "风险分布" in text
    fonts = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert any("Portal-CJK" in name for name in fonts), fonts
    assert not any("WenQuanYi" in name or "Noto" in name for name in fonts), fonts
