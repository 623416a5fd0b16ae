"""Masked numbers stay masked: nothing printed beside them fills in the stars (issue 11)."""

from datetime import date

import pytest

from portal.borrowers.masking import mask_phone, mask_resident_id
from portal.borrowers.models import Borrower
from tests.borrowers.helpers import fetch, page_text
from tests.reports.helpers import pdf_of, text_of


def _birth_date_spellings(born: date) -> list[str]:
    """The ways a page could print the eight digits the masked ID hides."""
    return [
        born.isoformat(),
        born.strftime("%Y%m%d"),
        born.strftime("%Y/%m/%d"),
        f"{born.year}年{born.month}月{born.day}日",
        f"{born.year}年{born.month:02d}月{born.day:02d}日",
    ]


def _assert_not_rebuildable(text: str, borrower: Borrower) -> None:
    assert borrower.resident_id not in text
    for spelling in _birth_date_spellings(borrower.birth_date):
        assert spelling not in text, spelling


@pytest.mark.parametrize("who", ["officer", "head", "admin"])
def test_the_detail_page_shows_the_year_of_birth_beside_the_masked_id(client, world, app, who):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login(who)
    page = page_text(client.get(f"/borrowers/{own.id}"))
    assert mask_resident_id(own.resident_id) in page
    assert str(own.birth_date.year) in page
    _assert_not_rebuildable(page, own)


def test_the_full_birth_date_comes_with_the_audited_reveal(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    page = page_text(client.submit(f"/borrowers/{own.id}/reveal", page=f"/borrowers/{own.id}"))
    assert own.resident_id in page and own.birth_date.isoformat() in page


def test_the_list_never_prints_a_birth_date(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    page = page_text(client.get("/borrowers/"))
    assert mask_resident_id(own.resident_id) in page
    _assert_not_rebuildable(page, own)


def test_the_borrowers_own_page_masks_the_same_way(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("borrower")
    page = page_text(client.get("/me"))
    assert mask_resident_id(own.resident_id) in page and str(own.birth_date.year) in page
    _assert_not_rebuildable(page, own)


@pytest.mark.parametrize("who", ["officer", "borrower"])
def test_the_dossier_pdf_prints_the_year_of_birth_beside_the_masked_id(client, world, app, who):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login(who)
    text = text_of(pdf_of(client.get(f"/borrowers/{own.id}/dossier.pdf")))
    assert mask_resident_id(own.resident_id) in text
    assert str(own.birth_date.year) in text
    _assert_not_rebuildable(text, own)


def test_a_gateway_error_echoing_the_phone_is_masked_in_the_care_outbox(client, world, app):
    """An SMS gateway's answer may quote the number it refused; the outbox shows it masked."""
    from portal.care.models import OutboxMessage, OutboxStatus
    from portal.extensions import db

    own = fetch(app, Borrower, id=world.own_borrower.id)
    with app.app_context():
        db.session.add(
            OutboxMessage(
                borrower_id=own.id,
                branch_id=own.branch_id,
                occasion_code="birthday",
                year=2026,
                due_on=date(2026, 3, 2),
                locale="zh",
                body="祝您生日快乐！",
                status=OutboxStatus.FAILED,
                gateway="webhook",
                attempts=5,
                last_error=f'HTTP 400: {{"error": "invalid mobile {own.mobile}"}}',
            )
        )
        db.session.commit()
    client.login("head")
    page = page_text(client.get("/care/outbox?show=failures"))
    assert "invalid mobile" in page
    assert own.mobile not in page and mask_phone(own.mobile) in page
