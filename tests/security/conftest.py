"""Security tests reuse the visit form of the visit tests and the service catalogue."""

import pytest

from portal.extensions import db
from portal.services.operations import ensure_catalogue
from tests.visits.conftest import visit_form  # noqa: F401


@pytest.fixture
def world(world, app):
    with app.app_context():
        ensure_catalogue()
        db.session.commit()
    return world
