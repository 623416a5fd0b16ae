"""Supply–demand matches on hand-built business profiles."""

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.extensions import db
from portal.networking.matching import SAME_BRANCH, SAME_REGION, proposals
from portal.networking.operations import set_profile
from portal.networking.vocabulary import ensure_default_tags
from tests.factories import BranchFactory, make_borrower, make_user


@pytest.fixture
def market(app, world):
    """Two branches of one region and a third far away, with profiles that match."""
    with app.app_context():
        tags = {code: tag.id for code, tag in ensure_default_tags().items()}
        officer = db.session.get(User, world.officer.id)
        other_officer = db.session.get(User, world.other_officer.id)
        far = BranchFactory(region="甘肃白银")
        far_officer = make_user("farofficer", Role.OFFICER, far)

        def person(owner, offers=(), needs=(), free_offers=(), free_needs=()):
            borrower = make_borrower(owner)
            set_profile(
                borrower,
                offer_tag_ids=[tags[c] for c in offers],
                need_tag_ids=[tags[c] for c in needs],
                free_offers=list(free_offers),
                free_needs=list(free_needs),
            )
            return borrower

        cast = {
            "feed_seller": person(officer, offers=["feed", "veterinary"]),
            "pig_farm": person(officer, offers=["hogs"], needs=["feed", "veterinary"]),
            "duck_farmer": person(other_officer, offers=["ducks"], needs=["feed"]),
            "restaurant": person(officer, needs=["ducks", "hogs"]),
            "far_restaurant": person(far_officer, needs=["ducks"]),
            "carpenter": person(other_officer, free_offers=["木工"]),
            "builder": person(officer, free_needs=["木工"]),
            "english": person(officer, free_needs=["Fertiliser"]),
            "shop": person(officer, offers=["fertiliser"]),
        }
        db.session.commit()
        return {key: (b.id, b.full_name) for key, b in cast.items()}


def _proposals(app, username, *keys_or_ids, market=None, per_borrower=5):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        ids = [market[k][0] if market else k for k in keys_or_ids]
        return {p.borrower.id: p for p in proposals(user, ids, "zh", per_borrower)}


def _matches_of(app, username, market, key, **kwargs):
    proposal = _proposals(app, username, key, market=market, **kwargs)[market[key][0]]
    return proposal.matches


def _reasons(app, match) -> list[str]:
    with app.test_request_context():  # Chinese, the default language
        return match.reasons


def _pairs(matches):
    return [(m.supplier.id, m.buyer.id, m.scope) for m in matches]


def test_offers_meet_needs_same_branch_first_then_region(app, market):
    m = {key: value[0] for key, value in market.items()}
    assert _pairs(_matches_of(app, "admin", market, "feed_seller")) == [
        (m["feed_seller"], m["pig_farm"], SAME_BRANCH),  # two shared tags
        (m["feed_seller"], m["duck_farmer"], SAME_REGION),
    ]
    assert _pairs(_matches_of(app, "admin", market, "pig_farm")) == [
        (m["feed_seller"], m["pig_farm"], SAME_BRANCH),
        (m["pig_farm"], m["restaurant"], SAME_BRANCH),
    ]
    # Another region's restaurant is too far to be proposed to the duck farmer.
    assert _pairs(_matches_of(app, "admin", market, "duck_farmer")) == [
        (m["feed_seller"], m["duck_farmer"], SAME_REGION),
        (m["duck_farmer"], m["restaurant"], SAME_REGION),
    ]
    assert _matches_of(app, "admin", market, "far_restaurant") == ()


def test_same_branch_counterparts_come_before_the_region(app, market):
    restaurant = _matches_of(app, "admin", market, "restaurant")
    assert [match.scope for match in restaurant] == [SAME_BRANCH, SAME_REGION]
    assert restaurant[0].supplier.id == market["pig_farm"][0]


def test_each_borrower_gets_at_most_the_asked_number(app, market):
    assert len(_matches_of(app, "admin", market, "feed_seller", per_borrower=1)) == 1


def test_reason_names_the_tag_and_both_sides(app, market):
    feed_seller, pig_farm = market["feed_seller"], market["pig_farm"]
    match = _matches_of(app, "admin", market, "feed_seller")[0]
    assert _reasons(app, match) == [
        f"饲料：{feed_seller[1]} 供应，{pig_farm[1]} 需要",
        f"兽医兽药：{feed_seller[1]} 供应，{pig_farm[1]} 需要",
    ]


def test_free_tag_in_either_language_meets_the_vocabulary_word(app, market):
    shop, english = market["shop"], market["english"]
    (match,) = _matches_of(app, "admin", market, "english")
    assert match.supplier.id == shop[0]
    assert _reasons(app, match) == [f"化肥：{shop[1]} 供应，{english[1]} 需要"]
    (match,) = _matches_of(app, "admin", market, "builder")
    assert (match.supplier.id, match.tags) == (market["carpenter"][0], ("木工",))


def test_counterpart_the_officer_does_not_see_shows_only_name_and_branch(app, market):
    (match,) = _matches_of(app, "otherofficer", market, "carpenter")
    assert match.supplier.visible and not match.buyer.visible
    assert match.buyer.name == market["builder"][1] and match.buyer.branch


def test_officer_is_proposed_only_their_own_borrowers(app, client, market):
    client.login("otherofficer")
    page = client.get("/networking/matches").get_data(as_text=True)
    assert page.count('data-testid="proposal"') == 2  # the duck farmer and the carpenter
    assert market["feed_seller"][1] in page  # a counterpart: name and branch only
    assert f'?borrower={market["feed_seller"][0]}"' not in page
    assert market["pig_farm"][1] not in page


def test_matches_page_hides_the_counterparts_details(app, client, market):
    with app.app_context():
        duck = db.session.get(Borrower, market["duck_farmer"][0])
        mobile, branch = duck.mobile, db.session.get(Branch, duck.branch_id).name
    client.login("officer")
    page = client.get("/networking/matches").get_data(as_text=True)
    assert market["duck_farmer"][1] in page and branch in page
    assert mobile not in page
    assert f'?borrower={market["duck_farmer"][0]}"' not in page  # no link to them
    assert market["far_restaurant"][1] not in page
