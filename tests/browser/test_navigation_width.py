"""The top menu fits the screen: every role, both languages, phone to desktop (issue 13)."""

import pytest

from portal.accounts.models import User
from portal.extensions import db

pytestmark = pytest.mark.browser

WIDTHS = (360, 768, 1024, 1280, 1920)
# Each role's home page and one list page it works from.
PAGES = {
    "admin": ("/", "/admin/users"),
    "head": ("/", "/borrowers/"),
    "officer": ("/", "/borrowers/"),
    "borrower": ("/", "/me/services"),
}
# Display names as long as real ones, so the menu is measured with them.
DISPLAY_NAMES = {
    "admin": "System administrator",
    "head": "Wang Jianguo (Siyang)",
    "officer": "Zhang Xiaoming",
    "borrower": "Li Guilan",
}
# Top-level labels, the brand and the user's name: each must stay on one line.
ONE_LINE_LABELS = """
() => [...document.querySelectorAll(
    '.navbar-brand, .navbar-nav > li > .nav-link, .language-switch .btn')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => {
    const style = getComputedStyle(el);
    const inner = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return {label: el.innerText.trim(), inner, line: parseFloat(style.lineHeight)};
  })
  .filter((label) => label.inner > label.line * 1.5)
"""


@pytest.fixture
def user(app, world, request):
    """The role's account, in the locale under test, with a realistic display name."""
    role, locale = request.param
    with app.app_context():
        account = db.session.get(User, getattr(world, role).id)
        account.locale = locale
        account.display_name = DISPLAY_NAMES[role]
        db.session.commit()
    return role, locale


def _login(page, username):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("form[action='/logout']", state="attached")


def _assert_nothing_off_screen(page, width, where):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{where}: page is {scroll_width}px wide"


def _assert_groups_open_on_screen(page, width, where):
    """On a wide screen every group drops down, its entries inside the window."""
    toggles = page.locator(".navbar .nav-group > .dropdown-toggle")
    for index in range(toggles.count()):
        toggles.nth(index).click()
        menu = page.locator(".navbar .nav-group > .dropdown-menu.show")
        menu.wait_for(state="visible")
        box = menu.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{where}: group at {box}"
        _assert_nothing_off_screen(page, width, where + " (group open)")
        page.keyboard.press("Escape")
        menu.wait_for(state="hidden")


def _assert_logout_reachable(page, width, where):
    """Log out is on screen, directly or once the toggler has opened the menu."""
    if page.is_visible(".navbar-toggler"):
        page.click(".navbar-toggler")
        page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")
        _assert_nothing_off_screen(page, width, where + " (menu open)")
    logout = page.locator("form[action='/logout'] button")
    assert logout.is_visible(), f"{where}: Log out hidden"
    box = logout.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{where}: Log out at {box}"


@pytest.mark.parametrize(
    "user",
    [(role, locale) for role in PAGES for locale in ("zh", "en")],
    indirect=True,
    ids=lambda param: "-".join(param),
)
def test_menu_fits_every_width(page, user, screenshot):
    role, locale = user
    _login(page, role)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES[role]:
            page.goto(page.base_url + path)
            where = f"{role} {locale} {width}px {path}"
            if path == "/":
                screenshot(f"{width}")
            _assert_nothing_off_screen(page, width, where)
            wrapped = page.evaluate(ONE_LINE_LABELS)
            assert wrapped == [], f"{where}: labels wrap: {wrapped}"
            if width >= 1200 and path == "/":
                _assert_groups_open_on_screen(page, width, where)
            _assert_logout_reachable(page, width, where)
            if path == "/" and width < 1200:
                screenshot(f"{width}-menu")
