"""A crash between storing the signature and committing leaves no orphan and loses nothing."""

from contextlib import contextmanager

import sqlalchemy as sa

from portal.extensions import db
from portal.visits.models import Visit, VisitSignature, VisitWarning


class PowerCutError(RuntimeError):
    """Stands for the process dying at the worst moment."""


def _note_signature_written(session, _flush_context):
    if any(isinstance(obj, VisitSignature) for obj in session.new):
        session.info["signature_written"] = True


def _die_before_commit(session):
    session.flush()  # the signature row is written inside the transaction…
    if session.info.pop("signature_written", False):
        raise PowerCutError("power cut between flush and commit")  # …and never committed


@contextmanager
def power_cut():
    """Every commit that would store a signature dies after its rows were flushed."""
    sa.event.listen(db.session, "after_flush", _note_signature_written)
    sa.event.listen(db.session, "before_commit", _die_before_commit)
    try:
        yield
    finally:
        sa.event.remove(db.session, "before_commit", _die_before_commit)
        sa.event.remove(db.session, "after_flush", _note_signature_written)


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Visit, VisitSignature, VisitWarning)
        )


def _url(world) -> str:
    return f"/borrowers/{world.own_borrower.id}/visits/new"


def test_crash_after_the_signature_is_flushed_writes_nothing(app, client, world, visit_form):
    client.login("officer")
    form = visit_form(risk_signals=["repayment_overdue", "business_suspended"])
    with power_cut():
        response = client.submit(_url(world), form)
    assert response.status_code == 500
    assert _counts(app) == (0, 0, 0)


def test_the_same_form_sent_again_after_the_crash_is_stored_once(app, client, world, visit_form):
    client.login("officer")
    form = visit_form(risk_signals=["repayment_overdue", "business_suspended"])
    with power_cut():
        assert client.submit(_url(world), form).status_code == 500
    assert client.submit(_url(world), form).status_code == 302
    assert client.submit(_url(world), form).status_code == 302  # the retry of the retry
    assert _counts(app) == (1, 1, 1)
