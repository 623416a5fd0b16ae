"""Issue 20: the greeting-text SMS counter recounts as the admin types (browser, CSP on)."""

import pytest

pytestmark = pytest.mark.browser


def test_the_counter_follows_the_typing_without_csp_errors(page, world):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/care/templates/birthday/zh")
    hint = page.locator("[data-testid=sms-cost]")
    warning = hint.locator("[data-sms-warning]")
    assert warning.is_hidden()

    page.fill("textarea[name=body]", "{name}" + "祝" * 68)  # 71 with the sample name
    assert hint.locator("[data-sms-length]").inner_text().startswith("71")
    assert hint.locator("[data-sms-parts]").inner_text().startswith("2")
    assert warning.is_visible()

    page.fill("textarea[name=body]", "{name}{{" + "祝" * 66)  # {{ is one brace: 70
    assert hint.locator("[data-sms-length]").inner_text().startswith("70")
    assert hint.locator("[data-sms-parts]").inner_text().startswith("1")
    assert warning.is_hidden()
    assert problems == []
