"""The borrower's own privacy page: consents withdrawn and given again in the portal, and
a copy of their data (JSON and PDF) holding every record of theirs and nobody else's."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.care.models import OutboxMessage
from portal.complaints import operations as complaint_ops
from portal.complaints.models import ComplaintCategory, ComplaintSeverity
from portal.extensions import db
from portal.loans.lifecycle import add_repayment, store_schedule
from portal.loans.models import Loan, LoanStatus
from portal.networking.models import (
    Introduction,
    Invitation,
    NetworkingEvent,
    ProfileEntry,
    ProfileSide,
)
from portal.privacy import consents
from portal.privacy.models import ConsentEvent, ConsentMethod, Purpose
from portal.privacy.operations import request_correction
from portal.services.operations import ensure_catalogue
from tests.factories import make_borrower, make_loan, make_user
from tests.reports.helpers import pdf_of, text_of
from tests.services.helpers import english, flashed, text
from tests.services.records import make_request, sign_visit_of


def _given(app, borrower_id: int, purpose: Purpose) -> bool:
    with app.app_context():
        return consents.given(borrower_id, purpose)


def _decide(client, purpose: str, give: bool):
    return client.submit(
        f"/me/privacy/consents/{purpose}", {"give": "1" if give else "0"}, page="/me/privacy"
    )


# --- consents -------------------------------------------------------------------------


def test_the_page_shows_each_purpose_with_its_state(client, world):
    client.login("borrower")
    english(client)
    page = text(client.get("/me/privacy"))
    for label in (
        "Processing for the loan",
        "Care greetings by SMS",
        "Business profile shown to other borrowers",
        "Photos on visits",
        "Satisfaction surveys",
    ):
        assert label in page
    # Every purpose was given on paper at onboarding (tests/factories.py).
    assert page.count('data-state="given">Given<') == 5
    assert "On paper, with the officer" in page
    # Four optional purposes can be withdrawn; the loan's cannot, and the page says why.
    assert page.count('data-testid="withdraw"') == 4
    assert 'action="/me/privacy/consents/loan"' not in page
    assert 'data-testid="loan-consent-note"' in page and "contact your branch" in page


def test_withdrawing_and_giving_again_records_portal_decisions(client, world, app):
    client.login("borrower")
    response = _decide(client, "greetings", give=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("#consents")
    assert _given(app, world.own_borrower.id, Purpose.GREETINGS) is False
    with app.app_context():  # what the greetings run asks: the borrower is out at once
        greeted = db.session.scalars(
            sa.select(Borrower.id).where(consents.given_filter(Purpose.GREETINGS))
        ).all()
        assert world.own_borrower.id not in greeted and world.foreign_borrower.id in greeted
    english(client)
    page = text(client.get("/me/privacy"))
    assert any("You withdrew your consent" in m for m in flashed(page)) or (
        "Withdrawn" in page and "By the borrower in the portal" in page
    )
    assert "By the borrower in the portal" in page

    _decide(client, "greetings", give=True)
    assert _given(app, world.own_borrower.id, Purpose.GREETINGS) is True
    with app.app_context():
        events = db.session.scalars(
            sa.select(ConsentEvent)
            .where(
                ConsentEvent.borrower_id == world.own_borrower.id,
                ConsentEvent.purpose == Purpose.GREETINGS,
            )
            .order_by(ConsentEvent.id)
        ).all()
        assert [(e.given, e.method, e.decided_by_id) for e in events[-2:]] == [
            (False, ConsentMethod.PORTAL, world.borrower.id),
            (True, ConsentMethod.PORTAL, world.borrower.id),
        ]
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.actor_id == world.borrower.id)
        ).all()
        assert "consent.withdraw" in actions and "consent.give" in actions
    # The other purposes did not move.
    assert _given(app, world.own_borrower.id, Purpose.NETWORKING) is True


def test_a_second_press_of_the_same_button_records_nothing_more(client, world, app):
    client.login("borrower")
    _decide(client, "surveys", give=False)
    _decide(client, "surveys", give=False)
    with app.app_context():
        portal_events = db.session.scalar(
            sa.select(sa.func.count(ConsentEvent.id)).where(
                ConsentEvent.borrower_id == world.own_borrower.id,
                ConsentEvent.method == ConsentMethod.PORTAL,
            )
        )
    assert portal_events == 1


def test_the_loan_consent_cannot_be_withdrawn_here(client, world, app):
    client.login("borrower")
    english(client)
    response = _decide(client, "loan", give=False)
    assert response.status_code == 302
    page = text(client.get("/me/privacy"))
    assert any("cannot be withdrawn here" in m for m in flashed(page))
    assert _given(app, world.own_borrower.id, Purpose.LOAN) is True


@pytest.mark.parametrize("purpose", ["unknown", "LOAN", "greetings%00"])
def test_an_unknown_purpose_is_not_found(client, world, purpose):
    client.login("borrower")
    assert _decide(client, purpose, give=False).status_code == 404


def test_a_bad_decision_changes_nothing(client, world, app):
    client.login("borrower")
    response = client.submit(
        "/me/privacy/consents/greetings", {"give": "maybe"}, page="/me/privacy"
    )
    assert response.status_code == 302
    assert _given(app, world.own_borrower.id, Purpose.GREETINGS) is True


def test_a_borrower_changes_only_their_own_consents(client, world, app):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        account = make_user("neighbour", Role.BORROWER, officer.branch)
        neighbour = make_borrower(officer, user=account)
        db.session.commit()
        neighbour_id = neighbour.id
    client.login("neighbour")
    _decide(client, "networking", give=False)
    assert _given(app, neighbour_id, Purpose.NETWORKING) is False
    assert _given(app, world.own_borrower.id, Purpose.NETWORKING) is True


def test_an_account_without_a_borrower_record_finds_nothing(client, world, app):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        make_user("nobody", Role.BORROWER, officer.branch)
        db.session.commit()
    client.login("nobody")
    assert client.get("/me/privacy").status_code == 404
    assert _decide(client, "greetings", give=False).status_code == 404
    assert client.get("/me/privacy/copy.json").status_code == 404


# --- the copy of one's data -----------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """What one borrower's records say, to look for in a copy."""

    borrower_id: int
    username: str
    strings: tuple[str, ...]  # texts that are theirs alone
    visit_ids: tuple[int, ...]
    loan_ids: tuple[int, ...]
    instalments: int
    repayments: int


