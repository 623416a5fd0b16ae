"""Consents by purpose (issue 19): each optional feature refuses to act without its
consent and stops at once after withdrawal; onboarding records every decision; staff
record a paper decision on the borrower's consents page."""

import base64
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.accounts.models import User
from portal.borrowers import operations as borrower_operations
from portal.borrowers.models import Borrower
from portal.care import sending
from portal.care import texts as care_texts
from portal.care.models import OutboxMessage, OutboxStatus
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit.models import FieldEntry, HoldReason, Outcome
from portal.networking import queries as networking_queries
from portal.networking.forms import InviteFilterForm
from portal.networking.matching import proposals
from portal.networking.models import NetworkingEvent
from portal.networking.operations import NetworkingError, create_event, invite, set_profile
from portal.networking.vocabulary import ensure_default_tags
from portal.privacy import consents
from portal.privacy.models import Consent, ConsentEvent, ConsentMethod, Purpose
from portal.services.models import ServiceRequest, ServiceStatus
from portal.visits.models import Visit, VisitPhoto
from tests.borrowers.helpers import counts, onboarding_data
from tests.factories import make_borrower
from tests.fieldkit.helpers import form_fields, make_entry, make_plan, post_entry
from tests.services.helpers import flashed, load
from tests.services.records import make_request
from tests.visits.conftest import local_input, visit_form_data
from tests.visits.photo_helpers import camera_photo, jpeg

DAY = date(2026, 3, 20)  # no holiday


def _decide(app, borrower_id: int, purpose: Purpose, give: bool, by: str = "officer"):
    """The borrower's decision as the register records it (on paper, by ``by``)."""
    with app.app_context():
        borrower = db.session.get(Borrower, borrower_id)
        actor = db.session.scalar(sa.select(User).where(User.username == by))
        consents.decide(borrower, purpose, give, ConsentMethod.PAPER, actor)
        db.session.commit()


def _given(app, borrower_id: int, purpose: Purpose) -> bool:
    with app.app_context():
        return consents.given(borrower_id, purpose)


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- greetings ----------------------------------------------------------------------------


def _born_on_day(app, world, **kwargs) -> int:
    with app.app_context():
        db.session.execute(sa.update(Borrower).values(birth_date=date(1970, 6, 15)))
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer, birth_date=date(1980, 3, 20), **kwargs)
        db.session.commit()
        return borrower.id


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_no_greeting_without_the_consent(app, world):
    _born_on_day(app, world, withheld=(Purpose.GREETINGS,))
    with app.app_context():
        report = sending.send_due(DAY)
    assert (report.queued, report.sent) == (0, 0)
    assert _outbox(app) == []


def test_a_greeting_goes_with_the_consent(app, world):
    borrower_id = _born_on_day(app, world)
    with app.app_context():
        report = sending.send_due(DAY)
    assert (report.queued, report.sent) == (1, 1)
    (row,) = _outbox(app)
    assert (row.borrower_id, row.status) == (borrower_id, OutboxStatus.SENT)


def test_a_queued_greeting_is_not_sent_after_withdrawal_but_a_service_text_is(app, world):
    borrower_id = _born_on_day(app, world)
    with app.app_context():
        assert sending.queue_due(DAY) == 1
        borrower = db.session.get(Borrower, borrower_id)
        # A password code or a notice is not a greeting: it goes whatever the choice.
        care_texts.queue(
            care_texts.Text(
                once_key=f"test-code:{borrower_id}",
                occasion="password_reset",
                branch_id=borrower.branch_id,
                locale="zh",
                body="您的验证码是 123456",
                due_on=DAY,
                borrower_id=borrower_id,
            )
        )
        db.session.commit()
    _decide(app, borrower_id, Purpose.GREETINGS, False)

    with app.app_context():
        report = sending.deliver_due()
    greeting, code = _outbox(app)
    assert greeting.once_key is None and greeting.status == OutboxStatus.CANCELLED
    assert "withdrew their consent" in greeting.last_error and greeting.sent_at is None
    assert code.status == OutboxStatus.SENT
    assert (report.sent, report.cancelled) == (1, 1)
    # A cancelled greeting is not offered for a resend.
    assert not greeting.resendable


# --- networking ---------------------------------------------------------------------------


@pytest.fixture
def traders(app, world):
    """A feed seller and a pig farm of the officer, whose profiles match."""
    with app.app_context():
        tags = {code: tag.id for code, tag in ensure_default_tags().items()}
        officer = db.session.get(User, world.officer.id)

        def person(offers=(), needs=()):
            borrower = make_borrower(officer)
            set_profile(
                borrower,
                offer_tag_ids=[tags[c] for c in offers],
                need_tag_ids=[tags[c] for c in needs],
                free_offers=[],
                free_needs=[],
            )
            return borrower.id

        cast = {"seller": person(offers=["feed"]), "farm": person(offers=["hogs"], needs=["feed"])}
        db.session.commit()
        return cast


