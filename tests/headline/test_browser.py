"""The company page in Chromium: the month pickers change the period, a branch opens its page."""

from tests.browser.test_loan_path import _login
from tests.headline import dataset


def test_an_admin_picks_a_period_and_opens_a_branch(app, world, page, screenshot):
    with app.app_context():
        dataset.build(world, "after")
    _login(page, "admin")
    page.goto(page.base_url + "/headline/company")
    page.fill("input[name=from]", "2026-01")
    page.fill("input[name=to]", "2026-06")
    page.click("[data-testid=period-form] button[type=submit]")
    page.wait_for_url("**/headline/company?from=2026-01&to=2026-06")
    total = page.locator("tr[data-row=total]")
    assert total.locator("[data-figure=lent]").inner_text() == "¥470,000.00"
    assert total.locator("[data-figure=bad_ratio_by_balance]").inner_text() == "23.31 %"
    screenshot("company")

    page.click(f"tr[data-row={world.branch.name}] th a")
    page.wait_for_url("**/headline/branch?*")
    assert page.locator("[data-row=summary] [data-figure=lent]").inner_text() == "¥210,000.00"
    assert page.input_value("input[name=from]") == "2026-01"
    screenshot("branch")
