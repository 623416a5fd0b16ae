"""Issue 20: the greeting-text page shows the length and the SMS parts a greeting costs."""

import re

import pytest

URL = "/care/templates/birthday/zh"
NAME = "王小明"  # the preview's sample name for Chinese greetings


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/account")


def _hint(page: str) -> str:
    start = page.index('data-testid="sms-cost"')
    return page[start : page.index("</div>\n      </div>", start)]


def _save(client, body: str) -> str:
    assert client.submit(URL, {"body": body}).status_code == 302
    return _hint(client.get(URL).get_data(as_text=True))


@pytest.fixture
def admin(client, world):
    client.login("admin")
    _english(client)
    return client


@pytest.mark.parametrize(
    ("filler", "length", "parts"),
    [(67, 70, 1), (68, 71, 2), (131, 134, 2), (132, 135, 3)],
)
def test_length_and_parts_count_the_text_with_the_sample_filled_in(admin, filler, length, parts):
    body = "{name}" + "祝" * filler  # {name} is filled with a three-character sample
    hint = _save(admin, body)
    assert f"{length} characters" in hint
    assert f"{parts} SMS part{'s' if parts > 1 else ''}" in hint
    assert "counted with the sample values of the preview" in hint
    warned = re.search(r"data-sms-warning\s*>", hint) is not None
    assert warned == (parts > 1)  # the warning is hidden within one part


def test_the_default_text_fits_one_part_and_a_long_one_warns(admin):
    page = admin.get(URL).get_data(as_text=True)
    hint = _hint(page)
    assert "1 SMS part" in hint and "1 SMS parts" not in hint
    assert re.search(r"data-sms-warning hidden", hint)
    hint = _save(admin, "{name}您好！" + "新春快乐，" * 30)
    assert "3 SMS parts" in hint
    assert "Longer than one SMS (70 characters)" in hint
    assert not re.search(r"data-sms-warning hidden", hint)


def test_a_refused_text_is_counted_as_typed(admin):
    body = "{nickname}" + "好" * 70
    page = admin.submit(URL, {"body": body}).get_data(as_text=True)
    hint = _hint(page)
    assert "Unknown placeholder" in page
    assert "80 characters" in hint and "2 SMS parts" in hint and "counted as typed" in hint


def test_the_counter_script_is_a_static_file_within_the_csp(admin):
    response = admin.get(URL)
    page = response.get_data(as_text=True)
    script_url = re.search(r'<script src="(/static/js/sms-count\.[0-9a-f]+\.js)"', page).group(1)
    assert (
        "<script>" not in page
        and "script-src 'self'" in response.headers["Content-Security-Policy"]
    )
    assert "data-sms-values='{" in page and "data-sms-patterns='{" in page
    script = admin.get(script_url)
    assert script.status_code == 200 and "data-sms-counter" in script.get_data(as_text=True)
