"""Small SVG charts drawn by our own code, inlined in the HTML that WeasyPrint prints.

Every label is escaped by ``Markup.format``: names typed by users never become markup.
Sizes are in SVG user units; the charts scale to the width of the printed column.
"""

from dataclasses import dataclass

from markupsafe import Markup

RISK_COLOURS = {
    "green": "#2e7d32",
    "yellow": "#c9a400",
    "orange": "#e65100",
    "red": "#c62828",
}
AXIS = "#888888"
GRID = "#dddddd"
FONT_SIZE = 11


@dataclass(frozen=True)
class Bar:
    """One bar: its label under the axis, its value, its colour and the text above it."""

    label: str
    value: float
    colour: str
    text: str = ""


@dataclass(frozen=True)
class Segment:
    value: float
    colour: str


@dataclass(frozen=True)
class Column:
    """One stacked column: segments from the bottom up, and the text above it."""

    label: str
    segments: tuple[Segment, ...]
    text: str = ""


SVG = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
    'width="{w}" height="{h}" role="img"><title>{title}</title>{body}</svg>'
)
TEXT = Markup(
    '<text x="{:.1f}" y="{:.1f}" text-anchor="{}" font-size="{}" fill="#222222">{}</text>'
)
RECT = Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>')
BASE_LINE = Markup('<line x1="10" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}"/>')


def _svg(width: int, height: int, title: str, body: list[Markup]) -> Markup:
    # Markup.format escapes every argument that is not Markup already.
    return SVG.format(w=width, h=height, title=title, body=Markup("").join(body))


def _text(x: float, y: float, content: str, anchor: str = "middle", size: int = FONT_SIZE):
    return TEXT.format(x, y, anchor, size, content)


def _rect(x: float, y: float, width: float, height: float, colour: str) -> Markup:
    return RECT.format(x, y, width, height, colour)


def _scale(top: float) -> float:
    return top if top > 0 else 1


def bar_chart(bars: list[Bar], title: str, width: int = 520, height: int = 130) -> Markup:
    """Vertical bars from a common base line, the value written above each."""
    base, top_margin = height - 24, 18
    slot = (width - 20) / max(len(bars), 1)
    peak = _scale(max((bar.value for bar in bars), default=0))
    body = [BASE_LINE.format(y=base, x2=width - 10, colour=AXIS)]
    for index, bar in enumerate(bars):
        x = 10 + index * slot + slot * 0.15
        bar_height = (base - top_margin) * bar.value / peak
        body.append(_rect(x, base - bar_height, slot * 0.7, bar_height, bar.colour))
        body.append(_text(x + slot * 0.35, base - bar_height - 4, bar.text))
        body.append(_text(x + slot * 0.35, base + 15, bar.label))
    return _svg(width, height, title, body)


def horizontal_bars(bars: list[Bar], title: str, width: int = 520) -> Markup:
    """One labelled row per bar; for a distribution where one value dwarfs the rest."""
    row, label_width, text_width = 24, 90, 110
    height = row * len(bars) + 8
    track = width - label_width - text_width
    peak = _scale(max((bar.value for bar in bars), default=0))
    body = []
    for index, bar in enumerate(bars):
        y = 4 + index * row
        length = track * bar.value / peak
        body.append(_text(label_width - 8, y + 15, bar.label, anchor="end"))
        body.append(_rect(label_width, y + 3, track, row - 8, "#f2f2f2"))
        body.append(_rect(label_width, y + 3, max(length, 0), row - 8, bar.colour))
        body.append(_text(width - text_width + 6, y + 15, bar.text, anchor="start"))
    return _svg(width, height, title, body)


def stacked_columns(
    columns: list[Column], legend: list[tuple[str, str]], title: str, width: int = 520
) -> Markup:
    """Columns stacked from the bottom, with a legend of (label, colour) above them."""
    height = 200
    base, top_margin = height - 24, 40
    slot = (width - 20) / max(len(columns), 1)
    peak = _scale(max((sum(s.value for s in c.segments) for c in columns), default=0))
    body = [BASE_LINE.format(y=base, x2=width - 10, colour=AXIS)]
    for index, (label, colour) in enumerate(legend):
        x = 12 + index * 120
        body.append(_rect(x, 6, 10, 10, colour))
        body.append(_text(x + 15, 15, label, anchor="start", size=FONT_SIZE - 1))
    for index, column in enumerate(columns):
        x, y = 10 + index * slot + slot * 0.2, float(base)
        for segment in column.segments:
            segment_height = (base - top_margin) * segment.value / peak
            y -= segment_height
            body.append(_rect(x, y, slot * 0.6, segment_height, segment.colour))
        body.append(_text(x + slot * 0.3, y - 4, column.text))
        body.append(_text(x + slot * 0.3, base + 15, column.label))
    return _svg(width, height, title, body)
