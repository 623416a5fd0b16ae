"""Greeting wording: the placeholders, their validation, rendering and the default texts.

Templates are plain ``str.format`` text limited to named placeholders; no Jinja, no
attribute or index access, no format specs, so an admin's text can never reach into
Python objects.
"""

from string import Formatter

from flask_babel import lazy_gettext as _l

from portal.care.models import BIRTHDAY
from portal.core.actions import Refused

PLACEHOLDERS = ("name", "branch", "officer", "occasion")
PLACEHOLDER_LIST = ", ".join("{" + name + "}" for name in PLACEHOLDERS)


class TemplateError(Refused):
    """A template the admin wrote cannot be used; the message says why."""


def check_template(body: str) -> None:
    """Raise TemplateError unless ``body`` uses only the known, plain placeholders."""
    try:
        fields = list(Formatter().parse(body))
    except ValueError as error:
        raise TemplateError(
            _l("Braces do not match. Write {{ and }} for a brace that is not a placeholder.")
        ) from error
    for _text, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise TemplateError(
                _l(
                    "Unknown placeholder {%(name)s}. Use only %(allowed)s.",
                    name=name,
                    allowed=PLACEHOLDER_LIST,
                )
            )
        if spec or conversion:
            raise TemplateError(
                _l("Write placeholders plainly, like {name}, without ! or : after the name.")
            )


class _Values(dict):
    """Placeholder values; a missing one stays visible instead of failing the job."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(body: str, values: dict[str, str]) -> str:
    """Fill a checked template with ``values``."""
    return body.format_map(_Values(values))


# The texts used until the admin writes their own, by occasion code and language.
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    BIRTHDAY: {
        "zh": "{name}您好！今天是您的生日，{branch}全体同事和您的信贷员{officer}祝您生日快乐，身体健康，生意兴隆！",
        "en": "Dear {name}, happy birthday! Everyone at {branch} and your loan officer {officer} wish you good health and a prosperous year.",
    },
    "spring_festival_eve": {
        "zh": "{name}您好！除夕之夜，{branch}和{officer}给您拜个早年，祝您阖家团圆，来年红红火火！",
        "en": "Dear {name}, on Spring Festival Eve {branch} and {officer} wish you a happy reunion with your family and a prosperous new year.",
    },
    "spring_festival": {
        "zh": "{name}您好！新春佳节，{branch}和{officer}给您拜年，祝您新年快乐，万事如意！",
        "en": "Dear {name}, happy Spring Festival! {branch} and {officer} wish you and your family a happy and successful new year.",
    },
    "qingming": {
        "zh": "{name}您好！清明时节，{branch}和{officer}提醒您祭扫出行注意安全，祝您和家人平安。",
        "en": "Dear {name}, at Qingming {branch} and {officer} wish you and your family a safe journey and peace.",
    },
    "mid_autumn": {
        "zh": "{name}您好！月圆中秋，{branch}和{officer}祝您和家人团团圆圆，幸福安康！",
        "en": "Dear {name}, happy Mid-Autumn Festival! {branch} and {officer} wish you and your family a joyful reunion.",
    },
    "": {
        "zh": "{name}您好！值此{occasion}之际，{branch}全体同事和{officer}祝您和家人节日快乐，万事如意！",
        "en": "Dear {name}, on {occasion} everyone at {branch} and {officer} wish you and your family all the best.",
    },
}


def default_template(code: str, locale: str) -> str:
    """The built-in wording for ``code``; any other occasion gets the general holiday text."""
    return DEFAULT_TEMPLATES.get(code, DEFAULT_TEMPLATES[""])[locale]
