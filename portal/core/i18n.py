"""Language and time zone selection for Flask-Babel."""

from flask import current_app, session
from flask_login import current_user

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


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
