"""Request inputs checked once for every view, before any feature sees them.

Ids in paths and page numbers in query strings are bounded to what a database integer
holds, and NUL bytes are refused: SQLite would store them, PostgreSQL refuses them.
"""

from flask import Flask, abort, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from portal.core.calendar import Month, current_month
from portal.core.errors import render_error
from portal.core.forms import INT_MAX, bounded_int

NUL_MESSAGE = _l(
    "What you sent contains a character that cannot be stored (a NUL byte). "
    "Please remove it and try again."
)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every route: a number larger than any id is a page that does not exist."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def refuse_unstorable_input():
    """A 400 page for a NUL byte in any query or form value (or its name)."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if _has_nul(name for name, _ in fields) or _has_nul(value for _, value in fields):
        return render_error(400, NUL_MESSAGE)
    return None


def refuse_impossible_page():
    """A page number no list can have is a page that does not exist (both paginators)."""
    page = request.args.get("page")
    if page is None:
        return
    try:
        if bounded_int(page) < 1:
            abort(404)
    except ValueError:
        abort(404)


def requested_month() -> Month:
    """The month a page's ``?month=YYYY-MM`` asks for: this month when none or a later one,
    this month with a warning when it is not a month."""
    this_month = current_month()
    text = request.args.get("month")
    if not text:
        return this_month
    try:
        return min(Month.parse(text), this_month)
    except ValueError:
        flash(_("Unknown month %(month)s: showing this month.", month=text[:20]), "warning")
        return this_month


def install_converter(app: Flask) -> None:
    """Before any route is added: bound every ``<int:…>``."""
    app.url_map.converters["int"] = BoundedIntConverter


def init_app(app: Flask) -> None:
    """Register the checks."""
    app.before_request(refuse_unstorable_input)
    app.before_request(refuse_impossible_page)
