"""Networking events, business profiles and the tag vocabulary through the pages."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.core.calendar import local_today
from portal.extensions import db
from portal.networking.models import (
    BusinessTag,
    Introduction,
    Invitation,
    NetworkingEvent,
    Outcome,
    ProfileEntry,
    ProfileSide,
)
from portal.networking.operations import set_profile
from portal.networking.vocabulary import ensure_default_tags
from tests.factories import BranchFactory, make_borrower, make_user


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/account")


def _count(app, model, **where) -> int:
    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(model).filter_by(**where)
        return db.session.scalar(stmt)


def _today(app) -> date:
    with app.app_context():
        return local_today()


@pytest.fixture
def people(app, world):
    """A feed seller and a pig farm in the head's branch, a duck farmer far away."""
    with app.app_context():
        tags = ensure_default_tags()
        officer = db.session.get(User, world.officer.id)
        far_officer = make_user("farofficer", Role.OFFICER, BranchFactory(region="甘肃白银"))
        seller, farm, far = (
            make_borrower(officer),
            make_borrower(officer),
            make_borrower(far_officer),
        )
        set_profile(seller, offer_tag_ids=[tags["feed"].id], need_tag_ids=[], free_offers=[],
                    free_needs=[])  # fmt: skip
        set_profile(farm, offer_tag_ids=[], need_tag_ids=[tags["feed"].id], free_offers=[],
                    free_needs=[])  # fmt: skip
        db.session.commit()
        return {"seller": (seller.id, seller.full_name), "farm": (farm.id, farm.full_name),
                "far": (far.id, far.full_name), "feed": tags["feed"].id}  # fmt: skip


def _event(app, world, held_on, branch_id=None) -> int:
    with app.app_context():
        event = NetworkingEvent(
            branch_id=branch_id or world.branch.id, title="秋季产销对接会", held_on=held_on,
            place="镇农技站",
        )  # fmt: skip
        db.session.add(event)
        db.session.commit()
        return event.id


def _invite(app, event_id, *borrower_ids, attended=True):
    with app.app_context():
        for borrower_id in borrower_ids:
            db.session.add(
                Invitation(event_id=event_id, borrower_id=borrower_id, attended=attended)
            )
        db.session.commit()


def test_head_creates_an_event_and_invites_from_the_matches(app, client, world, people):
    client.login("head")
    response = client.submit(
        "/networking/events/new",
        {"title": "春季产销对接会", "held_on": "2026-12-05", "place": "众兴镇会议室"},
    )
    assert response.status_code == 302
    invite_url = response.headers["Location"]
    page = client.get(invite_url).get_data(as_text=True)
    assert f"饲料：{people['seller'][1]} 供应，{people['farm'][1]} 需要" in page
    response = client.submit(
        invite_url, {"borrower_ids": [people["seller"][0], people["farm"][0]]}, page=invite_url
    )
    assert response.status_code == 302
    summary = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已邀请 2 位借款人" in summary
    assert people["seller"][1] in summary and people["farm"][1] in summary
    with app.app_context():
        event = db.session.scalar(sa.select(NetworkingEvent))
        assert event.branch_id == world.branch.id and event.created_by_id == world.head.id


def test_invite_by_filter(app, client, world, people):
    event_id = _event(app, world, date(2026, 12, 5))
    client.login("head")
    page = client.get(f"/networking/events/{event_id}/invite?tag={people['feed']}").get_data(
        as_text=True
    )
    found = page.split("查找结果")[1].split("从供需匹配中选择")[0]  # the filter's results
    assert f'name="borrower_ids" value="{people["seller"][0]}" id="c' in found
    assert f'name="borrower_ids" value="{people["farm"][0]}" id="c' in found
    assert f'value="{world.own_borrower.id}" id="c' not in found  # no feed in their profile


