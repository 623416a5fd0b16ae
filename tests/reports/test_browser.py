"""A branch head downloads the month's report from the compliance page in a real browser."""

import pytest

from tests.reports.helpers import assert_printed, text_of

pytestmark = pytest.mark.browser


def _login(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "portal-demo")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_head_prints_the_month_and_a_visit(page, world, records, screenshot):
    _login(page, "head")
    page.goto(page.base_url + f"/visits/compliance?month={records.month}")
    screenshot("compliance-print-links")
    with page.expect_download() as download:
        page.click("[data-testid=print-links] a >> nth=0")
    assert download.value.suggested_filename == f"网点月报-{world.branch.name}-{records.month}.pdf"
    assert_printed(text_of(download.value.path().read_bytes()), ["网点月度报告"])

    page.goto(page.base_url + f"/visits/{records.red_visit}")
    screenshot("visit-print-button")
    with page.expect_download() as download:
        page.click("[data-testid=visit-report-pdf]")
    assert download.value.suggested_filename == f"走访报告-{records.red_visit}-{records.month}.pdf"
