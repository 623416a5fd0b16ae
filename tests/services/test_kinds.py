"""The admin's catalogue of service kinds."""

import pytest

from portal.audit.models import AuditEntry
from portal.services.models import ServiceKind
from tests.services.helpers import count, english, load, text


def _kind(**changes) -> dict:
    return {
        "code": "insurance_advice",
        "name_zh": "保险咨询",
        "name_en": "Insurance advice",
        "response_days": "4",
        "position": "8",
        "active": "y",
    } | changes


def test_admin_adds_a_kind_that_borrowers_can_then_request(client, world, app):
    client.login("admin")
    assert client.submit("/admin/services/kinds/new", _kind()).status_code == 302
    added = load(app, ServiceKind, "insurance_advice")
    assert (added.name_zh, added.name_en, added.response_days, added.active) == (
        "保险咨询",
        "Insurance advice",
        4,
        True,
    )
    assert "保险咨询" in text(client.get("/admin/services/kinds"))
    assert (
        count(
            app,
            AuditEntry,
            AuditEntry.action == "service_kind.create",
            AuditEntry.object_id == "insurance_advice",
        )
        == 1
    )
    client.logout()
    client.login("borrower")
    assert 'value="insurance_advice"' in text(client.get("/me/services/new"))


def test_admin_edits_names_and_deadline_but_not_the_code(client, world, app):
    client.login("admin")
    client.submit(
        "/admin/services/kinds/legal_services",
        _kind(code="hijack", name_zh="法律咨询服务", name_en="Legal advice", response_days="2"),
    )
    edited = load(app, ServiceKind, "legal_services")
    assert (edited.name_zh, edited.name_en, edited.response_days) == (
        "法律咨询服务",
        "Legal advice",
        2,
    )
    assert load(app, ServiceKind, "hijack") is None
    english(client)
    client.logout()
    client.login("borrower")
    english(client)
    assert "Legal advice" in text(client.get("/me/services/new"))


@pytest.mark.parametrize(
    ("changes", "english_error", "chinese_error"),
    [
        ({"code": "legal_services"}, "This code is already used.", "该代码已被使用。"),
        (
            {"code": "Bad Code"},
            "Use lower-case letters, digits and underscores, starting with a letter.",
            "请使用小写字母、数字和下划线，并以字母开头。",
        ),
        ({"name_zh": ""}, "Enter the name in Chinese.", "请输入中文名称。"),
        (
            {"response_days": "0"},
            "Enter a whole number of days from 1 to 60.",
            "请输入 1 到 60 之间的整数天数。",
        ),
        (
            {"response_days": "61"},
            "Enter a whole number of days from 1 to 60.",
            "请输入 1 到 60 之间的整数天数。",
        ),
        ({"response_days": "abc"}, "Not a valid integer value.", "不是有效的整数。"),
    ],
)
def test_kind_form_refuses_bad_input(client, world, app, changes, english_error, chinese_error):
    before = count(app, ServiceKind)
    client.login("admin")
    page = text(client.submit("/admin/services/kinds/new", _kind(**changes)))
    assert chinese_error in page
    english(client)
    assert english_error in text(client.submit("/admin/services/kinds/new", _kind(**changes)))
    assert count(app, ServiceKind) == before
    assert load(app, ServiceKind, "insurance_advice") is None


def test_unknown_kind_is_not_found(client, world):
    client.login("admin")
    assert client.get("/admin/services/kinds/nothing_like_this").status_code == 404
