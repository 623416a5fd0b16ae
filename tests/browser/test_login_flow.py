"""Logging in and out in a real browser."""

import pytest

pytestmark = pytest.mark.browser


def _login(page, username, password="portal-demo"):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")


def _open_menu(page):
    """Tablets and phones see the menu behind the toggler."""
    if page.is_visible(".navbar-toggler"):
        page.click(".navbar-toggler")
        page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")


def test_wrong_password_shows_one_message_in_chinese(page, world, screenshot):
    _login(page, "officer", "wrong-password")
    alert = page.locator(".alert-danger")
    assert alert.inner_text().strip() == "用户名或密码错误。"
    assert page.input_value("input[name=username]") == "officer"
    screenshot("wrong-password")


def test_login_switch_language_and_logout(page, world, screenshot):
    _login(page, "admin")
    page.wait_for_url(page.base_url + "/")
    assert "欢迎" in page.inner_text("h1")
    screenshot("home-zh")
    _open_menu(page)
    page.click("button[name=locale][value=en]")
    assert "Welcome" in page.inner_text("h1")
    _open_menu(page)
    page.click("text=Staff")
    assert page.locator("table").inner_text().count("officer") >= 1
    screenshot("staff-en")
    _open_menu(page)
    page.click("button:has-text('Log out')")
    assert page.url.startswith(page.base_url + "/login")
    page.goto(page.base_url + "/admin/users")
    assert page.url.startswith(page.base_url + "/login")


def test_phone_size_menu_collapses_and_opens(page, world, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, "admin")
    page.wait_for_url(page.base_url + "/")
    assert not page.is_visible("text=审计日志")
    _open_menu(page)
    page.wait_for_selector("text=审计日志", state="visible")
    screenshot("phone-menu")