def _records_of(borrower: Borrower, loan: Loan, tag: str, world) -> Kept:
    """One of every kind of record for ``borrower``; ``tag`` makes their texts unique."""
    store_schedule(loan)
    db.session.flush()
    add_repayment(
        loan,
        paid_on=loan.disbursed_on + timedelta(days=30),
        amount=Decimal("4500.00"),
        recorded_by=borrower.officer,
    )
    visit = sign_visit_of(world, [], borrower_id=borrower.id, loan_id=loan.id)
    service = make_request(borrower.id, description=f"想学养猪技术-{tag}")
    complaint = complaint_ops.file_complaint(
        borrower,
        category=ComplaintCategory.FEES,
        severity=ComplaintSeverity.GENERAL,
        subject=f"利息有误-{tag}",
        description="上个月多收了利息，请核对一下。",
        actor=None,
    )
    complaint_ops.resolve(complaint, f"已核对并退还-{tag}", borrower.officer)  # a notice
    db.session.add(
        OutboxMessage(
            borrower_id=borrower.id,
            branch_id=borrower.branch_id,
            occasion_code="birthday",
            year=2026,
            due_on=date(2026, 5, 1),
            locale="zh",
            body=f"生日快乐-{tag}",
        )
    )
    db.session.add(
        ProfileEntry(
            borrower_id=borrower.id,
            side=ProfileSide.OFFER,
            free_tag=f"土猪-{tag}",
            match_key=f"free:土猪-{tag}",
        )
    )
    correction = request_correction(borrower, "village", f"村名应为新庄-{tag}", None)
    db.session.flush()
    return Kept(
        borrower_id=borrower.id,
        username=borrower.user.username,
        strings=(
            borrower.full_name,
            borrower.resident_id,
            borrower.mobile,
            borrower.guarantor_phone,
            loan.contract_number,
            service.description,
            complaint.subject,
            complaint.resolution,
            f"生日快乐-{tag}",
            f"土猪-{tag}",
            correction.note,
        ),
        visit_ids=(visit.id,),
        loan_ids=(loan.id,),
        instalments=len(loan.instalments),
        repayments=1,
    )


@pytest.fixture
def two_borrowers(app, world):
    """The World's borrower and a neighbour of the same branch, each with every kind of
    record, met at the same networking event and introduced to each other."""
    with app.app_context():
        ensure_catalogue()
        officer = db.session.get(User, world.officer.id)
        own = db.session.get(Borrower, world.own_borrower.id)
        account = make_user("neighbour", Role.BORROWER, officer.branch)
        neighbour = make_borrower(officer, user=account)
        neighbour_loan = make_loan(neighbour, LoanStatus.ACTIVE)
        mine = _records_of(own, db.session.get(Loan, world.own_loan.id), "甲", world)
        theirs = _records_of(neighbour, neighbour_loan, "乙", world)
        event = NetworkingEvent(
            branch_id=own.branch_id, title="春季联谊会", held_on=date(2026, 3, 1), place="镇政府"
        )
        db.session.add(event)
        db.session.flush()
        for borrower in (own, neighbour):
            db.session.add(Invitation(event_id=event.id, borrower_id=borrower.id, attended=True))
        db.session.add(
            Introduction(
                event_id=event.id, supplier_id=own.id, buyer_id=neighbour.id, topic="仔猪供应"
            )
        )
        # The neighbour's own consent decision, made in the portal.
        consents.decide(neighbour, Purpose.SURVEYS, False, ConsentMethod.PORTAL, account)
        db.session.commit()
    return mine, theirs


