"""What the load balancer probes (/healthz), and per-request query counting for the benchmark."""

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context

from portal.extensions import db, limiter


def health() -> tuple[dict, int]:
    """The answer of /healthz: 503 without the database, "degraded" without the counter store
    or with a stale worker heartbeat.

    A dead rate-limit store (Redis) does not stop the portal: logins are then counted
    per worker in memory (see portal/extensions.py), so the machine stays in service.
    The worker's heartbeat (docs/jobs.md) is ``fresh``, ``stale`` (a worker ran but has
    not beaten lately: greetings and reports wait) or ``none`` (no worker has run).
    """
    from portal.jobs.queries import worker_heartbeat

    report = {"status": "ok", "database": "ok", "rate_limit_storage": "ok", "worker": "none"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        report["worker"] = worker_heartbeat()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        report |= {"status": "error", "database": "unreachable", "worker": "unknown"}
    if report["worker"] == "stale" and report["status"] == "ok":
        report["status"] = "degraded"
    # No log line here: the balancer asks every few seconds; Flask-Limiter warns once.
    if not limiter.storage.check():
        report["rate_limit_storage"] = "unreachable"
        if report["status"] == "ok":
            report["status"] = "degraded"
    return report, 503 if report["database"] != "ok" else 200


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
