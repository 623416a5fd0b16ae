"""The PDF renderer: our CJK font embedded, only our own files fetched, text stays text."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import render_template_string
from pypdf import PdfReader

from portal.reports.rendering import (
    RefusedURLError,
    make_url_fetcher,
    narrowed_user_agent_css,
    renderer,
)
from tests.browser.fixtures import ARTIFACTS
from tests.reports.helpers import LogRecords, images_on

PAGE = """<!doctype html><html><body>
<h1>{{ title }}</h1><p>{{ name }}</p><p>Borrower: {{ english }}</p>
{% if image %}<img src="{{ image }}">{% endif %}</body></html>"""


def _render(app, **context) -> bytes:
    with app.test_request_context():
        html = render_template_string(PAGE, **({"image": None} | context))
        return renderer().render_html(html)


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_chinese_text_is_printed_with_the_embedded_subset_font(app):
    pdf = _render(app, title="贷后跟踪调查表", name="王小明", english="Wang Xiaoming")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "贷后跟踪调查表" in text and "王小明" in text and "Wang Xiaoming" in text
    fonts = _fonts(pdf)
    # A subset font's name carries a six-letter tag: ABCDEF+Name.
    assert any("+Portal" in name for name in fonts), fonts


def test_page_one_renders_to_png_for_a_person_to_look_at(app):
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm missing: run `make test` (installs poppler-utils)")
    pdf = _render(app, title="贷后跟踪调查表 · 样张", name="李口村 王小明", english="sample")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "rendering-sample.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(ARTIFACTS / "rendering-sample.pdf"),
            str(ARTIFACTS / "rendering-sample"),
        ],
        check=True,
    )
    assert (ARTIFACTS / "rendering-sample.png").stat().st_size > 1000


def test_html_and_css_in_data_print_as_text(app):
    hostile = "<style>*{display:none}</style><b>粗体</b>"
    text = (
        PdfReader(io.BytesIO(_render(app, title="t", name=hostile, english="x")))
        .pages[0]
        .extract_text()
    )
    assert "<style>" in text and "<b>粗体</b>" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///etc/hostname",
        "http://127.0.0.1:9/secret.png",
        "https://example.com/logo.png",
        "ftp://example.com/x",
    ],
)
def test_fetcher_refuses_everything_outside_our_static_folder(app, url):
    fetcher = make_url_fetcher(Path(app.static_folder))
    with pytest.raises((RefusedURLError, ValueError)):
        fetcher.fetch(url)


def test_fetcher_refuses_a_path_that_climbs_out_of_static(app):
    static = Path(app.static_folder)
    fetcher = make_url_fetcher(static)
    with pytest.raises(RefusedURLError):
        fetcher.fetch("file://" + str(static) + "/../pyproject.toml")


def test_fetcher_serves_our_font_and_data_uris(app):
    fetcher = make_url_fetcher(Path(app.static_folder))
    font = fetcher.fetch((Path(app.static_folder) / "fonts/wqy-microhei.ttc").as_uri())
    assert font.status in (None, 200)
    assert fetcher.fetch("data:text/plain;base64,5L2g5aW9").read() == "你好".encode()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "http://127.0.0.1:9/logo.png", "https://example.com/x.png"]
)
def test_a_template_asking_for_a_file_or_the_network_gets_nothing(app, url):
    with LogRecords() as log:
        pdf = _render(app, title="t", name="n", english="e", image=url)
    assert b"root:" not in pdf
    assert any(f"refused to fetch {url!r}" in message for message in log.messages), log.messages
    assert images_on(pdf) == 0


def test_a_stylesheet_link_to_the_network_is_refused_too(app):
    page = '<html><head><link rel="stylesheet" href="https://example.com/x.css"></head><body>x</body></html>'
    with LogRecords() as log, app.test_request_context():
        renderer().render_html(page)
    assert any("refused to fetch 'https://example.com/x.css'" in m for m in log.messages)


def test_fonts_and_stylesheets_are_parsed_once_per_process(app, monkeypatch):
    import weasyprint

    _render(app, title="t", name="n", english="e")  # warms the renderer, if nothing did yet
    parsed = []
    original = weasyprint.CSS.__init__

    def counting(self, *args, **kwargs):
        parsed.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.CSS, "__init__", counting)
    _render(app, title="贷后跟踪调查表", name="王小明", english="again")
    assert parsed == []


def test_reports_are_styled_without_rules_for_every_elements_pseudo_elements(app, monkeypatch):
    """WeasyPrint's ::marker and note rules match every element; ours only list items."""
    from weasyprint.html import UA

    narrowed = narrowed_user_agent_css(UA)
    assert narrowed != UA and "\nli::marker {" in narrowed
    assert not [line for line in narrowed.splitlines() if line.startswith("::")]
    with app.test_request_context():
        html_class = renderer().html_class
        asked, original = [], html_class._ua_stylesheets

        def spy(self, forms=False):
            asked.append(forms)
            return original(self, forms)

        monkeypatch.setattr(html_class, "_ua_stylesheets", spy)
        pdf = renderer().render_html("<ol><li>第一项</li><li>第二项</li></ol>")
    assert asked, "WeasyPrint no longer asks HTML._ua_stylesheets: the narrowing is lost"
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "1." in text and "2." in text and "第二项" in text
