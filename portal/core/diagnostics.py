"""Per-request query counting, switched on for the benchmark and the query-count tests."""

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context

from portal.extensions import db


def _count_query(*_args) -> None:
    if has_request_context():
        g.query_count = g.get("query_count", 0) + 1


def _add_header(response: Response) -> Response:
    response.headers["X-Query-Count"] = str(g.get("query_count", 0))
    return response


def init_app(app: Flask) -> None:
    """With QUERY_COUNT_HEADER on, every response says how many SQL statements it ran."""
    if not app.config.get("QUERY_COUNT_HEADER"):
        return
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", _count_query)
    app.after_request(_add_header)
