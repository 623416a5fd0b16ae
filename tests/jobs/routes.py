"""Routes of the jobs feature for the route x role matrix: the queue is the admin's."""

from portal.extensions import db
from tests.factories import Ref
from tests.jobs.helpers import failed_run
from tests.routes import ADMIN, Route

ROUTES = [
    Route("jobs.queue", "GET", "/admin/jobs", ADMIN),
    Route("jobs.retry", "POST", "/admin/jobs/{failed_job.id}/retry", ADMIN),
]


def objects(app, world) -> dict:
    with app.app_context():
        job = failed_run()
        db.session.commit()
        return {"failed_job": Ref(job.id, "failed")}
