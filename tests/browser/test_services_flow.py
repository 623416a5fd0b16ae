"""A service from request to rating, on a phone, in Chromium."""

import re

import pytest

from portal.core.calendar import local_today
from portal.extensions import db
from portal.services.operations import ensure_catalogue
from tests.browser.pages import sign

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def catalogue(app, world):
    with app.app_context():
        ensure_catalogue()
        db.session.commit()


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    # Only a logged-in page has the logout form (in the collapsed menu).
    page.wait_for_selector("form[action='/logout']", state="attached")


def _logout(page):
    page.click(".navbar-toggler")
    page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def _open_menu_and_follow(page, href):
    page.click(".navbar-toggler")
    page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")
    page.click(f".navbar-collapse a[href='{href}']")
    page.wait_for_url(f"**{href}*")


def test_borrower_requests_head_assigns_officer_completes_borrower_rates(
    page, world, app, catalogue, screenshot
):
    page.set_viewport_size(PHONE)
    with app.test_request_context():
        planned = local_today().isoformat()  # completed the same day: never before its date

    _login(page, "borrower")
    _open_menu_and_follow(page, "/me/services")
    page.click("text=申请服务")
    page.select_option("select[name=kind]", "technique_training")
    page.fill("textarea[name=description]", "母猪产后不吃食，想请技术员来看看")
    page.fill("input[name=preferred_time]", "周末上午")
    page.click("input[type=submit]")
    page.wait_for_selector("[data-testid=status]")
    assert page.inner_text("[data-testid=status]") == "已提交"
    assert "申请已提交" in page.inner_text(".alert-success")
    screenshot("1-borrower-requested")
    request_url = page.url
    _logout(page)

    _login(page, "head")
    _open_menu_and_follow(page, "/services/queue")
    page.wait_for_selector("[data-testid=queue-count]", state="attached")
    page.click(f"[data-testid=queue] a:has-text('{world.own_borrower.name}')")
    page.select_option("select[name=assignee_id]", str(world.officer.id))
    page.fill("input[name=planned_on]", planned)
    page.fill("input[name=note]", "带上母猪护理资料")
    screenshot("2-head-assigns")
    page.click("#assign input[type=submit]")
    page.wait_for_selector(".alert-success")
    assert page.inner_text("[data-testid=status]") == "已受理"
    assert page.inner_text("[data-testid=assignee]").startswith("officer")
    _logout(page)

    _login(page, "officer")
    _open_menu_and_follow(page, "/services/assignments")
    page.click("[data-testid=assignments] a.svc-card")
    page.fill("textarea[name=notes]", "上门查看了母猪，讲解了产后护理和饲喂要点")
    page.click("#complete input[type=submit]")
    page.wait_for_selector(".alert-success")
    assert page.inner_text("[data-testid=status]") == "已完成"
    screenshot("3-officer-completed")
    _logout(page)

    _login(page, "borrower")
    page.wait_for_selector("[data-testid=notice-count]", state="attached")
    _open_menu_and_follow(page, "/me/notices")
    assert "已完成" in page.inner_text("[data-testid=notices]")
    screenshot("4-borrower-notices")
    page.goto(request_url)
    page.check("input[name=rating][value='5']")
    page.fill("textarea[name=comment]", "技术员讲得很实在")
    screenshot("5-borrower-rates")
    page.click("#rate input[type=submit]")
    page.wait_for_selector(".alert-success")
    assert page.inner_text("[data-testid=status]") == "已评价"
    assert page.locator(".svc-rating").inner_text() == "★★★★★"
    screenshot("6-borrower-rated")


def test_a_need_ticked_on_a_visit_becomes_a_request_in_the_heads_queue(
    page, world, catalogue, screenshot
):
    _login(page, "officer")  # a tablet, as in the field
    page.goto(f"{page.base_url}/borrowers/{world.own_borrower.id}/visits/new")
    for name, value in [
        ("business_state", "normal"),
        ("revenue_trend", "stable"),
        ("funds_use", "as_contracted"),
        ("repayment_status", "on_time"),
        ("guarantor_status", "normal"),
        ("collateral_status", "intact"),
        ("satisfaction", "4"),
    ]:
        page.check(f"input[name={name}][value='{value}']")
    page.fill("textarea[name=officer_observations]", "存栏正常，母猪产后食欲差")
    page.check("input[name=services_needed][value=technique_training]")
    page.check("input[name=services_needed][value=legal_services]")
    sign(page)
    page.click("[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/visits/\d+$"))
    _logout(page)

    page.set_viewport_size(PHONE)
    _login(page, "head")
    _open_menu_and_follow(page, "/services/queue")
    queue = page.locator("[data-testid=queue]")
    rows = queue.locator(f"tr:has-text('{world.own_borrower.name}')")
    assert rows.count() == 2
    assert "回访时登记" in rows.first.inner_text()
    assert {"种养殖技术培训", "法律服务"} <= set(queue.inner_text().split())
    screenshot("head-queue-from-visit")
