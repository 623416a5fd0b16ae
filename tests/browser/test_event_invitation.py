"""A borrower invited to a networking event sees the invitation and answers; the branch
head sees the answer on the event, in a real browser."""

from datetime import timedelta

import pytest

from portal.core.calendar import local_today
from portal.extensions import db
from portal.networking.models import NetworkingEvent

pytestmark = pytest.mark.browser


@pytest.fixture
def event(app, world):
    """An event of the head's branch in ten days."""
    with app.app_context():
        held_on = local_today() + timedelta(days=10)
        planned = NetworkingEvent(
            branch_id=world.branch.id,
            title="冬季产销对接会",
            held_on=held_on,
            place="众兴镇农技站会议室",
            description="饲料、养殖和餐饮客户面对面对接。",
        )
        db.session.add(planned)
        db.session.commit()
        return {"id": planned.id, "held_on": held_on.isoformat()}


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _logout(page):
    page.context.clear_cookies()


def test_an_invited_borrower_answers_and_the_head_sees_it(page, world, event, screenshot):
    name = world.own_borrower.name
    _login(page, "head")
    page.goto(f"{page.base_url}/networking/events/{event['id']}/invite?q={name}")
    page.get_by_label(name, exact=True).check()
    page.click("button:has-text('邀请')")
    page.wait_for_selector("text=已邀请 1 位借款人。")
    assert page.locator("[data-testid=reply]").inner_text().strip() != ""
    _logout(page)

    # The borrower reads the notice and opens the invitation from the menu.
    _login(page, "borrower")
    page.goto(page.base_url + "/me/notices")
    notice = page.locator("[data-testid=notices] li").first
    assert "冬季产销对接会" in notice.inner_text()
    assert event["held_on"] in notice.inner_text() and "众兴镇农技站会议室" in notice.inner_text()
    notice.locator("a").click()
    page.wait_for_url(page.base_url + "/networking/invitations")
    invitation = page.locator("[data-testid=invitation]")
    assert "冬季产销对接会" in invitation.inner_text()
    assert event["held_on"] in invitation.inner_text()
    screenshot("invitation")
    invitation.locator("[data-testid=answer-coming]").click()
    page.wait_for_selector("[data-testid=my-reply].text-bg-primary")
    screenshot("answered")
    _logout(page)

    _login(page, "head")
    page.goto(f"{page.base_url}/networking/events/{event['id']}")
    replies = page.locator("[data-testid=replies]")
    replies.wait_for()
    assert "1" in page.locator("[data-testid=coming-count]").inner_text()
    guest = page.locator(".list-group-item", has_text=name)
    assert guest.locator("[data-testid=reply].text-bg-primary").count() == 1
    screenshot("head-sees-the-answer")
