"""WeasyPrint set-up: our own CJK and symbol fonts, a fetcher that reaches only our static files.

Templates under ``templates/pdf/`` get plain data (dicts, strings, numbers), never ORM
objects, so a report cannot lazy-load or leak what its caller did not choose to print.
"""

import logging
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, render_template

from portal.extensions import db

log = logging.getLogger(__name__)

FONT_FILE = "fonts/wqy-microhei.ttc"
# Emoji and symbols people type (🐷 👍 🌾) that neither the CJK font nor DejaVu has:
# monochrome Symbola, so they print as drawings, not as empty boxes. A colour emoji font
# (CBDT bitmaps) is not what WeasyPrint draws reliably; a face is embedded only when used.
SYMBOL_FONT_FILE = "fonts/symbola.ttf"
# Under static/pdf/: the shared page set-up, then the reports' own styles.
STYLESHEETS = ("print.css", "reports.css")


class RefusedURLError(ValueError):
    """A template asked for something outside our static folder."""


def make_url_fetcher(static_root: Path):
    """A WeasyPrint fetcher for ``data:`` URIs and files under ``static_root`` only."""
    from weasyprint.urls import URLFetcher

    root = static_root.resolve()

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and not parts.netloc:
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(root) and path.is_file():
                    return super().fetch(url, headers)
            raise RefusedURLError(f"refused to fetch {url!r}: only data: URIs and our static files")

    return StaticOnlyFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


def narrowed_user_agent_css(text: str) -> str:
    """WeasyPrint's HTML stylesheet without its rules for every element's pseudo-elements.

    ``::marker`` and five footnote and note pseudo-elements match every element, so each
    render computes six extra styles per element: a third of a visit report's styling
    time. Markers are kept for list items; notes no report uses are dropped.
    """
    lines = []
    for line in text.splitlines():
        if line.startswith("::marker"):
            line = "li" + line
        elif line.startswith(("::footnote-", "::note-")):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


class PdfRenderer:
    """Holds what can be reused between renders: fonts, stylesheets, the fetcher."""

    def __init__(self, static_root: Path):
        self.static_root = Path(static_root)

    @cached_property
    def font_config(self):
        from weasyprint.text.fonts import FontConfiguration

        return FontConfiguration()

    @cached_property
    def html_class(self):
        """WeasyPrint's ``HTML`` with the narrowed user-agent stylesheet, parsed once.

        ``_ua_stylesheets`` is WeasyPrint's own hook (weasyprint is pinned in
        pyproject.toml; tests/reports/test_rendering.py checks it still takes effect).
        """
        from weasyprint import CSS, HTML
        from weasyprint.html import UA, UA_COUNTER_STYLE, UA_FORM_STYLESHEET

        user_agent = CSS(string=narrowed_user_agent_css(UA), counter_style=UA_COUNTER_STYLE)

        class PrintHTML(HTML):
            def _ua_stylesheets(self, forms=False):
                return [user_agent, UA_FORM_STYLESHEET] if forms else [user_agent]

        return PrintHTML

    @cached_property
    def url_fetcher(self):
        return make_url_fetcher(self.static_root)

    @cached_property
    def base_stylesheets(self) -> list:
        from weasyprint import CSS

        font_faces = "\n".join(
            f"@font-face {{ font-family: '{family}'; src: url('{url}'); }}"
            for family, url in (
                ("Portal CJK", (self.static_root / FONT_FILE).resolve().as_uri()),
                ("Portal Symbols", (self.static_root / SYMBOL_FONT_FILE).resolve().as_uri()),
            )
        )
        # Parsed once per process: templates carry no <style> or <link> of their own.
        return [
            CSS(string=font_faces, font_config=self.font_config, url_fetcher=self.url_fetcher),
            *(
                CSS(
                    filename=str(self.static_root / "pdf" / name),
                    font_config=self.font_config,
                    url_fetcher=self.url_fetcher,
                )
                for name in STYLESHEETS
            ),
        ]

    def prepare(self) -> None:
        """Parse the font, the stylesheets and the user-agent stylesheet now, not in a render."""
        self.base_stylesheets  # noqa: B018
        self.html_class  # noqa: B018

    def layout(self, html: str):
        """Lay out an HTML string: a WeasyPrint ``Document`` whose pages can be combined."""
        document = self.html_class(
            string=html,
            base_url=self.static_root.resolve().as_uri() + "/",
            url_fetcher=self.url_fetcher,
        )
        return document.render(stylesheets=self.base_stylesheets, font_config=self.font_config)

    def render_html(self, html: str) -> bytes:
        """Render an HTML string to PDF bytes."""
        return self.layout(html).write_pdf()

    def render_many(self, htmls: list[str]) -> bytes:
        """Several HTML documents as one PDF, each keeping its own page numbers."""
        documents = [self.layout(html) for html in htmls]
        pages = [page for document in documents for page in document.pages]
        # One PDF, so the font subset is embedded once for all of them.
        return documents[0].copy(pages).write_pdf()


def renderer() -> PdfRenderer:
    """The app's renderer, made on first use."""
    state = current_app.extensions.setdefault("pdf_renderer", None)
    if state is None:
        state = current_app.extensions["pdf_renderer"] = PdfRenderer(
            Path(current_app.static_folder)
        )
    return state


def render_pdf(template: str, **context) -> bytes:
    """Render ``templates/pdf/<template>`` with plain data to PDF bytes."""
    return renderer().render_html(render_template(f"pdf/{template}", **context))


def render_report(report, printing) -> bytes:
    """A report's plain data printed with its own template (``report.template``)."""
    return render_pdf(report.template, report=report, printing=printing)


def render_detached(render, report, printing) -> bytes:
    """Print a report's plain data with no database transaction open during the layout.

    The layout takes seconds; a read snapshot held that long would make the audit
    write after it fail on SQLite (a writer committed meanwhile) and keep a PostgreSQL
    connection idle in its transaction. Nothing has been written before a print. The
    transaction ends by a rollback, not a close: the request's objects (the logged-in
    user) stay in the session and load again when next read.
    """
    db.session.rollback()
    return render(report, printing)


def render_reports(reports: list, printing) -> bytes:
    """Several reports in one PDF, each numbering its own pages."""
    return renderer().render_many(
        [render_template(f"pdf/{r.template}", report=r, printing=printing) for r in reports]
    )


def font_subsetting_is_fast() -> bool:
    """True when HarfBuzz's subsetter is available to WeasyPrint."""
    from weasyprint.text.ffi import harfbuzz_subset

    return harfbuzz_subset is not None


def init_app(app: Flask) -> None:
    """Warn at start when PDF font subsetting will be slow."""
    try:
        fast = font_subsetting_is_fast()
    except OSError as error:  # Pango or HarfBuzz missing altogether
        app.logger.warning("PDF reports unavailable: %s. Run `make setup`.", error)
        return
    if not fast:
        app.logger.warning(
            "libharfbuzz-subset0 is missing: PDF fonts will be subset with fontTools, "
            "about 15x slower. Install it with `apt-get install libharfbuzz-subset0` "
            "(make setup does this)."
        )
