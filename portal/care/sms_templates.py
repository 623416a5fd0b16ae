"""The registry of approved SMS templates: what each text the portal sends becomes at a provider.

Alibaba Cloud and Tencent Cloud SMS send only templates they have approved, under the
company's registered signature (签名). The registry is a JSON file
(``SMS_TEMPLATES_FILE``, docs/sms.md) that maps, per provider, each kind of message
the portal texts to the approved template: its code at the provider, its wording as
approved, the variables it takes (filled from the message's values) and its kind,
``notice`` (通知) or ``promotion`` (推广/营销).

What the portal texts is declared here, in ``MESSAGE_KINDS``: the key a template is
registered under and the values a template may use. Loading the file refuses, with
every problem listed:

- an unknown provider or kind, a key that is not a message kind nor an occasion code,
  a template code of the wrong form;
- variables that do not match the approved wording, or values the message does not have;
- a promotion template without the opt-out line ``拒收请回复R`` at its end, or with
  lending content (``LENDING_TERMS``), or registered for a message that may only be a
  notice (a password code, anything about a loan).

Sending checks once more what a file cannot: the values filled into a promotion
template must not carry lending content either (a branch named 某某小贷网点).

The portal's own wording (portal/care/greetings.py, the admin's texts) stays what the
``log`` and ``webhook`` gateways send and what the outbox page shows.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from portal.care.gateways import ConfigurationError
from portal.care.models import BIRTHDAY
from portal.care.occasions import BUILT_IN_OCCASIONS
from portal.care.texts import TEXT_KINDS

PROVIDERS = ("aliyun", "tencent")
NOTICE, PROMOTION = "notice", "promotion"
KINDS = (NOTICE, PROMOTION)
# Both providers require it at the end of every promotional text.
OPT_OUT_LINE = "拒收请回复R"
# The template of any greeting whose occasion has none of its own (the admin's occasions).
HOLIDAY = "holiday"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a message key

# Words that make a text lending content, which no promotional SMS may carry. 贷 covers
# 贷款, 信贷, 小贷, 借贷, 网贷; a greeting names the officer 客户经理, not 信贷员.
LENDING_TERMS = (
    "贷",
    "借款",
    "借钱",
    "放款",
    "还款",
    "利率",
    "利息",
    "低息",
    "免息",
    "额度",
    "授信",
    "分期",
    "逾期",
    "征信",
    "融资",
    "下款",
    "提现",
    "现金",
    "loan",
    "credit",
    "interest rate",
    "borrow",
    "repay",
    "instalment",
    "installment",
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_ALIYUN_CODE = re.compile(r"^SMS_\d{4,20}$")
_TENCENT_CODE = re.compile(r"^\d{1,20}$")
_ALIYUN_VARIABLE = re.compile(r"\$\{(\w+)\}")
_TENCENT_VARIABLE = re.compile(r"\{(\d+)\}")


@dataclass(frozen=True)
class MessageKind:
    """Something the portal texts: the key its templates are registered under.

    ``values`` are what a template of this kind may use. ``notice_only``: it may never
    be a promotion (a password code; anything about a loan, whose content is lending).
    """

    key: str
    values: tuple[str, ...]
    notice_only: bool = False


GREETING_VALUES = ("name", "branch", "officer", "occasion")
# Every kind of text the portal sends. A feature that texts something new (a reminder
# of a deadline, say) adds its kind here, or calls ``declare`` when its module loads,
# notice_only when it is about a loan. Any other key is taken for an admin's occasion.
MESSAGE_KINDS: dict[str, MessageKind] = {
    kind.key: kind
    for kind in (
        MessageKind(BIRTHDAY, GREETING_VALUES),
        *(MessageKind(rule.code, GREETING_VALUES) for rule in BUILT_IN_OCCASIONS),
        MessageKind(HOLIDAY, GREETING_VALUES),
        MessageKind(PASSWORD_RESET, ("code", "minutes", "staff", "time", "url"), notice_only=True),
        # Notices to borrowers and reminders to staff (portal/care/texts.py, docs/care.md).
        *(MessageKind(key, values, only) for key, (values, only) in TEXT_KINDS.items()),
    )
}


def declare(*kinds: MessageKind) -> None:
    """Add the kinds of text a feature sends, so templates can be registered for them."""
    for kind in kinds:
        MESSAGE_KINDS[kind.key] = kind


def message_kind(key: str) -> MessageKind | None:
    """The declared kind; any other occasion code is an admin's occasion, a greeting."""
    if key in MESSAGE_KINDS:
        return MESSAGE_KINDS[key]
    return MessageKind(key, GREETING_VALUES) if _CODE.match(key) else None


def lending_terms(text: str) -> list[str]:
    """The lending words in ``text`` (case-insensitive for the English ones)."""
    folded = text.casefold()
    return [term for term in LENDING_TERMS if term in folded]


