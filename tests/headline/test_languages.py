"""Both pages in Chinese (the default) and in English: months, dates and plural forms."""

from tests.headline import dataset
from tests.headline.helpers import english, figures, page


def _one_line(response) -> str:
    return " ".join(page(response).split())


def test_chinese_by_default(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("admin")
    response = client.get(f"/headline/company?{dataset.PERIOD}")
    text = _one_line(response)
    assert '<html lang="zh-CN">' in text
    assert "2026年1月" in text and "2026年6月" in text and "Jan 2026" not in text
    assert "走访达标率" in text and "平均满意度" in text  # labels the catalogue holds already
    assert "2026-06-30" in text  # the period's last day, in the Chinese date format
    assert figures(response)["total"]["lent"] == "¥470,000.00"


def test_english_with_plural_forms(app, client, world):
    with app.app_context():
        dataset.build(world)
    client.login("head")
    english(client)
    response = client.get("/headline/branch?from=2026-06&to=2026-06")
    text = _one_line(response)
    assert '<html lang="en">' in text
    assert "Jun 2026" in text and "Outstanding on 30 Jun 2026" in text
    summary = figures(response)["summary"]
    # One loan, one rating (none this month), one visit form: singular and plural both.
    assert summary["overdue"] == "1 loan 90 days or more overdue at the end, ¥30,000.00"
    assert summary["written_off"] == "0 loans written off in the period, ¥0.00"
    assert summary["ratings"] == "(0 ratings)"
    assert summary["answers"] == "(1 visit form)"
    assert summary["visits"] == "1 of 3 monthly visits owed were made"
