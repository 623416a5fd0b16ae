"""Quantity, season and price on offers and needs, shown and used in matching (issue 20)."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.networking.models import EntryDetails, ProfileEntry, ProfileSide, month_set
from portal.networking.operations import set_profile
from portal.networking.vocabulary import ensure_default_tags
from tests.factories import make_borrower


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/account")


@pytest.fixture
def pigs(app, world):
    """A pig farm offering hogs, and three buyers of hogs in the same branch."""
    with app.app_context():
        tags = ensure_default_tags()
        officer = db.session.get(User, world.officer.id)
        people = {}
        for key in ("farm", "early", "late", "march"):
            people[key] = make_borrower(officer)
        hogs = tags["hogs"].id
        set_profile(people["farm"], offer_tag_ids=[hogs], need_tag_ids=[], free_offers=[],
                    free_needs=[])  # fmt: skip
        for key in ("early", "late", "march"):
            set_profile(people[key], offer_tag_ids=[], need_tag_ids=[hogs], free_offers=[],
                        free_needs=[])  # fmt: skip
        db.session.commit()
        return {key: (b.id, b.full_name) for key, b in people.items()} | {"hogs": hogs}


def _entry(app, borrower_id) -> ProfileEntry:
    with app.app_context():
        entry = db.session.scalars(
            sa.select(ProfileEntry).where(ProfileEntry.borrower_id == borrower_id)
        ).one()
        db.session.expunge(entry)
        return entry


def _details(app, borrower_id, **data):
    """Post the borrower's profile page with the details of their one entry."""
    entry = _entry(app, borrower_id)
    return entry, {f"e{entry.id}-{name}": value for name, value in data.items()}


def _save(client, app, pigs, key, **data):
    borrower_id = pigs[key][0]
    entry, fields = _details(app, borrower_id, **data)
    side = "offers" if entry.side == ProfileSide.OFFER else "needs"
    url = f"/networking/borrowers/{borrower_id}/profile"
    return client.submit(url, {side: [str(pigs["hogs"])], **fields}, page=url)


def test_the_officer_gives_quantity_season_and_price_and_the_profile_shows_them(
    app, client, world, pigs
):
    client.login("officer")
    response = _save(
        client, app, pigs, "farm", quantity="60", unit="头", months=["3"], price="1800"
    )
    assert response.status_code == 302
    entry = _entry(app, pigs["farm"][0])
    assert (entry.quantity, entry.unit, entry.months, entry.price) == (
        Decimal("60"), "头", month_set([3]), Decimal("1800"),
    )  # fmt: skip
    page = client.get("/networking/profiles").get_data(as_text=True)
    assert "生猪 · 60 头 · 3月 · ¥1,800 每头" in page or "60 头 · 3月" in page
    _english(client)
    page = client.get("/networking/profiles").get_data(as_text=True)
    assert "60 头 · Mar · ¥1,800 per 头" in page
    with app.app_context():
        summary = db.session.scalars(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "networking.profile_set")
        ).all()[-1]
    assert "60" in summary and "months=3" in summary


def test_details_survive_a_save_that_keeps_the_entry(app, client, world, pigs):
    client.login("officer")
    _save(client, app, pigs, "farm", quantity="2", unit="t", per_month="y")
    url = f"/networking/borrowers/{pigs['farm'][0]}/profile"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2"' in page and 'value="t"' in page
    with app.app_context():  # saved again from elsewhere without the details: kept
        borrower = db.session.get(ProfileEntry, _entry(app, pigs["farm"][0]).id).borrower_id
        from portal.borrowers.models import Borrower

        set_profile(db.session.get(Borrower, borrower), offer_tag_ids=[pigs["hogs"]],
                    need_tag_ids=[], free_offers=[], free_needs=[])  # fmt: skip
        db.session.commit()
    entry = _entry(app, pigs["farm"][0])
    assert (entry.quantity, entry.unit, entry.per_month) == (Decimal("2"), "t", True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quantity": "60"}, "Give the unit of the quantity or price (head, t, kg)."),
        ({"quantity": "-1", "unit": "头"}, "Give a number of 0 or more."),
        ({"price": "abc", "unit": "头"}, "Not a valid decimal value."),
    ],
)
def test_bad_details_are_refused_beside_the_field(app, client, world, pigs, data, message):
    client.login("officer")
    _english(client)
    response = _save(client, app, pigs, "farm", **data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    entry = _entry(app, pigs["farm"][0])
    assert (entry.quantity, entry.price, entry.unit) == (None, None, "")


def test_a_need_that_agrees_on_season_and_quantity_ranks_first_and_says_why(
    app, client, world, pigs
):
    client.login("officer")
    _save(client, app, pigs, "farm", quantity="60", unit="头", months=["3", "4"])
    _save(client, app, pigs, "early", quantity="80", unit="头", months=["1"])  # too many, Jan
    _save(client, app, pigs, "late", quantity="100", unit="头", months=["10"])  # too many, Oct
    _save(client, app, pigs, "march", quantity="40", unit="头", months=["3"])  # agrees on both
    _english(client)
    page = client.get(f"/networking/matches?borrower={pigs['farm'][0]}").get_data(as_text=True)
    farm_matches = page.split('data-testid="match"')[1:]
    assert len(farm_matches) == 3
    assert pigs["march"][1] in farm_matches[0], "the agreeing need comes first"
    assert (
        "Ranked higher: Hogs: both in Mar; Hogs: 60 头 offered cover the 40 头 needed"
        in (farm_matches[0])
    )
    assert "Ranked higher" not in farm_matches[1] + farm_matches[2]
    assert f"{pigs['farm'][1]} (60 头 · Mar, Apr)" in farm_matches[0]
    # Without any details, the order is the one of before: by borrower.
    with app.app_context():
        for key in ("early", "late", "march"):
            db.session.execute(
                sa.update(ProfileEntry)
                .where(ProfileEntry.borrower_id == pigs[key][0])
                .values(**EntryDetails().as_dict())
            )
        db.session.commit()
    page = client.get(f"/networking/matches?borrower={pigs['farm'][0]}").get_data(as_text=True)
    assert "Ranked higher" not in page
