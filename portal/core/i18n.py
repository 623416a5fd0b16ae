"""Language and time zone selection for Flask-Babel."""

from flask import Flask, current_app, session
from flask_babel import format_date, format_datetime, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
# Dates no reader can misread (never "11/26/26"): 2026-11-26 and 26 Nov 2026.
DATE_PATTERNS = {"zh": "y-MM-dd", "en": "d MMM y"}
TIME_PATTERN = "HH:mm"


def select_locale() -> str:
    """The user's saved language, else the one chosen before login, else the default."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Everyone sees the company's time zone; times are stored in UTC."""
    return current_app.config["PORTAL_TIMEZONE"]


def html_lang(locale: str) -> str:
    """The value for <html lang>."""
    return "zh-CN" if locale == "zh" else locale


def _date_pattern() -> str:
    return DATE_PATTERNS.get(str(get_locale()), DATE_PATTERNS["zh"])


def date_text(value) -> str:
    """A calendar date in the reader's language, unambiguous: "2026-11-26", "26 Nov 2026"."""
    return format_date(value, _date_pattern()) if value else ""


def datetime_text(value) -> str:
    """A stored UTC time on the company's clock, unambiguous: "2026-11-26 15:04"."""
    if not value:
        return ""
    separator = ", " if str(get_locale()) == "en" else " "
    return format_datetime(value, _date_pattern() + separator + TIME_PATTERN)


def seconds_text(value) -> str:
    """``datetime_text`` with the seconds, where they matter: "2026-11-26 15:04:09"."""
    if not value:
        return ""
    separator = ", " if str(get_locale()) == "en" else " "
    return format_datetime(value, _date_pattern() + separator + TIME_PATTERN + ":ss")


def list_separator() -> str:
    """Between the entries of a list in running text: "；" in Chinese, "; " in English."""
    return "；" if str(get_locale()).startswith("zh") else "; "


# The name under which a page's template context carries its translations.
PAGE_TRANSLATIONS = "_page_translations"


def page_translations() -> dict:
    """Context processor: the request's translations, looked up once per page drawn.

    Flask-Babel finds them anew for every string (the request's locale and domain
    through ``flask.g``, some ten context look-ups); a page translates about a hundred.
    """
    return {PAGE_TRANSLATIONS: get_translations()}


def _translations(context):
    # Macros imported from another template see only the globals: Flask-Babel's way.
    translations = context.get(PAGE_TRANSLATIONS)
    return get_translations() if translations is None else translations


@pass_context
def _gettext(context, string: str) -> str:
    return _translations(context).ugettext(string)


@pass_context
def _ngettext(context, singular: str, plural: str, num: int) -> str:
    return _translations(context).ungettext(singular, plural, num)


@pass_context
def _pgettext(context, message_context: str, string: str) -> str:
    return _translations(context).upgettext(message_context, string)


@pass_context
def _npgettext(context, message_context: str, singular: str, plural: str, num: int) -> str:
    return _translations(context).unpgettext(message_context, singular, plural, num)


def install_page_gettext(app: Flask) -> None:
    """Templates translate with the translations of the page being drawn.

    The same newstyle callables as Flask-Babel's (``%(name)s`` formatting, autoescape,
    plural forms), reading the translations the page's context carries.
    """
    app.context_processor(page_translations)
    app.jinja_env.install_gettext_callables(
        gettext=_gettext,
        ngettext=_ngettext,
        newstyle=True,
        pgettext=_pgettext,
        npgettext=_npgettext,
    )
