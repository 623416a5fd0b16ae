"""A branch head plans a networking event from the matches, in a real browser."""

import pytest

from portal.accounts.models import User
from portal.core.calendar import local_today
from portal.extensions import db
from portal.networking.operations import set_profile
from portal.networking.vocabulary import ensure_default_tags
from tests.factories import make_borrower

pytestmark = pytest.mark.browser


@pytest.fixture
def market(app, world):
    """A feed seller and a pig farm of the head's branch, a duck farmer of the region."""
    with app.app_context():
        tags = {code: tag.id for code, tag in ensure_default_tags().items()}
        officer = db.session.get(User, world.officer.id)
        other_officer = db.session.get(User, world.other_officer.id)
        names = {}
        for key, owner, offers, needs in (
            ("seller", officer, ["feed"], []),
            ("farm", officer, ["hogs"], ["feed"]),
            ("restaurant", officer, [], ["ducks", "hogs"]),
            ("ducks", other_officer, ["ducks"], ["feed"]),
        ):
            borrower = make_borrower(owner)
            set_profile(
                borrower,
                offer_tag_ids=[tags[c] for c in offers],
                need_tag_ids=[tags[c] for c in needs],
                free_offers=[],
                free_needs=[],
            )
            names[key] = borrower.full_name
        db.session.commit()
        return names | {"today": local_today().isoformat()}


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _open_menu(page):
    if page.is_visible(".navbar-toggler"):
        page.click(".navbar-toggler")
        page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")


def test_head_runs_an_event_from_the_matches(page, market, screenshot):
    seller, farm = market["seller"], market["farm"]
    _login(page, "head")
    _open_menu(page)
    page.click("text=联谊活动")
    page.click("text=新建活动")
    page.fill("input[name=title]", "冬季产销对接会")
    page.fill("input[name=held_on]", market["today"])
    page.fill("input[name=place]", "众兴镇农技站会议室")
    page.fill("textarea[name=description]", "饲料、养殖和餐饮客户面对面对接。")
    page.click("input[type=submit]")

    # The invitation page proposes the feed seller and the pig farm, with the reason.
    reason = f"饲料：{seller} 供应，{farm} 需要"
    # One row per borrower (issue 20): the pair shows in the seller's and the farm's rows.
    rows = page.locator("[data-testid=invite-row]")
    rows.filter(has_text=reason).first.wait_for()
    assert rows.filter(has_text=reason).count() == 2
    assert rows.filter(has_text=market["ducks"]).count() >= 1
    assert page.get_by_label(seller, exact=True).count() == 1
    screenshot("invite-from-matches")
    page.get_by_label(seller, exact=True).check()
    page.get_by_label(farm, exact=True).check()
    page.click("button:has-text('邀请')")

    page.wait_for_selector("text=已邀请 2 位借款人。")
    assert page.locator(".list-group-item", has_text=seller).count() == 1
    page.get_by_label("已参加").nth(0).check()
    page.get_by_label("已参加").nth(1).check()
    page.click("button:has-text('保存到场情况')")
    page.wait_for_selector("text=到场情况已保存。")

    page.select_option("select[name=supplier_id]", label=f"{seller} ({_branch(page)})")
    page.select_option("select[name=buyer_id]", label=f"{farm} ({_branch(page)})")
    page.fill("input[name=topic]", "饲料")
    page.click("button:has-text('记录引荐')")
    page.wait_for_selector("text=引荐已记录。")
    introduction = page.locator("[data-testid=introduction]")
    assert seller in introduction.inner_text() and farm in introduction.inner_text()
    screenshot("introduction-recorded")

    introduction.locator("select").select_option("deal")
    introduction.locator("input[name$=deal_amount]").fill("38000")
    introduction.locator("button:has-text('保存结果')").click()
    page.wait_for_selector("text=结果已保存。")
    summary = page.locator("[data-testid=event-summary]").inner_text()
    assert summary.split() == ["2", "已邀请", "2", "已参加", "1", "引荐", "1", "成交", "38,000",
                               "成交金额（元）"]  # fmt: skip
    screenshot("event-summary")


def _branch(page) -> str:
    """The branch name shown after the event's date and place."""
    return page.locator("main p.text-muted").first.inner_text().split(" · ")[-1]
