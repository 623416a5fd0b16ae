"""Routes of the repayment import for the access matrix: heads and admins import; an
upload is its uploader's; the lending system's push needs a key, not a login."""

from portal.accounts.models import User
from portal.extensions import db
from portal.imports import operations
from tests.factories import Ref
from tests.imports.helpers import csv_bytes
from tests.routes import MANAGERS, PUBLIC, Route

HEAD = frozenset({"head"})

ROUTES = [
    Route("imports.upload", "GET", "/imports/repayments", MANAGERS),
    Route("imports.upload", "POST", "/imports/repayments", MANAGERS),
    Route("imports.preview", "GET", "/imports/repayments/{head_upload.id}", HEAD),
    Route("imports.download", "GET", "/imports/repayments/{head_upload.id}/preview.csv", HEAD),
    Route("imports.download", "GET", "/imports/repayments/{head_upload.id}/preview.xlsx", HEAD),
    Route("imports.apply", "POST", "/imports/repayments/{head_upload.id}/apply", HEAD),
    # No key: 401, whoever is logged in (a login is not a key).
    Route("imports.api_repayments", "POST", "/api/repayments", PUBLIC, ok_statuses=(401,)),
]


def objects(app, world) -> dict:
    """A file the head uploaded (a row on the World's loan, which has no schedule)."""
    with app.app_context():
        head = db.session.get(User, world.head.id)
        content = csv_bytes([[world.own_loan.name, "2026-03-01", "100.00", "T-1", ""]])
        stored = operations.store_upload(content, "repayments.csv", head)
        db.session.commit()
        return {"head_upload": Ref(stored.id, "upload")}
