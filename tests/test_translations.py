"""The Chinese catalogue is complete and in step with the code."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "portal/translations/zh/LC_MESSAGES/messages.po"


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_chinese_catalogue_has_no_empty_or_fuzzy_entry():
    catalogue = _read(CATALOGUE)
    untranslated = [
        _key(m)
        for m in catalogue
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]
    assert untranslated == []


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_ngettext:1,2",
            "--no-location",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    in_code = {_key(m) for m in _read(template) if m.id}
    translated = {_key(m) for m in _read(CATALOGUE) if m.id}
    assert in_code - translated == set(), "run `make translations` and translate"


def test_placeholders_survive_translation():
    for message in _read(CATALOGUE):
        if message.id and isinstance(message.id, str):
            for placeholder in ("%(name)s", "%(code)s", "%(total)s"):
                assert (placeholder in message.id) == (placeholder in message.string), message.id


# A placeholder holding a number, then a plural noun (perhaps after one adjective).
COUNTED_NOUN = re.compile(
    r"%\((?:count|num|n|days|months|loans|visits|due|owed)\)[sd]"
    r" (?:[a-z]+ )?[a-z]+s\b"
)


def test_a_counted_noun_has_plural_forms():
    """ "1 loans" is wrong English: a number before a plural noun goes through ngettext."""
    singular_only = [
        message.id
        for message in _read(CATALOGUE)
        if message.id and isinstance(message.id, str) and COUNTED_NOUN.search(message.id)
    ]
    assert singular_only == []
