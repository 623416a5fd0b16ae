"""Reading the headline pages: the figures each row shows, as the reader sees them."""

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Figures(HTMLParser):
    """{row: {figure: text}} of the elements marked ``data-figure`` inside ``data-row``."""

    def __init__(self):
        super().__init__()
        self.figures: dict[str, dict[str, str]] = {}
        self.open: list[tuple[str | None, str | None]] = []  # (row, figure) per open tag
        self.text: dict[tuple[str, str], list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        row = attrs.get("data-row") or (self.open[-1][0] if self.open else None)
        figure = attrs.get("data-figure")
        self.open.append((row, figure))
        if figure:
            self.text[(row, figure)] = []

    def handle_endtag(self, tag):
        if tag in VOID or not self.open:
            return
        row, figure = self.open.pop()
        if figure:
            words = " ".join("".join(self.text.pop((row, figure))).split())
            self.figures.setdefault(row, {})[figure] = words

    def handle_data(self, data):
        for row, figure in self.open:
            if figure:
                self.text[(row, figure)].append(data)


def figures(response) -> dict[str, dict[str, str]]:
    """The page's figures by row (a branch code, or "total")."""
    assert response.status_code == 200, response.status_code
    parser = _Figures()
    parser.feed(response.get_data(as_text=True))
    return parser.figures


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def errors(response) -> list[str]:
    """The messages beside the period's fields."""
    found = re.findall(r'data-testid="period-error">(.*?)</div>', page(response), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for text in found]


def english(client) -> None:
    client.submit("/account", {"locale": "en"})