@pytest.mark.parametrize(
    ("values", "english", "chinese"),
    [
        ({"title": ""}, "This field is required.", "该字段是必填字段。"),
        (
            {"held_on": "2026-13-01"},
            "Give the date as YYYY-MM-DD.",
            "请按 YYYY-MM-DD 格式填写日期。",
        ),
        (
            {"place": "x" * 201},
            "Field cannot be longer than 200 characters.",
            "字段长度不能超过 200 个字符。",
        ),
    ],
)
def test_bad_event_refused_in_both_languages(app, client, world, values, english, chinese):
    data = {"title": "对接会", "held_on": "2026-12-05", "place": "会议室"} | values
    client.login("head")
    page = client.submit("/networking/events/new", data).get_data(as_text=True)
    assert chinese in page
    _english(client)
    page = client.submit("/networking/events/new", data).get_data(as_text=True)
    assert english in page
    assert _count(app, NetworkingEvent) == 0


def test_invitations_outside_the_region_or_empty_are_refused(app, client, world, people):
    event_id = _event(app, world, date(2026, 12, 5))
    url = f"/networking/events/{event_id}/invite"
    client.login("head")
    client.submit(url, {"borrower_ids": [people["seller"][0], people["far"][0]]}, page=url)
    assert "只能邀请本网点或本地区的借款人。" in client.get(url).get_data(as_text=True)
    _english(client)
    client.submit(url, {}, page=url)
    assert "Tick at least one borrower to invite." in client.get(url).get_data(as_text=True)
    assert _count(app, Invitation) == 0


def test_another_branch_of_the_region_may_be_invited(app, client, world, people):
    event_id = _event(app, world, date(2026, 12, 5))
    url = f"/networking/events/{event_id}/invite"
    client.login("head")
    client.submit(url, {"borrower_ids": [world.foreign_borrower.id]}, page=url)
    assert _count(app, Invitation, borrower_id=world.foreign_borrower.id) == 1
    page = client.get(f"/networking/events/{event_id}").get_data(as_text=True)
    assert world.foreign_borrower.name in page


def test_attendance_from_the_day_of_the_event(app, client, world, people):
    url = f"/networking/events/{_event(app, world, _today(app) + timedelta(days=3))}"
    _invite(app, int(url.rsplit("/", 1)[1]), people["seller"][0], attended=False)
    client.login("head")
    client.submit(f"{url}/attendance", {"attended": [people["seller"][0]]}, page=url)
    assert "活动当天起才能登记到场情况。" in client.get(url).get_data(as_text=True)
    assert _count(app, Invitation, attended=True) == 0

    past = f"/networking/events/{_event(app, world, _today(app))}"
    _invite(
        app, int(past.rsplit("/", 1)[1]), people["seller"][0], people["farm"][0], attended=False
    )
    client.submit(f"{past}/attendance", {"attended": [people["farm"][0]]}, page=past)
    assert _count(app, Invitation, attended=True, borrower_id=people["farm"][0]) == 1
    assert _count(app, Invitation, attended=True) == 1


def test_introduction_and_outcome_make_the_summary(app, client, world, people):
    event_id = _event(app, world, date(2026, 10, 20))
    seller, farm = people["seller"][0], people["farm"][0]
    _invite(app, event_id, seller, farm)
    _invite(app, event_id, world.own_borrower.id, attended=False)
    url = f"/networking/events/{event_id}"
    client.login("head")
    response = client.submit(
        f"{url}/introductions", {"supplier_id": seller, "buyer_id": farm, "topic": "饲料"}, page=url
    )
    assert response.status_code == 302
    with app.app_context():
        intro_id = db.session.scalar(sa.select(Introduction.id))
    client.post(
        f"/networking/introductions/{intro_id}/outcome",
        data={
            f"i{intro_id}-outcome": "deal",
            f"i{intro_id}-deal_amount": "38000",
            f"i{intro_id}-csrf_token": client.csrf_token(url),
        },
    )
    page = client.get(url).get_data(as_text=True)
    figures = page.split('data-testid="event-summary"')[1].split("</div>\n</div>")[0]
    numbers = [part.split("</div>")[0] for part in figures.split('class="fs-4">')[1:]]
    assert numbers == ["3", "2", "1", "1", "38,000"]
    assert "已成交 · 38,000.00 元" in page


