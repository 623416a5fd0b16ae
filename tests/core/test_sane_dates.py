"""Every date field refuses the years no event, loan or person can have."""

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.networking.models import NetworkingEvent


@pytest.mark.parametrize("held_on", ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"])
def test_a_networking_event_in_year_one_or_9999_is_refused(app, client, world, held_on):
    client.login(world.head.name)
    response = client.submit(
        "/networking/events/new",
        {"title": "养殖户交流会", "held_on": held_on, "place": "众兴镇", "description": ""},
    )
    assert response.status_code == 200
    assert "日期须在" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NetworkingEvent)) == 0


def test_a_sane_date_is_kept(app, client, world):
    client.login(world.head.name)
    response = client.submit(
        "/networking/events/new",
        {"title": "养殖户交流会", "held_on": "2030-03-01", "place": "众兴镇", "description": ""},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NetworkingEvent)) == 1