def _matched(app, borrower_ids) -> dict[int, set[int]]:
    with app.app_context():
        head = db.session.scalar(sa.select(User).where(User.username == "head"))
        return {
            p.borrower.id: {m.supplier.id for m in p.matches} | {m.buyer.id for m in p.matches}
            for p in proposals(head, borrower_ids, "zh")
        }


def _profiled(app) -> set[int]:
    from portal.networking.matching import profiled_statement

    with app.app_context():
        head = db.session.scalar(sa.select(User).where(User.username == "head"))
        return {b.id for b in db.session.scalars(profiled_statement(head))}


def test_the_profile_leaves_the_matches_at_once_after_withdrawal(app, client, traders):
    seller, farm = traders["seller"], traders["farm"]
    assert _profiled(app) >= {seller, farm}
    assert farm in _matched(app, [seller])[seller]

    _decide(app, farm, Purpose.NETWORKING, False)

    assert seller in _profiled(app) and farm not in _profiled(app)
    # Neither as the page's borrower nor as anyone's counterpart.
    assert _matched(app, [seller])[seller] == set()
    client.login("head")
    page = _page(client.get("/networking/matches"))
    with app.app_context():
        farm_name = db.session.get(Borrower, farm).full_name
    assert farm_name not in page
    # The profiles list says it is hidden, and shows none of it.
    listing = _page(client.get("/networking/profiles?q=" + farm_name))
    assert 'data-testid="profile-hidden"' in listing and "饲料" not in listing
    edit = _page(client.get(f"/networking/borrowers/{farm}/profile"))
    assert 'data-testid="profile-hidden"' in edit
    assert f"/borrowers/{farm}/consents" in edit


def test_an_event_does_not_invite_a_borrower_without_the_consent(app, world, traders):
    farm = traders["farm"]
    _decide(app, farm, Purpose.NETWORKING, False)
    with app.test_request_context():
        head = db.session.scalar(sa.select(User).where(User.username == "head"))
        event = create_event(
            world.branch.id,
            head,
            title="养殖户交流会",
            held_on=date.today() + timedelta(days=10),
            place="镇文化站",
            description="",
        )
        db.session.flush()
        with pytest.raises(NetworkingError) as refused:
            invite(event, [farm, traders["seller"]], head)
        message = str(refused.value.message)
        assert "未同意参加对接交流" in message or "not agreed to networking" in message

        filters = InviteFilterForm(locale="zh")
        found = {b.id for b in networking_queries.filtered_candidates(event, head, filters)}
        assert traders["seller"] in found and farm not in found
        assert invite(event, [traders["seller"]], head) == 1
        db.session.rollback()
    assert _given(app, farm, Purpose.NETWORKING) is False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(NetworkingEvent.id))) == 0


# --- photos on visits ---------------------------------------------------------------------


def _files(content: bytes) -> dict:
    return {"photo_1": (io.BytesIO(content), "IMG_0001.jpg", "image/jpeg"), "photo_kind_1": "stock"}


def _new_visit(client, world, data):
    url = f"/borrowers/{world.own_borrower.id}/visits/new"
    return client.submit(url, data, content_type="multipart/form-data")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_a_photo_is_refused_without_the_consent_and_taken_with_it(app, client, world):
    client.login("officer")
    _decide(app, world.own_borrower.id, Purpose.PHOTOS, False)
    form = _page(client.get(f"/borrowers/{world.own_borrower.id}/visits/new"))
    assert 'data-testid="photos-not-allowed"' in form and 'name="photo_1"' not in form

    refused = _new_visit(client, world, visit_form_data("p1") | _files(camera_photo(70)))
    assert refused.status_code == 200
    assert "未同意走访拍照" in _page(refused) or "has not agreed to photos" in _page(refused)
    assert 'id="photo_1-errors"' in _page(refused)
    assert (_count(app, Visit), _count(app, VisitPhoto)) == (0, 0)

    _decide(app, world.own_borrower.id, Purpose.PHOTOS, True)
    taken = _new_visit(client, world, visit_form_data("p2") | _files(camera_photo(71)))
    assert taken.status_code == 302
    assert (_count(app, Visit), _count(app, VisitPhoto)) == (1, 1)

    # Withdrawn: the next visit's photo is refused at once.
    _decide(app, world.own_borrower.id, Purpose.PHOTOS, False)
    again = _new_visit(client, world, visit_form_data("p3") | _files(camera_photo(72)))
    assert again.status_code == 200 and 'id="photo_1-errors"' in _page(again)
    assert (_count(app, Visit), _count(app, VisitPhoto)) == (1, 1)


