"""Receiving outbox entries: exactly once (repeated, concurrent, after a lost answer), as online."""

import hashlib
import json
import threading

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.fieldkit.entries import entry_hash
from portal.fieldkit.models import FieldEntry
from portal.services.models import ServiceRequest
from portal.visits.models import Visit, VisitSignature, VisitWarning
from portal.visits.operations import verify
from portal.visits.risk import RiskLevel
from tests.conftest import PortalClient
from tests.fieldkit.helpers import make_entry, make_plan, post_entry, post_status, utc_text

RED_ANSWERS = {
    "repayment_status": "overdue",
    "business_state": "suspended",
    "services_needed": ["financial_training"],
}


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        return count(Visit), count(VisitSignature), count(FieldEntry)


def _planned_entry(app, world, **overrides) -> dict:
    with app.app_context():
        plan = make_plan(world.officer.id, [world.own_borrower.id])
        db.session.commit()
        return make_entry(world.own_borrower.id, plan.id, **overrides)


def _check_one_visit(app, entry: dict, visit_id: int, red: bool = True) -> None:
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        assert visit.id == visit_id
        assert visit.idempotency_token == entry["client_id"]
        assert utc_text(visit.signed_at) == entry["signed_at"]  # the tablet's signing time
        assert verify(visit)
        assert db.session.get(VisitSignature, visit.id) is not None
        if red:
            assert visit.risk_level == RiskLevel.RED
            assert db.session.scalar(sa.select(sa.func.count(VisitWarning.id))) == 1
            kinds = db.session.scalars(sa.select(ServiceRequest.kind_code)).all()
            assert kinds == ["financial_training"]


def test_an_entry_becomes_the_same_visit_as_online(client, app, world):
    entry = _planned_entry(app, world, **RED_ANSWERS)
    client.login("officer")
    response = post_entry(client, entry)
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["outcome"] == "stored" and answer["client_id"] == entry["client_id"]
    assert answer["visit_url"] == f"/visits/{answer['visit_id']}" and answer["message"]
    assert response.headers["Cache-Control"] == "no-store"
    _check_one_visit(app, entry, answer["visit_id"])
    page = client.get(answer["visit_url"]).get_data(as_text=True)
    assert 'data-testid="hash-check"' in page and "text-bg-success" in page


def test_five_repeats_give_one_visit_and_the_same_answer(client, app, world):
    entry = _planned_entry(app, world, **RED_ANSWERS)
    client.login("officer")
    answers = [post_entry(client, entry) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200]
    assert len({a.get_json()["visit_id"] for a in answers}) == 1
    assert _counts(app) == (1, 1, 1)
    _check_one_visit(app, entry, answers[0].get_json()["visit_id"])


def test_five_concurrent_posts_give_one_visit(app, world):
    entry = _planned_entry(app, world, **RED_ANSWERS)
    app.test_client_class = PortalClient
    clients = []
    for _ in range(5):
        tablet = app.test_client()
        tablet.login("officer")
        clients.append((tablet, tablet.get("/field/token").get_json()["csrf_token"]))
    start = threading.Barrier(5)
    answers = [None] * 5

    def send(index: int) -> None:
        tablet, token = clients[index]
        start.wait()
        response = post_entry(tablet, entry, token)  # each request: its own app context
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200, 200, 200, 200, 201]
    assert {body["visit_id"] for _, body in answers} == {answers[0][1]["visit_id"]}
    assert _counts(app) == (1, 1, 1)
    _check_one_visit(app, entry, answers[0][1]["visit_id"])


class LostAnswerError(ConnectionError):
    pass