class RegistryError(ConfigurationError):
    """The registry file cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Template:
    """One approved template: ``variables`` pairs each provider variable with a value name.

    Alibaba names its variables (``${name}``); Tencent numbers them (``{1}``, ``{2}``).
    """

    provider: str
    key: str
    code: str
    kind: str
    text: str
    variables: tuple[tuple[str, str], ...]

    @property
    def promotion(self) -> bool:
        return self.kind == PROMOTION

    def refusal(self, values: Mapping[str, str]) -> str:
        """Why ``values`` cannot fill this template ("" when they can)."""
        missing = [value for _, value in self.variables if not str(values.get(value) or "")]
        if missing:
            return f"no value for {', '.join(missing)} in template {self.code} ({self.key})"
        if self.promotion:
            for _, value in self.variables:
                if terms := lending_terms(str(values[value])):
                    return (
                        f"promotion template {self.code} ({self.key}) refused: its {value} "
                        f"carries lending content ({', '.join(terms)})"
                    )
        return ""

    def parameters(self, values: Mapping[str, str]) -> dict[str, str] | list[str]:
        """What the provider's API takes: a JSON object (Alibaba) or a list (Tencent)."""
        if self.provider == "aliyun":
            return {variable: str(values[value]) for variable, value in self.variables}
        return [str(values[value]) for _, value in self.variables]


@dataclass(frozen=True)
class Registry:
    """The approved templates of every provider, by message key."""

    templates: Mapping[str, Mapping[str, Template]]

    def template(self, provider: str, key: str, *, greeting: bool = False) -> Template | None:
        """The template for ``key``; a greeting without its own takes the holiday one."""
        entries = self.templates.get(provider, {})
        if key in entries:
            return entries[key]
        return entries.get(HOLIDAY) if greeting else None


def _variables(provider: str, text: str, declared, problems: list[str], where: str):
    """The (provider variable, value) pairs, checked against the approved wording."""
    if provider == "aliyun":
        if not isinstance(declared, dict):
            problems.append(f"{where}: variables must be an object {{template variable: value}}")
            return ()
        pairs = tuple((str(k), str(v)) for k, v in declared.items())
        used = set(_ALIYUN_VARIABLE.findall(text))
        if used != {k for k, _ in pairs}:
            problems.append(
                f"{where}: variables {sorted(k for k, _ in pairs)} do not match the wording's "
                f"{sorted(used)}"
            )
        return pairs
    if not isinstance(declared, list):
        problems.append(f"{where}: variables must be a list of values, for {{1}}, {{2}}, …")
        return ()
    pairs = tuple((str(number), str(value)) for number, value in enumerate(declared, start=1))
    used = {int(number) for number in _TENCENT_VARIABLE.findall(text)}
    if used != set(range(1, len(pairs) + 1)):
        problems.append(
            f"{where}: {len(pairs)} variables do not match the wording's {sorted(used)}"
        )
    return pairs


def _entry(provider: str, key: str, raw, problems: list[str]) -> Template | None:
    where = f"{provider}/{key}"
    kind = message_kind(key)
    if kind is None:
        problems.append(f"{where}: not a message the portal sends nor an occasion code")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object with template, kind, text and variables")
        return None
    code, text = str(raw.get("template") or ""), str(raw.get("text") or "")
    if not (_ALIYUN_CODE if provider == "aliyun" else _TENCENT_CODE).match(code):
        expected = "SMS_ and digits" if provider == "aliyun" else "digits"
        problems.append(f"{where}: template code {code!r} is not {expected}")
    if not text.strip():
        problems.append(f"{where}: the approved wording (text) is missing")
    if raw.get("kind") not in KINDS:
        problems.append(f"{where}: kind must be 'notice' or 'promotion', not {raw.get('kind')!r}")
    variables = _variables(provider, text, raw.get("variables"), problems, where)
    unknown = sorted({value for _, value in variables} - set(kind.values))
    if unknown:
        problems.append(
            f"{where}: this message has no value {', '.join(unknown)} "
            f"(it has {', '.join(kind.values)})"
        )
    if raw.get("kind") == PROMOTION:
        if kind.notice_only:
            problems.append(f"{where}: this message may only be sent as a notice")
        if not text.rstrip().endswith(OPT_OUT_LINE):
            problems.append(f"{where}: a promotion must end with the opt-out line {OPT_OUT_LINE}")
        if terms := lending_terms(text):
            problems.append(
                f"{where}: a promotion must not carry lending content ({', '.join(terms)})"
            )
    return Template(provider, key, code, str(raw.get("kind")), text, variables)


def parse(data) -> Registry:
    """The registry from the file's JSON; RegistryError listing every problem."""
    problems: list[str] = []
    templates: dict[str, dict[str, Template]] = {}
    if not isinstance(data, dict):
        raise RegistryError("SMS templates: the file must hold an object keyed by provider")
    for provider, entries in data.items():
        if provider not in PROVIDERS:
            problems.append(f"{provider}: unknown provider; use {' or '.join(PROVIDERS)}")
            continue
        if not isinstance(entries, dict):
            problems.append(f"{provider}: must be an object keyed by message")
            continue
        templates[provider] = {}
        for key, raw in entries.items():
            entry = _entry(provider, str(key), raw, problems)
            if entry is not None:
                templates[provider][str(key)] = entry
    if problems:
        raise RegistryError("SMS templates refused:\n  " + "\n  ".join(problems))
    return Registry(templates)


def load(path: str) -> Registry:
    """Read and check the registry file; RegistryError when it is missing or refused."""
    if not path:
        raise RegistryError(
            "SMS_TEMPLATES_FILE must name the registry of approved templates (docs/sms.md)"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"SMS_TEMPLATES_FILE {path}: {error.strerror}") from error
    except ValueError as error:
        raise RegistryError(f"SMS_TEMPLATES_FILE {path}: not JSON ({error})") from error
    return parse(data)
