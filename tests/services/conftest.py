"""The World of tests/conftest.py, plus the service catalogue every page here needs."""

import pytest

from portal.extensions import db
from portal.services.operations import ensure_catalogue


@pytest.fixture
def world(world, app):
    with app.app_context():
        ensure_catalogue()
        db.session.commit()
    return world
