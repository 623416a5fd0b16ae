"""A borrower's request to correct a field of their record: its deadline, who receives it
(the current officer and the branch head, following a reassignment), the answer and the
notice it sends, and the staff's menu count."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.core.calendar import local_today
from portal.extensions import db
from portal.notices.models import Notice
from portal.privacy import queries
from portal.privacy.corrections import ANSWER_DAYS
from portal.privacy.models import CorrectionRequest, CorrectionStatus
from tests.services.helpers import english, flashed, load, new_officer, reassign_as_head, text


def _ask(client, field="mobile", note="手机号换了，新号码是13900001111"):
    return client.submit(
        "/me/privacy/corrections", {"field": field, "note": note}, page="/me/privacy"
    )


def _only_request(app) -> CorrectionRequest:
    with app.app_context():
        [row] = db.session.scalars(sa.select(CorrectionRequest)).all()
        db.session.expunge(row)
        return row


def _asked(client, app) -> CorrectionRequest:
    client.login("borrower")
    response = _ask(client)
    assert response.status_code == 302, text(response)[:400]
    client.logout()
    return _only_request(app)


def test_a_request_has_a_deadline_and_is_audited_without_the_note(client, world, app):
    client.login("borrower")
    english(client)
    response = _ask(client)
    assert response.headers["Location"].endswith("/me/privacy#corrections")
    page = text(client.get("/me/privacy"))
    assert any("You will have an answer by" in m for m in flashed(page))
    assert 'data-testid="my-corrections"' in page and "13900001111" in page
    correction = _only_request(app)
    assert correction.borrower_id == world.own_borrower.id
    assert correction.requested_by_id == world.borrower.id
    assert correction.field == "mobile" and correction.status == CorrectionStatus.OPEN
    with app.app_context():
        assert correction.due_on == local_today() + timedelta(days=ANSWER_DAYS)
        [entry] = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "privacy.correction_requested")
        ).all()
        assert entry.summary == "field mobile" and "13900001111" not in entry.summary


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "", "note": "名字写错了"}, "Choose what should be corrected."),
        ({"field": "tier", "note": "我想当重点客户"}, "Choose what should be corrected."),
        ({"field": "village", "note": ""}, "Tell us what is wrong and what is right."),
        ({"field": "village", "note": "x" * 501}, "Write between 3 and 500 characters."),
    ],
)
def test_a_bad_request_is_shown_again_with_its_error(client, world, app, data, message):
    client.login("borrower")
    english(client)
    response = client.submit("/me/privacy/corrections", data, page="/me/privacy")
    assert response.status_code == 200
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CorrectionRequest.id))) == 0


def _listed(client, username: str, correction_id: int) -> tuple[bool, int]:
    """Whether ``username`` finds the request in their list, and its page's status."""
    client.login(username)
    listed = f"/privacy/corrections/{correction_id}" in text(client.get("/privacy/corrections"))
    status = client.get(f"/privacy/corrections/{correction_id}").status_code
    client.logout()
    return listed, status


def test_it_reaches_the_borrowers_officer_and_head_not_another_officer(client, world, app):
    correction = _asked(client, app)
    new_officer(app, world, "colleague")  # same branch, not the borrower's officer
    assert _listed(client, "officer", correction.id) == (True, 200)
    assert _listed(client, "head", correction.id) == (True, 200)
    assert _listed(client, "admin", correction.id) == (True, 200)
    assert _listed(client, "colleague", correction.id) == (False, 403)
    assert _listed(client, "otherofficer", correction.id) == (False, 403)
    assert _listed(client, "otherhead", correction.id) == (False, 403)
    client.login("borrower")
    assert client.get(f"/privacy/corrections/{correction.id}").status_code == 403
    assert client.get("/privacy/corrections/999999").status_code == 403
    client.logout()
    client.login("officer")
    assert client.get("/privacy/corrections/999999").status_code == 404