def _flat(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def _copy_of(client, username: str) -> dict:
    client.login(username)
    response = client.get("/me/privacy/copy.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    client.logout()
    return json.loads(response.data)


def test_the_copy_holds_every_record_of_the_borrower_and_nobody_elses(client, two_borrowers):
    for kept, other in (two_borrowers, reversed(two_borrowers)):
        data = _copy_of(client, kept.username)
        flat = _flat(data)
        for value in kept.strings:
            assert value in flat, value
        for value in other.strings:
            assert value not in flat, value
        # Unmasked: the full numbers, in their own fields.
        assert data["profile"]["resident_id"] == kept.strings[1]
        assert data["profile"]["mobile"] == kept.strings[2]
        assert data["profile"]["guarantor_phone"] == kept.strings[3]
        # Every loan with its whole schedule and payments; every visit; one of each other.
        [loan] = data["loans"]
        assert loan["loan_number"] in kept.loan_ids
        assert len(loan["instalments"]) == kept.instalments > 0
        assert len(loan["repayments"]) == kept.repayments
        assert [v["visit_number"] for v in data["visits"]] == list(kept.visit_ids)
        assert len(data["service_requests"]) == 1 and data["service_requests"][0]["history"]
        assert len(data["complaints"]) == 1
        # The greeting, and the text telling them the complaint has an answer.
        assert sorted(m["occasion_code"] for m in data["greetings"]) == [
            "birthday",
            "complaint_resolved",
        ]
        assert [e["tag"] for e in data["networking_profile"]] == [kept.strings[9]]
        assert len(data["invitations"]) == 1 and data["invitations"][0]["attended"] is True
        assert len(data["notices"]) == 1 and kept.strings[6] in data["notices"][0]["text"]
        assert [c["note"] for c in data["correction_requests"]] == [kept.strings[10]]
        # Five purposes, each given on paper at onboarding.
        assert {c["purpose"] for c in data["consents"]} == {p.value for p in Purpose}
        assert len(data["consent_history"]) >= 5
        assert data["account"]["username"] == kept.username
        # The introduction is theirs; the other borrower is not named in it.
        [introduction] = data["introductions"]
        assert introduction["topic"] == "仔猪供应" and introduction["role"] in ("supplier", "buyer")
        assert other.strings[0] not in _flat(introduction)


def test_the_copy_leaves_out_the_companys_own_judgements(client, two_borrowers):
    mine, _ = two_borrowers
    data = _copy_of(client, mine.username)
    flat = _flat(data)
    [visit] = data["visits"]
    assert "risk_level" not in visit and "risk_signals" not in visit
    assert "officer_observations" not in visit and "存栏正常" not in flat
    assert "business_state" in visit and "satisfaction" in visit
    assert "tier" not in data["profile"]
    assert "written_off" not in data["loans"][0] and "decision_note" not in data["loans"][0]


def test_the_pdf_prints_the_same_records_with_the_full_numbers(client, two_borrowers, app):
    mine, theirs = two_borrowers
    client.login(mine.username)
    pdf = pdf_of(client.get("/me/privacy/copy.pdf"))
    printed = text_of(pdf)
    name, resident_id, mobile = mine.strings[:3]
    assert name in printed and resident_id in printed and mobile in printed
    # The same records as the JSON: every text of the borrower's, none of the neighbour's.
    for value in mine.strings:
        assert "".join(value.split()) in printed, value
    for value in theirs.strings:
        assert "".join(value.split()) not in printed, value


def test_each_download_is_audited_without_the_numbers(client, two_borrowers, app):
    mine, _ = two_borrowers
    client.login(mine.username)
    client.get("/me/privacy/copy.json")
    pdf_of(client.get("/me/privacy/copy.pdf"))
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "privacy.data_copy")
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.summary, e.object_type, e.object_id) for e in entries] == [
            ("format json", "Borrower", str(mine.borrower_id)),
            ("format pdf", "Borrower", str(mine.borrower_id)),
        ]
        assert all(e.actor_name == mine.username for e in entries)
        for entry in db.session.scalars(sa.select(AuditEntry)):
            for number in mine.strings[1:4]:
                assert number not in entry.summary


def test_staff_cannot_download_a_borrowers_copy_here(client, world):
    for username in ("officer", "head", "admin"):
        client.login(username)
        assert client.get("/me/privacy/copy.json").status_code == 403
        assert client.get("/me/privacy/copy.pdf").status_code == 403
        client.logout()
