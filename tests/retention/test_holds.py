"""Legal holds placed and lifted by the head or the admin, audited, shown on the
borrower page (portal/retention/views.py)."""

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.retention.models import LegalHold


def _holds(app):
    with app.app_context():
        return db.session.scalars(sa.select(LegalHold).order_by(LegalHold.id)).all()


def _actions(app):
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.like("retention.hold%"))
            .order_by(AuditEntry.id)
        ).all()


def test_the_head_places_and_lifts_a_hold(app, client, world):
    borrower = f"/borrowers/{world.own_borrower.id}"
    client.login("head")
    assert "legal-hold" not in client.get(borrower).get_data(as_text=True)

    response = client.submit(f"{borrower}/holds", {"reason": "借款合同纠纷诉讼中"})

    assert response.status_code == 302
    (hold,) = _holds(app)
    assert hold.reason == "借款合同纠纷诉讼中" and hold.placed_by_id == world.head.id
    assert hold.lifted_at is None
    page = client.get(borrower).get_data(as_text=True)
    assert 'data-testid="legal-hold"' in page and "借款合同纠纷诉讼中" in page
    # A second hold while one is in place is refused.
    client.submit(f"{borrower}/holds", {"reason": "again"})
    assert len(_holds(app)) == 1

    response = client.submit(f"/holds/{hold.id}/lift", page=f"{borrower}/holds")

    assert response.status_code == 302
    (hold,) = _holds(app)
    assert hold.lifted_at is not None and hold.lifted_by_id == world.head.id
    assert 'data-testid="legal-hold"' not in client.get(borrower).get_data(as_text=True)
    assert _actions(app) == ["retention.hold_place", "retention.hold_lift"]
    # Lifting twice changes nothing.
    client.submit(f"/holds/{hold.id}/lift", page=f"{borrower}/holds")
    assert _actions(app) == ["retention.hold_place", "retention.hold_lift"]


def test_a_hold_needs_a_reason(app, client, world):
    client.login("head")
    response = client.submit(f"/borrowers/{world.own_borrower.id}/holds", {"reason": "  "})
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)
    assert _holds(app) == [] and _actions(app) == []


def test_officers_and_other_branches_cannot_place_holds(app, client, world):
    client.login("officer")
    path = f"/borrowers/{world.own_borrower.id}/holds"
    assert client.get(path).status_code == 403
    client.logout()
    client.login("otherhead")
    assert client.get(path).status_code == 403
    assert client.submit(path, {"reason": "x"}, page="/").status_code == 403
    assert _holds(app) == []


def test_the_admin_places_a_hold_anywhere(app, client, world):
    client.login("admin")
    response = client.submit(f"/borrowers/{world.foreign_borrower.id}/holds", {"reason": "仲裁"})
    assert response.status_code == 302
    assert [hold.borrower_id for hold in _holds(app)] == [world.foreign_borrower.id]