def test_a_retry_after_the_answer_was_lost_answers_the_stored_visit(
    client, app, world, monkeypatch
):
    entry = _planned_entry(app, world, **RED_ANSWERS)
    client.login("officer")
    token = client.get("/field/token").get_json()["csrf_token"]
    server = app.wsgi_app

    def crash_after_commit(environ, start_response):
        # The server runs the whole request (its transaction commits), then the
        # connection drops before the tablet reads the answer.
        body = b"".join(server(environ, lambda *args, **kwargs: None))
        assert body
        raise LostAnswerError("connection reset before the answer arrived")

    monkeypatch.setattr(app, "wsgi_app", crash_after_commit)
    with pytest.raises(LostAnswerError):
        post_entry(client, entry, token)
    monkeypatch.setattr(app, "wsgi_app", server)
    assert _counts(app) == (1, 1, 1)  # committed although the tablet never heard
    retry = post_entry(client, entry, token)
    assert retry.status_code == 200 and retry.get_json()["outcome"] == "stored"
    assert _counts(app) == (1, 1, 1)
    _check_one_visit(app, entry, retry.get_json()["visit_id"])


def test_the_status_endpoint_reports_own_entries_only(client, app, world):
    entry = _planned_entry(app, world)
    client.login("officer")
    stored = post_entry(client, entry).get_json()
    answer = post_status(client, [entry["client_id"], "never-sent-0000000000"]).get_json()
    assert answer["entries"][0]["outcome"] == "stored"
    assert answer["entries"][0]["visit_url"] == stored["visit_url"]
    assert answer["entries"][1]["outcome"] == "unknown" and answer["entries"][1]["message"]
    client.logout()
    client.login("otherofficer")
    other = post_status(client, [entry["client_id"]]).get_json()
    assert other["entries"][0]["outcome"] == "unknown"
    assert post_status(client, ["x"] * 201).status_code == 400


def test_posts_need_the_csrf_header(client, app, world):
    entry = _planned_entry(app, world)
    client.login("officer")
    for path, body in (("/field/entries", entry), ("/field/entries/status", {"client_ids": []})):
        response = client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400
    assert _counts(app) == (0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        json.dumps({"borrower_id": 1}).encode(),
        json.dumps({"client_id": "short"}).encode(),
        json.dumps([1, 2]).encode(),
        b'{"client_id": "' + b"a" * (2 * 1024 * 1024) + b'"}',
    ],
    ids=["not-json", "no-client-id", "bad-client-id", "not-an-object", "oversized"],
)
def test_a_body_that_is_not_an_entry_is_answered_400(client, app, world, body):
    client.login("officer")
    token = client.get("/field/token").get_json()["csrf_token"]
    response = client.post(
        "/field/entries",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert response.get_json()["outcome"] == "error" and response.get_json()["message"]
    assert _counts(app) == (0, 0, 0)


def test_the_same_client_id_of_another_officer_never_answers_their_visit(client, app, world):
    entry = _planned_entry(app, world)
    client.login("officer")
    assert post_entry(client, entry).status_code == 201
    client.logout()
    client.login("otherofficer")
    theirs = make_entry(world.foreign_borrower.id, client_id=entry["client_id"])
    response = post_entry(client, theirs)
    # The visit's once-only token is the client id: the other officer's insert loses on it,
    # finds no entry of their own, and is answered the shared 409, never the first visit.
    assert response.status_code == 409
    assert "visit_id" not in response.get_json()
    assert _counts(app) == (1, 1, 1)


def test_the_hash_is_computed_over_the_documented_text():
    entry = {
        "client_id": "c0ffee00-0000-4000-8000-000000000001",
        "borrower_id": 31,
        "signed_at": "2026-11-26T03:12:40Z",
        "fields": {"place": ['李庄村 "东头" 😀\n二组'], "satisfaction": ["5"]},
        "plan_id": 12,
    }
    text = (
        '{"borrower_id":31,"client_id":"c0ffee00-0000-4000-8000-000000000001",'
        '"fields":{"place":["李庄村 \\"东头\\" 😀\\n二组"],"satisfaction":["5"]},'
        '"signed_at":"2026-11-26T03:12:40Z"}'
    )
    assert entry_hash(entry) == hashlib.sha256(text.encode()).hexdigest()
    assert entry_hash(entry | {"plan_id": 13, "opened_at": "x"}) == entry_hash(entry)