def _tablet_photo(seed: int) -> str:
    image = Image.open(io.BytesIO(camera_photo(seed))).resize((1600, 1200))
    return "data:image/jpeg;base64," + base64.b64encode(jpeg(image, 82)).decode()


def test_the_field_kit_holds_an_entry_with_a_photo_without_the_consent(app, client, world):
    with app.app_context():
        plan_id = make_plan(world.officer.id, [world.own_borrower.id]).id
        kit_borrower = None
        db.session.commit()
    _decide(app, world.own_borrower.id, Purpose.PHOTOS, False)
    visited_at = utcnow() - timedelta(minutes=30)
    fields = form_fields(visited_at=local_input(visited_at))
    fields |= {"photo_1": [_tablet_photo(80)], "photo_kind_1": ["business"]}
    client.login("officer")
    # The kit tells the tablet which parts of the form not to ask.
    kit = client.get("/field/kit").get_json()
    kit_borrower = next(b for b in kit["borrowers"] if b["id"] == world.own_borrower.id)
    assert kit_borrower["consents"] == {"photos": False, "surveys": True}

    response = post_entry(client, make_entry(world.own_borrower.id, plan_id, fields=fields))
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["reason"] == HoldReason.INVALID and list(answer["errors"]) == ["photo_1"]
    with app.app_context():
        held = db.session.scalars(sa.select(FieldEntry)).one()
        assert held.outcome == Outcome.HELD
    assert (_count(app, Visit), _count(app, VisitPhoto)) == (0, 0)


# --- surveys -----------------------------------------------------------------------------


def test_the_satisfaction_question_is_asked_only_with_the_consent(app, client, world):
    client.login("officer")
    url = f"/borrowers/{world.own_borrower.id}/visits/new"
    assert 'name="satisfaction"' in _page(client.get(url))
    # With the consent, the answer is required.
    missing = client.submit(url, visit_form_data("s1", satisfaction=None))
    assert missing.status_code == 200 and 'id="satisfaction-errors"' in _page(missing)
    assert _count(app, Visit) == 0

    _decide(app, world.own_borrower.id, Purpose.SURVEYS, False)
    page = _page(client.get(url))
    assert 'name="satisfaction"' not in page and 'data-testid="not-asked-satisfaction"' in page
    # Not asked, not required; an answer sent all the same is not kept.
    saved = client.submit(url, visit_form_data("s2", satisfaction="2"))
    assert saved.status_code == 302
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        assert visit.satisfaction is None
        detail = _page(client.get(f"/visits/{visit.id}"))
    assert "未询问" in detail or "Not asked" in detail


def test_the_visit_operation_refuses_a_survey_answer_without_the_consent(app, world):
    from tests.visits.helpers import make_visit

    _decide(app, world.own_borrower.id, Purpose.SURVEYS, False)
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        from portal.visits.operations import VisitRefusedError

        with pytest.raises(VisitRefusedError) as refused:
            make_visit(borrower, officer, utcnow() - timedelta(hours=2), satisfaction=4)
        assert refused.value.field == "satisfaction"
        visit = make_visit(borrower, officer, utcnow() - timedelta(hours=2), satisfaction=None)
        assert visit.satisfaction is None


def test_a_completed_service_is_not_rated_without_the_consent(app, client, world):
    with app.app_context():
        done = make_request(world.own_borrower.id, status=ServiceStatus.COMPLETED).id
        db.session.commit()
    _decide(app, world.own_borrower.id, Purpose.SURVEYS, False)
    client.login("borrower")
    assert 'name="rating"' not in _page(client.get(f"/me/services/{done}"))
    response = client.submit(
        f"/me/services/{done}/rate",
        {"rating": "5"},
        page=f"/me/services/{done}",
        follow_redirects=True,
    )
    assert any("满意度调查" in m or "satisfaction surveys" in m for m in flashed(_page(response)))
    rated = load(app, ServiceRequest, done)
    assert (rated.status, rated.rating) == (ServiceStatus.COMPLETED, None)

    _decide(app, world.own_borrower.id, Purpose.SURVEYS, True)
    assert 'name="rating"' in _page(client.get(f"/me/services/{done}"))
    client.submit(f"/me/services/{done}/rate", {"rating": "4"}, page=f"/me/services/{done}")
    assert load(app, ServiceRequest, done).rating == 4


# --- onboarding ---------------------------------------------------------------------------


def _decisions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(ConsentEvent.id)))


