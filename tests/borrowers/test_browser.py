"""Onboarding on a tablet-sized screen in Chromium, with screenshots to look at."""

import pytest

from tests.borrowers.helpers import onboarding_data

pytestmark = pytest.mark.browser

TEXT_FIELDS = (
    "full_name",
    "resident_id",
    "mobile",
    "address",
    "village",
    "household_size",
    "monthly_income",
    "monthly_expenses",
    "guarantor_name",
    "guarantor_phone",
)


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _fill(page, data: dict):
    for name in TEXT_FIELDS:
        page.fill(f"[name={name}]", data[name])
    page.fill("[name=business_description]", data["business_description"])
    page.fill("[name=birth_date]", data["birth_date"])
    page.check(f"[name=sex][value={data['sex']}]")
    page.select_option("[name=business_type]", data["business_type"])
    page.check(f"[name=birthday_calendar][value={data['birthday_calendar']}]")


def test_officer_onboards_on_a_tablet(page, world, screenshot):
    _login(page, "officer")
    page.goto(page.base_url + "/borrowers/new")
    assert page.viewport_size["width"] == 768
    screenshot("form-empty")

    data = onboarding_data(resident_id="320802198503021230", birth_date="1985-03-03")
    _fill(page, data)
    page.click("input[type=submit]")
    assert "校验码不符" in page.inner_text("#resident_id-errors")
    assert page.input_value("[name=monthly_income]") == "6,500"  # typed values kept
    assert not page.is_checked("[name=consent]")
    screenshot("form-errors")

    page.fill("[name=resident_id]", onboarding_data()["resident_id"])
    page.click("input[type=submit]")
    assert "出生日期与身份证号码不符" in page.inner_text("#birth_date-errors")
    assert "须取得其单独同意" in page.inner_text("#consent-errors")

    page.fill("[name=birth_date]", "1985-03-02")
    page.check("[name=consent]")
    page.click("input[type=submit]")
    page.wait_for_selector("[data-testid=activation-code]")
    # The print button's script ran (it shows the button once the page has loaded).
    page.wait_for_selector("[data-print]", state="visible", timeout=5000)
    screenshot("activation-code")

    page.emulate_media(media="print")
    assert not page.is_visible("nav.navbar")
    screenshot("activation-code-print")
    page.emulate_media(media="screen")

    page.goto(page.base_url + "/borrowers/?q=wxm")
    assert "139****1234" in page.inner_text("table")
    screenshot("list-search")
    page.goto(page.base_url + "/borrowers/")
    screenshot("list")
    page.click("text=王小明")
    assert "139****1234" in page.inner_text("[data-testid=mobile]")
    screenshot("detail")
    page.click("button:has-text('显示完整号码')")
    assert page.inner_text("[data-testid=mobile]") == "13905271234"
    screenshot("detail-revealed")


def test_head_reassigns_on_a_tablet(page, world, app, screenshot):
    from portal.accounts.models import Role
    from portal.branches.models import Branch
    from portal.extensions import db
    from tests.factories import make_user

    with app.app_context():
        branch = db.session.get(Branch, world.branch.id)
        colleague = make_user("colleague", Role.OFFICER, branch, display_name="林晓燕").id
        db.session.commit()
    _login(page, "head")
    page.goto(page.base_url + "/borrowers/reassign")
    page.check(f"#pick-{world.own_borrower.id}")
    page.select_option("[name=officer_id]", str(colleague))
    page.fill("[name=reason]", "工作量调整")
    screenshot("reassign")
    page.click("input[type=submit]")
    assert "已调整给林晓燕的借款人：1 位" in page.inner_text(".alert-success")
    page.goto(page.base_url + f"/borrowers/{world.own_borrower.id}")
    assert "工作量调整" in page.inner_text("main")
    screenshot("history")


def test_numbers_stay_out_of_the_address_bar_on_a_tablet(page, world, app, screenshot):
    from portal.borrowers.models import Borrower
    from tests.borrowers.helpers import fetch

    own = fetch(app, Borrower, id=world.own_borrower.id)
    _login(page, "officer")
    page.goto(page.base_url + "/borrowers/")
    page.fill("input[name=q]", own.mobile)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(f"a[href='/borrowers/{own.id}']")
    assert page.url == page.base_url + "/borrowers/"  # answered to the POST
    assert page.input_value("input[name=q]") == own.mobile
    screenshot("search-by-number")

    page.fill("input[name=q]", own.name_initials)
    page.click("button:has-text('搜索')")
    page.wait_for_url(f"**/borrowers/?q={own.name_initials}")
    assert own.full_name in page.inner_text("table")

    page.goto(page.base_url + f"/borrowers/{own.id}/edit")
    assert page.input_value("[name=mobile]") == ""
    assert (
        page.get_attribute("[name=mobile]", "placeholder")
        == own.mobile[:3] + "****" + own.mobile[-4:]
    )
    assert own.mobile not in page.content() and own.guarantor_phone not in page.content()
    screenshot("edit-masked-numbers")
    page.fill("[name=village]", "新村")
    page.click("input[type=submit]")
    page.wait_for_url(f"**/borrowers/{own.id}")
    assert page.inner_text("[data-testid=mobile]") == own.mobile[:3] + "****" + own.mobile[-4:]
    assert fetch(app, Borrower, id=own.id).mobile == own.mobile
