"""The distance plot of a visit's check page: the site, the visit's fix, drawn on the server.

No map and no tiles: positions are projected onto a flat plane around the borrower's
site (metres east and north; at a few kilometres the error is far below a fix's
accuracy) and scaled into a square SVG with a scale bar. The template draws what
``distance_plot`` returns.
"""

import math
from dataclasses import dataclass, field

from portal.evidence.rules import EARTH_RADIUS_M, distance_m

SIZE = 320  # the SVG's width and height in its own units
MARGIN = 28
MIN_EXTENT_M = 50  # never zoom closer than this from the centre to the edge


def _metres(origin: tuple[float, float], point: tuple[float, float]) -> tuple[float, float]:
    """(east, north) of ``point`` from ``origin`` in metres, on the local flat plane."""
    lat0, lon0 = origin
    lat, lon = point
    east = math.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    north = math.radians(lat - lat0) * EARTH_RADIUS_M
    return east, north


def _round_length(limit: float) -> int:
    """The longest of 1, 2, 5 × 10^n metres not above ``limit`` (the scale bar)."""
    power = 10 ** math.floor(math.log10(max(limit, 1)))
    for step in (5, 2, 1):
        if step * power <= limit:
            return int(step * power)
    return int(power)


@dataclass(frozen=True)
class Mark:
    """A point on the plot, in SVG units."""

    x: float
    y: float
    r: float = 0.0  # the accuracy circle's radius (SVG units), 0 when unknown


@dataclass(frozen=True)
class DistancePlot:
    """What the template draws; ``site`` or ``visit`` may be missing (then there is no line)."""

    size: int
    site: Mark | None
    visit: Mark | None
    earlier: list[Mark] = field(default_factory=list)
    distance_m: int | None = None
    accuracy_m: int | None = None
    scale_m: int = 0
    scale_px: float = 0.0

    @property
    def line(self) -> bool:
        return self.site is not None and self.visit is not None


def distance_plot(
    site: tuple[float, float] | None,
    fix: tuple[float, float] | None,
    accuracy_m: int | None = None,
    earlier: list[tuple[float, float]] = (),
) -> DistancePlot | None:
    """The plot of the visit's ``fix`` against the borrower's ``site``; None without either.

    ``earlier`` are the positions of the borrower's other visits (small grey dots).
    The view is centred between the site and the fix and wide enough for both and the
    accuracy circle (without a site, for the other visits too).
    """
    if site is None and fix is None:
        return None
    origin = site or fix
    points = {"site": site, "fix": fix}
    local = {name: _metres(origin, point) for name, point in points.items() if point is not None}
    centre_e = sum(e for e, _ in local.values()) / len(local)
    centre_n = sum(n for _, n in local.values()) / len(local)
    nearby = [_metres(origin, point) for point in earlier]
    spread = list(local.values()) + ([] if site else nearby)
    extent = max([MIN_EXTENT_M] + [max(abs(e - centre_e), abs(n - centre_n)) for e, n in spread])
    if fix and accuracy_m:
        east, north = local["fix"]
        extent = max(extent, accuracy_m + max(abs(east - centre_e), abs(north - centre_n)))
    gap = distance_m(*site, *fix) if site and fix else None
    extent *= 1.1
    # The other visits are shown when they fall inside the plot (they do not widen it).
    nearby = [(e, n) for e, n in nearby if max(abs(e - centre_e), abs(n - centre_n)) <= extent]
    scale = (SIZE / 2 - MARGIN) / extent  # SVG units per metre

    def mark(east: float, north: float, radius_m: float = 0) -> Mark:
        x = SIZE / 2 + (east - centre_e) * scale
        y = SIZE / 2 - (north - centre_n) * scale
        return Mark(round(x, 1), round(y, 1), round(radius_m * scale, 1))

    bar = _round_length(extent)
    return DistancePlot(
        size=SIZE,
        site=mark(*local["site"]) if site else None,
        visit=mark(*local["fix"], accuracy_m or 0) if fix else None,
        earlier=[mark(e, n) for e, n in nearby],
        distance_m=round(gap) if gap is not None else None,
        accuracy_m=accuracy_m,
        scale_m=bar,
        scale_px=round(bar * scale, 1),
    )
