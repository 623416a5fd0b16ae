"""Small things a reader of either language stumbles on: the login label, solar terms,
list separators."""

from flask import render_template_string
from flask_babel import force_locale

from portal.care.occasions import SOLAR_TERM_LABELS, SOLAR_TERMS


def test_the_login_asks_for_a_username_or_a_mobile_number(client):
    page = client.get("/login").get_data(as_text=True)
    assert "用户名或手机号" in page
    client.submit("/language", {"locale": "en", "next": "/login"})
    assert "Username or mobile number" in client.get("/login").get_data(as_text=True)


def test_every_solar_term_has_an_english_name(app):
    assert set(SOLAR_TERM_LABELS) == set(SOLAR_TERMS)
    with app.test_request_context(), force_locale("en"):
        english = {str(label) for label in SOLAR_TERM_LABELS.values()}
    assert len(english) == 24
    assert not any("\u4e00" <= char <= "\u9fff" for name in english for char in name)


def test_the_english_occasion_list_names_the_solar_term_in_english(client, world):
    client.login("admin")
    client.submit("/account", {"locale": "en"})
    page = client.get("/care/occasions").get_data(as_text=True)
    assert "Pure Brightness (Qingming)" in page
    assert "Solar term 清明" not in page


def test_lists_in_running_text_use_the_language_s_separator(app):
    template = "{{ ['a', 'b']|join(list_separator()) }}"
    with app.test_request_context():
        with force_locale("zh"):
            assert render_template_string(template) == "a；b"
        with force_locale("en"):
            assert render_template_string(template) == "a; b"
