"""The admin's occasions and greeting texts: saved when right, refused clearly when not."""

from datetime import date

import pytest
import sqlalchemy as sa

from portal.care.models import GreetingTemplate, Occasion, OutboxMessage
from portal.care.sending import send_due
from portal.extensions import db
from tests.care.helpers import add_borrower

LABA_2027 = date(2027, 1, 15)  # lunar 2026-12-08


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/account")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _occasion(**overrides) -> dict:
    return {
        "code": "laba",
        "name_zh": "腊八节",
        "name_en": "Laba Festival",
        "calendar": "lunar",
        "month": "12",
        "day": "8",
        "term_name": "",
        "active": "y",
    } | overrides


def test_admin_adds_a_lunar_occasion_that_is_greeted_on_its_day(app, client, cast):
    client.login("admin")
    response = client.submit("/care/occasions/new", _occasion())
    assert response.status_code == 302
    page = client.get("/care/occasions").get_data(as_text=True)
    assert "腊八节" in page and "laba" in page
    with app.app_context():
        send_due(LABA_2027)
        rows = db.session.execute(sa.select(OutboxMessage.occasion_code, OutboxMessage.body)).all()
    assert {code for code, _ in rows} == {"laba"}
    assert all("腊八节" in body for _, body in rows)  # {occasion} in the default text


def test_a_disabled_occasion_is_not_greeted(app, client, cast):
    client.login("admin")
    client.submit("/care/occasions/new", _occasion(active=""))
    with app.app_context():
        assert send_due(LABA_2027).queued == 0


def test_editing_an_occasion_keeps_its_code(app, client, cast):
    client.login("admin")
    client.submit("/care/occasions/new", _occasion())
    with app.app_context():
        occasion_id = db.session.scalar(sa.select(Occasion.id))
    url = f"/care/occasions/{occasion_id}"
    client.submit(url, _occasion(code="other", calendar="solar_term", term_name="冬至", month=""))
    with app.app_context():
        occasion = db.session.get(Occasion, occasion_id)
        assert (occasion.code, occasion.calendar, occasion.term_name) == (
            "laba",
            "solar_term",
            "冬至",
        )
        assert occasion.month is None


@pytest.mark.parametrize(
    ("values", "english", "chinese"),
    [
        ({"day": "31"}, "A lunar month has at most 30 days.", "农历月份最多 30 天。"),
        (
            {"calendar": "gregorian", "month": "2", "day": "30"},
            "This day does not exist in that month.",
            "该月没有这一天。",
        ),
        ({"month": "13"}, "The month must be 1 to 12.", "月份须为 1 到 12。"),
        ({"calendar": "solar_term", "month": ""}, "Choose the solar term.", "请选择节气。"),
        ({"day": ""}, "Give the day.", "请填写日。"),
        (
            {"code": "mid_autumn"},
            "This code belongs to a built-in occasion.",
            "此代码属于内置节日。",
        ),
        ({"code": "birthday"}, "This code belongs to a built-in occasion.", "此代码属于内置节日。"),
        (
            {"code": "Laba!"},
            "Use small letters, digits and underscores, starting with a letter.",
            "请使用小写字母、数字和下划线，并以字母开头。",
        ),
    ],
)
def test_bad_occasion_refused_in_both_languages(app, client, world, values, english, chinese):
    client.login("admin")
    page = client.submit("/care/occasions/new", _occasion(**values)).get_data(as_text=True)
    assert chinese in page
    _english(client)
    page = client.submit("/care/occasions/new", _occasion(**values)).get_data(as_text=True)
    assert english in page
    assert 'value="腊八节"' in page  # what was typed stays
    assert _count(app, Occasion) == 0


def test_duplicate_occasion_code_refused(app, client, world):
    client.login("admin")
    client.submit("/care/occasions/new", _occasion())
    _english(client)
    page = client.submit("/care/occasions/new", _occasion()).get_data(as_text=True)
    assert "Another occasion already has this code." in page
    assert _count(app, Occasion) == 1


def test_admin_edits_a_template_and_the_greeting_uses_it(app, client, cast):
    borrower_id = add_borrower(app, cast, birth_date=date(1980, 3, 20))
    client.login("admin")
    body = "{name}，{branch}的{officer}祝您{occasion}快乐！"
    response = client.submit("/care/templates/birthday/zh", {"body": body})
    assert response.status_code == 302
    assert body in client.get("/care/templates").get_data(as_text=True)
    with app.app_context():
        send_due(date(2026, 3, 20))
        message = db.session.scalar(sa.select(OutboxMessage))
        borrower = message.borrower
        expected = f"{borrower.full_name}，{borrower.branch.name}的{borrower.officer.display_name}祝您生日快乐！"
    assert message.borrower_id == borrower_id
    assert message.body == expected


def test_template_page_previews_the_text(client, world):
    client.login("admin")
    page = client.get("/care/templates/spring_festival/en").get_data(as_text=True)
    assert "Dear Wang Xiaoming, happy Spring Festival!" in page


@pytest.mark.parametrize(
    ("body", "english", "chinese"),
    [
        ("{name}，您的电话是{phone}", "Unknown placeholder {phone}.", "未知的占位符 {phone}。"),
        (
            "{name.__class__}",
            "Unknown placeholder {name.__class__}.",
            "未知的占位符 {name.__class__}。",
        ),
        ("{name[0]}您好", "Unknown placeholder {name[0]}.", "未知的占位符 {name[0]}。"),
        ("{}您好", "Unknown placeholder {}.", "未知的占位符 {}。"),
        ("{0}您好", "Unknown placeholder {0}.", "未知的占位符 {0}。"),
        (
            "{name!r}您好",
            "Write placeholders plainly, like {name}, without ! or : after the name.",
            "占位符请直接写，如 {name}，名称后不要加 ! 或 :。",
        ),
        (
            "{name:>40}",
            "Write placeholders plainly, like {name}, without ! or : after the name.",
            "占位符请直接写，如 {name}，名称后不要加 ! 或 :。",
        ),
        (
            "{name您好",
            "Braces do not match. Write {{ and }} for a brace that is not a placeholder.",
            "花括号不成对。不是占位符的花括号请写成 {{ 和 }}。",
        ),
    ],
)
def test_bad_template_refused_in_both_languages(app, client, world, body, english, chinese):
    client.login("admin")
    page = client.submit("/care/templates/birthday/zh", {"body": body}).get_data(as_text=True)
    assert chinese in page
    _english(client)
    page = client.submit("/care/templates/birthday/zh", {"body": body}).get_data(as_text=True)
    assert english in page
    assert _count(app, GreetingTemplate) == 0


def test_unknown_occasion_or_language_is_not_found(client, world):
    client.login("admin")
    assert client.get("/care/templates/no_such/zh").status_code == 404
    assert client.get("/care/templates/birthday/fr").status_code == 404