def _outcome(client, intro_id, url, **values):
    data = {f"i{intro_id}-{key}": value for key, value in values.items()}
    return client.post(
        f"/networking/introductions/{intro_id}/outcome",
        data=data | {f"i{intro_id}-csrf_token": client.csrf_token(url)},
    )


def test_bad_outcome_refused_in_both_languages(app, client, world, people):
    event_id = _event(app, world, date(2026, 10, 20))
    _invite(app, event_id, people["seller"][0], people["farm"][0])
    with app.app_context():
        intro = Introduction(event_id=event_id, supplier_id=people["seller"][0],
                             buyer_id=people["farm"][0])  # fmt: skip
        db.session.add(intro)
        db.session.commit()
        intro_id = intro.id
    url = f"/networking/events/{event_id}"
    client.login("head")
    page = _outcome(client, intro_id, url, outcome="no_deal", deal_amount="500").get_data(
        as_text=True
    )
    assert "只有成交时才能填写金额。" in page
    _english(client)
    page = _outcome(client, intro_id, url, outcome="deal", deal_amount="-5").get_data(as_text=True)
    assert "The amount must be between 0.01 and 99,999,999 yuan." in page
    assert 'value="-5"' in page
    page = _outcome(client, intro_id, url, outcome="deal", deal_amount="abc").get_data(as_text=True)
    assert "Not a valid decimal value." in page
    with app.app_context():
        intro = db.session.get(Introduction, intro_id)
        assert (intro.outcome, intro.deal_amount) == (Outcome.OPEN, None)


def test_introductions_need_two_different_attendees(app, client, world, people):
    event_id = _event(app, world, date(2026, 10, 20))
    seller, farm = people["seller"][0], people["farm"][0]
    _invite(app, event_id, seller, farm)
    _invite(app, event_id, world.own_borrower.id, attended=False)
    url = f"/networking/events/{event_id}"
    client.login("head")
    page = client.submit(
        f"{url}/introductions", {"supplier_id": seller, "buyer_id": seller}, page=url
    ).get_data(as_text=True)
    assert "请选择两位不同的借款人。" in page
    _english(client)
    page = client.submit(
        f"{url}/introductions", {"supplier_id": seller, "buyer_id": world.own_borrower.id}, page=url
    ).get_data(as_text=True)
    assert "Not a valid choice." in page
    client.submit(f"{url}/introductions", {"supplier_id": seller, "buyer_id": farm}, page=url)
    page = client.submit(
        f"{url}/introductions", {"supplier_id": seller, "buyer_id": farm}, page=url
    ).get_data(as_text=True)
    assert "This introduction is already recorded." in page
    assert _count(app, Introduction) == 1


def test_officer_sees_the_event_but_not_other_officers_borrowers_details(
    app, client, world, people
):
    with app.app_context():
        second = make_user("officer2", Role.OFFICER, db.session.get(User, world.head.id).branch)
        theirs = make_borrower(second)
        db.session.commit()
        theirs_id, theirs_name = theirs.id, theirs.full_name
    event_id = _event(app, world, date(2026, 10, 20))
    _invite(app, event_id, people["seller"][0], theirs_id)
    client.login("officer")
    page = client.get(f"/networking/events/{event_id}").get_data(as_text=True)
    assert theirs_name in page
    assert f'?borrower={people["seller"][0]}"' in page
    assert f'?borrower={theirs_id}"' not in page
    assert "/attendance" not in page  # only the head records