def test_it_follows_the_borrower_to_a_new_officer(client, world, app):
    correction = _asked(client, app)
    successor = new_officer(app, world)
    reassign_as_head(client, world.own_borrower.id, successor)
    assert _listed(client, "successor", correction.id) == (True, 200)
    assert _listed(client, "officer", correction.id) == (False, 403)
    client.login("officer")
    response = client.submit(
        f"/privacy/corrections/{correction.id}/answer",
        {"outcome": "done", "answer": "已改"},
        page="/account",
    )
    assert response.status_code == 403
    assert load(app, CorrectionRequest, correction.id).status == CorrectionStatus.OPEN


def _answer(client, correction_id, outcome="done", answer="已按身份证更正手机号。"):
    return client.submit(
        f"/privacy/corrections/{correction_id}/answer",
        {"outcome": outcome, "answer": answer},
        page=f"/privacy/corrections/{correction_id}",
    )


@pytest.mark.parametrize(("outcome", "status"), [("done", "done"), ("declined", "declined")])
def test_answering_notifies_the_borrower(client, world, app, outcome, status):
    correction = _asked(client, app)
    client.login("officer")
    response = _answer(client, correction.id, outcome, "核对后的答复：号码已更新。")
    assert response.status_code == 302
    answered = load(app, CorrectionRequest, correction.id)
    assert answered.status == CorrectionStatus(status)
    assert answered.answered_by_id == world.officer.id and answered.answered_at is not None
    with app.app_context():
        [notice] = db.session.scalars(sa.select(Notice)).all()
        assert notice.borrower_id == world.own_borrower.id
        assert notice.event == f"correction.{status}"
        assert notice.subject_type == "correction_request" and notice.subject_id == correction.id
    # A second answer is refused: the first stands.
    again = _answer(client, correction.id, "declined", "核对后不予更正。")
    assert again.status_code == 302
    assert load(app, CorrectionRequest, correction.id).status == CorrectionStatus(status)
    client.logout()
    client.login("borrower")
    notices = text(client.get("/me/notices"))
    assert "核对后的答复：号码已更新。" in notices and 'href="/me/privacy"' in notices
    assert "核对后的答复：号码已更新。" in text(client.get("/me/privacy"))


def test_an_answer_needs_an_outcome_and_a_text(client, world, app):
    correction = _asked(client, app)
    client.login("head")
    english(client)
    response = _answer(client, correction.id, outcome="maybe", answer="")
    assert response.status_code == 200
    page = text(response)
    assert "Choose whether the record was corrected." in page
    assert "Write the answer to the borrower." in page
    assert load(app, CorrectionRequest, correction.id).status == CorrectionStatus.OPEN


def test_overdue_requests_are_marked_and_counted(client, world, app):
    correction = _asked(client, app)
    with app.app_context():
        row = db.session.get(CorrectionRequest, correction.id)
        row.due_on = local_today() - timedelta(days=1)
        db.session.commit()
    client.login("officer")
    page = text(client.get("/privacy/corrections"))
    assert 'class="table-danger"' in page and 'data-testid="overdue"' in page
    assert 'data-testid="overdue"' in text(client.get(f"/privacy/corrections/{correction.id}"))


def _menu_count(app, username: str) -> queries.MenuCount:
    from flask_login import login_user

    from portal.accounts.models import User

    with app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        login_user(user)
        return queries.menu_count()


def test_the_menu_count_is_the_staff_members_open_requests(client, world, app):
    correction = _asked(client, app)
    assert _menu_count(app, "officer") == queries.MenuCount(1, 0)
    assert _menu_count(app, "head") == queries.MenuCount(1, 0)
    assert _menu_count(app, "admin") == queries.MenuCount(1, 0)
    assert _menu_count(app, "otherofficer") == queries.MenuCount(0, 0)
    assert _menu_count(app, "otherhead") == queries.MenuCount(0, 0)
    with app.app_context():
        row = db.session.get(CorrectionRequest, correction.id)
        row.due_on = local_today() - timedelta(days=1)
        db.session.commit()
    assert _menu_count(app, "officer") == queries.MenuCount(1, 1)
    client.login("officer")
    _answer(client, correction.id)
    assert _menu_count(app, "officer") == queries.MenuCount(0, 0)