def test_onboarding_without_the_loan_consent_is_refused_and_writes_nothing(app, client, world):
    client.login("officer")
    before, decisions = counts(app), _decisions(app)
    response = client.submit(
        "/borrowers/new",
        onboarding_data(consent=None, consent_greetings="y", consent_photos="y"),
    )
    assert response.status_code == 200
    assert "须取得其单独同意" in _page(response)
    assert counts(app) == before and _decisions(app) == decisions

    # The operation refuses on its own too.
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        with pytest.raises(borrower_operations.ConsentRequiredError):
            borrower_operations.onboard(
                {}, officer=officer, by=officer, consents={Purpose.GREETINGS: True}
            )


def test_onboarding_shows_each_purpose_with_its_text(app, client, world):
    client.login("officer")
    page = _page(client.get("/borrowers/new"))
    for purpose in Purpose:
        assert f'data-testid="consent-{purpose.value}"' in page
    assert 'name="wants_greetings"' not in page
    assert consents.TEXT_VERSION in page
    assert 'name="wants_greetings"' not in _page(
        client.get(f"/borrowers/{world.own_borrower.id}/edit")
    )


# --- the staff consents page --------------------------------------------------------------


def _consents_url(world) -> str:
    return f"/borrowers/{world.own_borrower.id}/consents"


def test_staff_record_a_paper_withdrawal_with_officer_and_version(app, client, world):
    client.login("officer")
    page = _page(client.get(_consents_url(world)))
    assert 'data-testid="purpose-greetings"' in page and 'data-testid="loan-not-here"' in page
    response = client.submit(_consents_url(world), {"purpose": "greetings", "decision": "withdraw"})
    assert response.status_code == 302
    assert not _given(app, world.own_borrower.id, Purpose.GREETINGS)
    with app.app_context():
        event = db.session.scalars(
            sa.select(ConsentEvent)
            .where(ConsentEvent.borrower_id == world.own_borrower.id)
            .order_by(ConsentEvent.id.desc())
        ).first()
        assert (event.purpose, event.given, event.method) == (
            Purpose.GREETINGS,
            False,
            ConsentMethod.PAPER,
        )
        assert event.decided_by_id == world.officer.id
        assert event.text_version == consents.TEXT_VERSION
    history = _page(client.get(_consents_url(world)))
    assert re.search(r"consent-history.*officer", history, re.S)

    # Given again on paper.
    client.submit(_consents_url(world), {"purpose": "greetings", "decision": "give"})
    assert _given(app, world.own_borrower.id, Purpose.GREETINGS)


def test_the_loan_consent_is_not_withdrawn_on_the_page(app, client, world):
    client.login("officer")
    decisions = _decisions(app)
    response = client.submit(_consents_url(world), {"purpose": "loan", "decision": "withdraw"})
    assert response.status_code == 200
    assert "借贷关系" in _page(response) or "ends the lending relationship" in _page(response)
    assert _given(app, world.own_borrower.id, Purpose.LOAN)
    assert _decisions(app) == decisions


def test_a_decision_that_changes_nothing_is_refused(app, client, world):
    client.login("officer")
    decisions = _decisions(app)
    response = client.submit(_consents_url(world), {"purpose": "photos", "decision": "give"})
    assert response.status_code == 200 and 'data-testid="consent-errors"' in _page(response)
    assert _decisions(app) == decisions
    # Bad input is refused with a message, never a 500.
    for data in ({"purpose": "bogus", "decision": "give"}, {"purpose": "photos", "decision": "x"}):
        response = client.submit(_consents_url(world), data)
        assert response.status_code == 200 and 'data-testid="consent-errors"' in _page(response)
    assert _decisions(app) == decisions


@pytest.mark.parametrize("username", ["otherofficer", "otherhead"])
def test_staff_of_another_branch_are_refused(app, client, world, username):
    client.login(username)
    decisions = _decisions(app)
    assert client.get(_consents_url(world)).status_code == 403
    response = client.submit(
        _consents_url(world),
        {"purpose": "greetings", "decision": "withdraw"},
        page="/borrowers/",
    )
    assert response.status_code == 403
    assert client.get("/borrowers/999999/consents").status_code == 404
    assert _decisions(app) == decisions
    assert _given(app, world.own_borrower.id, Purpose.GREETINGS)


def test_the_detail_page_links_the_consents(app, client, world):
    client.login("officer")
    page = _page(client.get(f"/borrowers/{world.own_borrower.id}"))
    assert _consents_url(world) in page and 'data-testid="consents-summary"' in page


def test_the_factory_gives_every_consent_unless_withheld(app, world):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        borrower = make_borrower(officer, withheld=(Purpose.SURVEYS,))
        decided = {c.purpose: c.given for c in consents.current(borrower.id).values()}
        assert decided == {p: p != Purpose.SURVEYS for p in Purpose}
        assert db.session.scalar(
            sa.select(sa.func.count(Consent.id)).where(Consent.borrower_id == borrower.id)
        ) == len(Purpose)
        db.session.rollback()
