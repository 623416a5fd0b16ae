"""The declaration of the form's questions against everything built from it.

The signed record is versioned on its own (portal/visits/signing.py): the current
version must sign every declared question, and a visit signed under any version,
old ones included, must still verify.
"""

import itertools
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.reports.data import visit_report
from portal.visits import signing
from portal.visits.forms import VisitForm, prefill_from
from portal.visits.models import Visit
from portal.visits.operations import VisitAnswers, verify
from portal.visits.questions import QUESTIONS, SECTIONS, sections
from tests.visits.conftest import english
from tests.visits.helpers import make_visit

# A visit as signed under "visit-v1" before the record was versioned; its hash was
# computed by that code and must never change.
V1_VISIT = SimpleNamespace(
    borrower_id=7,
    loan_id=11,
    officer_id=3,
    branch_id=2,
    amends_id=None,
    visited_at=datetime(2026, 11, 5, 6, 30, tzinfo=UTC),
    signed_at=datetime(2026, 11, 5, 7, 45, 12, tzinfo=UTC),
    place="李庄村养殖场",
    latitude=34.123456,
    longitude=113.654321,
    accuracy_m=12,
    business_state="normal",
    revenue_trend="stable",
    funds_use="as_contracted",
    repayment_status="on_time",
    guarantor_status="normal",
    collateral_status="intact",
    household_changes="添了孙子",
    risk_signals=["family_illness"],
    officer_observations="猪舍干净",
    borrower_opinions="希望提高额度",
    services_needed=["financial_training", "other"],
    services_other="电商开店指导",
    satisfaction=4,
    risk_level="yellow",
    risk_reason="yellow: family_illness",
    content_hash="7ca383372b794b39be30ad59905ed02df3afc975bb428fc8505a3dd7a78cd8b3",
)


def test_the_current_record_version_signs_every_declared_question():
    signed = signing.RECORD_VERSIONS[signing.CURRENT_VERSION]
    assert {q.name for q in QUESTIONS} <= set(signed)
    record = signing.canonical_record(V1_VISIT, b"png-bytes").decode()
    for question in QUESTIONS:
        assert f'"{question.name}":' in record, question.name
    assert f'"v":"{signing.CURRENT_VERSION}"' in record


def test_record_versions_only_grow():
    """Each version signs more than the one before: more questions, or the evidence besides."""
    names = list(signing.RECORD_VERSIONS)
    for older, newer in itertools.pairwise(names):
        old_questions, new_questions = (set(signing.RECORD_VERSIONS[v]) for v in (older, newer))
        gained_evidence = (
            newer in signing.EVIDENCE_VERSIONS and older not in signing.EVIDENCE_VERSIONS
        )
        assert old_questions < new_questions or (old_questions == new_questions and gained_evidence)
    assert names[-1] == signing.CURRENT_VERSION


def test_a_visit_signed_under_version_1_keeps_its_hash():
    record = signing.canonical_record(V1_VISIT, b"png-bytes", "visit-v1")
    assert signing.content_hash(V1_VISIT, b"png-bytes", "visit-v1") == V1_VISIT.content_hash
    assert record.startswith(b'{"accuracy_m":12,"amends_id":null,"borrower_id":7,')
    assert signing.signed_version(V1_VISIT, b"png-bytes") == "visit-v1"
    assert signing.signed_version(V1_VISIT, b"other-png") is None


@pytest.mark.parametrize("version", list(signing.RECORD_VERSIONS))
def test_a_visit_signed_under_any_version_still_verifies(app, world, monkeypatch, version):
    sealed = signing.content_hash
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        with monkeypatch.context() as signing_then:
            signing_then.setattr(
                signing,
                "content_hash",
                lambda visit, png, photos=(): sealed(visit, png, version, photos),
            )
            visit = make_visit(borrower, officer, utcnow() - timedelta(days=1))
        db.session.commit()
        assert verify(visit)
        db.session.execute(
            sa.text("UPDATE visits SET place = 'x' WHERE id = :id"), {"id": visit.id}
        )
        db.session.commit()
        db.session.expire_all()
        assert not verify(db.session.get(Visit, visit.id))


def test_every_question_has_a_column_a_field_an_answer_and_a_section(app):
    columns = {column.key for column in sa.inspect(Visit).columns}
    answers = {field.name for field in fields(VisitAnswers)}
    with app.test_request_context():
        form = VisitForm(meta={"csrf": False})
    for question in QUESTIONS:
        assert question.name in columns
        assert question.name in answers
        assert question.name in form
        assert question.section in SECTIONS
    assert [q for _, asked in sections() for q in asked] == list(QUESTIONS)


def test_an_amendment_is_prefilled_with_every_answer(app, world):
    with app.app_context(), app.test_request_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1),
            household_changes="儿子外出打工",
            risk_signals=frozenset({"family_illness"}),
            borrower_opinions="想学电商",
            services_needed=frozenset({"other", "legal_services"}),
            services_other="电商开店指导",
            satisfaction=3,
        )
        form = VisitForm(data=prefill_from(visit), meta={"csrf": False})
        for question in QUESTIONS:
            again = question.kind.from_form(form[question.name].data)
            assert question.kind.stored(again) == getattr(visit, question.name), question.name
        db.session.rollback()


def test_the_visit_page_and_the_pdf_list_every_declared_answer(client, app, world):
    with app.app_context():
        visit = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=1),
            services_needed=frozenset({"legal_services"}),
            satisfaction=3,
        )
        db.session.commit()
        visit_id = visit.id
    client.login("officer")
    english(client)
    page = client.get(f"/visits/{visit_id}").text
    for question in QUESTIONS:
        assert str(question.heading) in page.replace("&#39;", "'"), question.name
    assert "Legal services" in page and "3 / 5" in page
    with app.test_request_context(), app.app_context():
        labels = [line.label for line in visit_report(visit_id).answers]
        borrower_copy = [line.label for line in visit_report(visit_id, internal=False).answers]
        assert labels == [str(q.heading) for q in QUESTIONS]
        assert borrower_copy == [str(q.heading) for q in QUESTIONS if not q.internal]