def test_officer_edits_a_business_profile_with_free_tags(app, client, world):
    with app.app_context():
        tags = ensure_default_tags()
        db.session.commit()
        feed, hogs = tags["feed"].id, tags["hogs"].id
    url = f"/networking/borrowers/{world.own_borrower.id}/profile"
    client.login("officer")
    response = client.submit(
        url,
        {"offers": [hogs], "needs": [feed], "free_offers": "有机肥，猪粪、Feed", "free_needs": ""},
    )
    assert response.status_code == 302
    with app.app_context():
        entries = db.session.scalars(sa.select(ProfileEntry).order_by(ProfileEntry.id)).all()
        offered = [(e.tag_id, e.free_tag) for e in entries if e.side == ProfileSide.OFFER]
    assert offered == [(hogs, ""), (None, "有机肥"), (None, "猪粪"), (feed, "")]
    page = client.get(url).get_data(as_text=True)
    assert 'value="有机肥，猪粪"' in page


def test_too_many_or_too_long_free_tags_refused(app, client, world):
    url = f"/networking/borrowers/{world.own_borrower.id}/profile"
    client.login("officer")
    many = ",".join(f"标签{i}" for i in range(11))
    page = client.submit(url, {"free_offers": many}).get_data(as_text=True)
    assert "供应和需求各最多 10 个自定义标签。" in page
    _english(client)
    page = client.submit(url, {"free_needs": "长" * 41}).get_data(as_text=True)
    assert "A free tag may have at most 40 characters." in page
    assert _count(app, ProfileEntry) == 0


def test_officer_cannot_edit_another_officers_borrower(app, client, world):
    with app.app_context():
        second = make_user("officer2", Role.OFFICER, db.session.get(User, world.head.id).branch)
        theirs = make_borrower(second).id
        db.session.commit()
    client.login("officer")
    assert client.get(f"/networking/borrowers/{theirs}/profile").status_code == 403


def test_admin_adds_a_tag_and_duplicates_are_refused(app, client, world):
    client.login("admin")
    data = {"code": "honey", "name_zh": "蜂蜜", "name_en": "Honey", "active": "y"}
    assert client.submit("/networking/tags/new", data).status_code == 302
    page = client.submit("/networking/tags/new", data | {"code": "honey2"}).get_data(as_text=True)
    assert "已有其他标签使用此名称。" in page
    _english(client)
    page = client.submit("/networking/tags/new", data).get_data(as_text=True)
    assert "Another tag already has this code." in page
    assert _count(app, BusinessTag, code="honey") == 1
    assert _count(app, BusinessTag, code="honey2") == 0


def test_the_invite_page_has_one_row_per_borrower_with_their_matches(app, client, world, people):
    """Issue 20: a borrower's checkbox appears once, however many matches name them."""
    with app.app_context():
        tags = ensure_default_tags()
        officer = db.session.get(User, world.officer.id)
        more = []
        for _ in range(11):  # more feed buyers: the seller matches each of them
            farm = make_borrower(officer)
            set_profile(farm, offer_tag_ids=[], need_tag_ids=[tags["feed"].id], free_offers=[],
                        free_needs=[])  # fmt: skip
            more.append((farm.id, farm.full_name))
        db.session.commit()
    event_id = _event(app, world, date(2026, 12, 5))
    client.login("head")
    page = client.get(f"/networking/events/{event_id}/invite").get_data(as_text=True)
    seller_id, seller = people["seller"]
    for borrower_id, _name in [people["seller"], people["farm"], *more]:
        assert page.count(f'name="borrower_ids" value="{borrower_id}"') == 1, borrower_id
    assert page.count('data-testid="invite-row"') == 13
    assert 'class="pagination' not in page  # thirteen borrowers fit on one page
    rows = page.split('data-testid="invite-row"')[1:]
    seller_row = next(row for row in rows if f'value="{seller_id}"' in row)
    assert seller_row.count(f"饲料：{seller} 供应，") >= 5  # the seller's matches, in their row
    farm_row = next(row for row in rows if f'value="{people["farm"][0]}"' in row)
    assert f"饲料：{seller} 供应，{people['farm'][1]} 需要" in farm_row
