"""The visit form on a 768×1024 tablet: draft kept over a reload, drawn signature, one record."""

import json
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.visits.models import Visit
from tests.browser.pages import sign as _sign
from tests.browser.pages import until as _until

pytestmark = pytest.mark.browser


def _login(page, username, password="portal-demo"):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _visits(app) -> list[Visit]:
    with app.app_context():
        visits = db.session.scalars(sa.select(Visit)).all()
        db.session.expunge_all()
        return visits


def _draft(page, key: str):
    raw = page.evaluate(f"localStorage.getItem('portal-draft:{key}')")
    return json.loads(raw) if raw else None


def _choose(page, name: str, value: str):
    radio = page.get_attribute(f"input[name={name}][value='{value}']", "id")
    page.click(f"label[for='{radio}']")


def test_a_visit_survives_a_reload_is_signed_and_saved_once(page, app, world, screenshot):
    page.context.grant_permissions(["geolocation"], origin=page.base_url)
    page.context.set_geolocation({"latitude": 33.720431, "longitude": 118.681905, "accuracy": 14})
    _login(page, "officer")
    form_url = f"{page.base_url}/borrowers/{world.own_borrower.id}/visits/new"
    draft_key = f"visit-new-borrower-{world.own_borrower.id}"
    page.goto(form_url)
    page.fill("input[name=place]", "李庄村三组猪场")
    _choose(page, "business_state", "growing")
    _choose(page, "funds_use", "as_contracted")
    page.check("input[name=risk_signals][value=market_collapse]")
    page.click("button[data-geolocate]")
    page.wait_for_selector("#visit-geo-status.text-success")
    page.fill("textarea[name=officer_observations]", "新建猪舍一栋，存栏增加到150头。")
    _until(
        page,
        f"(JSON.parse(localStorage.getItem('portal-draft:{draft_key}') || '{{}}').fields || {{}})"
        ".officer_observations?.[0]?.startsWith('新建猪舍') === true",
    )
    screenshot("1-half-filled")

    page.reload()
    page.wait_for_selector("[data-draft-notice] .alert-info")
    assert page.input_value("input[name=place]") == "李庄村三组猪场"
    assert page.is_checked("input[name=business_state][value=growing]")
    assert page.is_checked("input[name=risk_signals][value=market_collapse]")
    assert page.input_value("#visit-lat") == "33.720431"
    assert page.input_value("textarea[name=officer_observations]").startswith("新建猪舍")
    screenshot("2-draft-restored")

    _choose(page, "revenue_trend", "rising")
    _choose(page, "guarantor_status", "normal")
    _choose(page, "collateral_status", "intact")
    page.check("input[name=services_needed][value=technique_training]")
    page.fill("textarea[name=borrower_opinions]", "想学习母猪产后护理。")
    _choose(page, "satisfaction", "5")
    _sign(page)
    # The draft is saved a moment after the last change.
    _until(
        page,
        f"(localStorage.getItem('portal-draft:{draft_key}') || '').includes('data:image/png')",
    )
    assert _draft(page, draft_key)["fields"]["signature"][0].startswith("data:image/png")
    screenshot("3-signed")

    # Two quick taps on the big button: submit-once lets one request through.
    page.locator("form[data-testid=visit-form] button[type=submit]").dblclick()
    page.wait_for_url(re.compile(r".*/visits/\d+$"))
    visits = _visits(app)
    assert len(visits) == 1
    visit = visits[0]
    assert page.url.endswith(f"/visits/{visit.id}")
    assert (visit.place, visit.latitude, visit.accuracy_m) == ("李庄村三组猪场", 33.720431, 14)
    assert visit.risk_reason == "yellow: market_collapse"
    assert visit.services_needed == ["technique_training"]
    assert _draft(page, draft_key) is None  # the saved page cleared the draft
    assert visit.content_hash in page.inner_text("[data-testid=content-hash]")
    assert "已验证" in page.inner_text("[data-testid=hash-check]")
    _until(page, "document.querySelector('main img').naturalWidth > 0")
    screenshot("4-saved")

    # A fresh form starts empty again: nothing is restored from the saved draft.
    page.goto(form_url)
    assert page.input_value("textarea[name=officer_observations]") == ""
    assert not page.is_visible("[data-draft-notice] .alert-info")


def test_the_same_form_sent_twice_at_once_stores_one_record(page, app, world, screenshot):
    _login(page, "officer")
    page.goto(f"{page.base_url}/borrowers/{world.own_borrower.id}/visits/new")
    page.fill("textarea[name=officer_observations]", "两次同时提交的测试。")
    for name, value in (
        ("business_state", "normal"),
        ("revenue_trend", "stable"),
        ("funds_use", "as_contracted"),
        ("repayment_status", "on_time"),
        ("guarantor_status", "normal"),
        ("collateral_status", "intact"),
        ("satisfaction", "4"),
    ):
        _choose(page, name, value)
    _sign(page)
    # Bypass the button guard: two requests with the same token race on the server.
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector('form[data-testid=visit-form]');
            const send = () => fetch(form.action || location.href,
                {method: 'POST', body: new FormData(form), redirect: 'manual'});
            const answers = await Promise.all([send(), send(), send()]);
            return answers.map((r) => r.type === 'opaqueredirect' ? 302 : r.status);
        }"""
    )
    assert statuses == [302, 302, 302]
    assert len(_visits(app)) == 1
    page.goto(page.base_url + "/visits/month")
    screenshot("month")


def test_without_javascript_the_form_posts_and_asks_for_the_signature(
    browser, live_server, app, world
):
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.base_url = live_server
    try:
        _login(page, "officer")
        page.goto(f"{live_server}/borrowers/{world.own_borrower.id}/visits/new")
        note = page.locator("[data-signature-field] noscript").inner_html()
        assert "签名需要启用 JavaScript" in note
        page.fill("textarea[name=officer_observations]", "没有脚本也能提交。")
        page.click("form[data-testid=visit-form] button[type=submit]")
        assert page.is_visible("text=借款人尚未签名")
        assert page.input_value("textarea[name=officer_observations]") == "没有脚本也能提交。"
        assert _visits(app) == []
        page.screenshot(path=str(_artifact("no-javascript")), full_page=True)
    finally:
        context.close()


def _artifact(name: str):
    from tests.browser.fixtures import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"test_visit_form-{name}.png"
