"""Templates translate with the translations the page carries (portal/core/i18n.py):
looked up once per page, they must still follow each request's language."""

from flask import render_template_string
from flask_babel import force_locale

from portal.core.i18n import PAGE_TRANSLATIONS
from tests.conftest import PortalClient


def _login_page(client) -> str:
    return client.get("/login").get_data(as_text=True)


def test_a_page_in_english_after_one_in_chinese_in_the_same_worker_is_in_english(app, client):
    english = app.test_client()
    assert isinstance(english, PortalClient)
    english.submit("/language", {"locale": "en", "next": "/login"})
    for _ in range(2):
        chinese_page, english_page = _login_page(client), _login_page(english)
        assert "用户名或手机号" in chinese_page and "Username or mobile number" not in chinese_page
        assert "Username or mobile number" in english_page and "用户名或手机号" not in english_page


def test_a_logged_in_page_follows_the_users_language(client, world):
    client.login("officer")
    assert "退出登录" in client.get("/account").get_data(as_text=True)
    client.submit("/account", {"locale": "en"})
    page = client.get("/account").get_data(as_text=True)
    assert "Log out" in page and "退出登录" not in page


def test_plural_forms_and_message_contexts(app):
    template = (
        '{{ ngettext("%(num)d month", "%(num)d months", 1) }}|'
        '{{ ngettext("%(num)d month", "%(num)d months", 3) }}|'
        '{{ pgettext("deadline", "Overdue") }}'
    )
    with app.test_request_context():
        with force_locale("en"):
            assert render_template_string(template) == "1 month|3 months|Overdue"
        with force_locale("zh"):
            assert render_template_string(template) == "1 个月|3 个月|超期"


def test_named_values_are_formatted_and_escaped(app):
    template = '{{ _("%(count)s overdue", count="<b>2</b>") }}'
    with app.test_request_context():
        with force_locale("en"):
            assert render_template_string(template) == "&lt;b&gt;2&lt;/b&gt; overdue"
        with force_locale("zh"):
            assert render_template_string(template) == "&lt;b&gt;2&lt;/b&gt; 件已超期"


def test_a_template_drawn_without_the_page_translations_asks_flask_babel(app):
    # Macros imported from another template see only the globals, not the page's context.
    template = app.jinja_env.from_string('{{ _("Log out") }}')
    with app.test_request_context():
        with force_locale("en"):
            assert template.render() == "Log out"
        with force_locale("zh"):
            assert template.render() == "退出登录"
            assert template.render({PAGE_TRANSLATIONS: None}) == "退出登录"
