"""Onboarding a borrower: the happy path, every field's bad input, duplicates, tampering."""

import hashlib
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from portal.accounts.models import Role, User
from portal.borrowers.models import (
    ActivationCode,
    BirthdayCalendar,
    Borrower,
    IdCardPhoto,
    OfficerAssignment,
)
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import ConsentMethod, Purpose
from tests.borrowers.helpers import (
    audit_actions,
    counts,
    english,
    fetch,
    image_file,
    onboarding_data,
    page_text,
    resident_id,
)

CODE = re.compile(r'data-testid="activation-code">([A-Z0-9]{4})-([A-Z0-9]{4})<')


def test_officer_onboards_a_borrower_with_login_and_activation_code(client, world, app):
    client.login("officer")
    id_with_x = "11010119850302106X"
    response = client.submit(
        "/borrowers/new",
        onboarding_data(resident_id=id_with_x.lower(), sex="female", birth_date="1985-03-02"),
    )
    assert response.status_code == 200
    page = page_text(response)
    code = "".join(CODE.search(page).groups())
    assert "王小明 已登记。" in page

    borrower = fetch(app, Borrower, resident_id=id_with_x)  # the lowercase x is normalised
    assert borrower.officer_id == world.officer.id and borrower.branch_id == world.branch.id
    assert borrower.mobile == "13905271234" and borrower.mobile_tail == "1234"
    assert borrower.resident_id_tail == "106X" and borrower.name_initials == "wxm"
    assert borrower.birth_date == date(1985, 3, 2) and borrower.sex.value == "female"
    assert str(borrower.monthly_income) == "6500.00"
    assert str(borrower.monthly_expenses) == "3800.50"
    assert borrower.guarantor_phone == "052785210001"
    assert borrower.birthday_calendar == BirthdayCalendar.LUNAR
    with app.app_context():
        decided = consents.current(borrower.id)
    # Every purpose's decision is recorded on paper by the officer: given where ticked.
    assert {purpose: c.given for purpose, c in decided.items()} == {
        Purpose.LOAN: True,
        Purpose.GREETINGS: True,
        Purpose.NETWORKING: False,
        Purpose.PHOTOS: False,
        Purpose.SURVEYS: False,
    }
    assert {(c.method, c.decided_by_id, c.text_version) for c in decided.values()} == {
        (ConsentMethod.PAPER, world.officer.id, consents.TEXT_VERSION)
    }
    assert borrower.consent_at is not None and borrower.created_by_id == world.officer.id

    login = fetch(app, User, id=borrower.user_id)
    # Reached by the mobile number typed at login; the users table holds no number.
    assert login.role == Role.BORROWER and login.username == f"borrower:{borrower.id}"
    assert login.password_hash == ""  # no usable password until activation
    stored = fetch(app, ActivationCode, user_id=login.id)
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert (stored.expires_at - stored.created_at).days == 7
    assignment = fetch(app, OfficerAssignment, borrower_id=borrower.id)
    assert assignment.officer_id == world.officer.id and assignment.ended_at is None
    assert [e.object_id for e in audit_actions(app, "borrower.create")] == [str(borrower.id)]
    assert str(borrower.resident_id) not in audit_actions(app, "borrower.create")[0].summary


def test_id_card_photo_is_decoded_and_stored_as_jpeg(client, world, app):
    client.login("officer")
    upload = (image_file((1200, 800), "PNG"), "../../etc/passwd.exe")
    response = client.submit(
        "/borrowers/new",
        onboarding_data(id_card_photo=upload),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    borrower = fetch(app, Borrower, mobile="13905271234")
    photo = fetch(app, IdCardPhoto, borrower_id=borrower.id)
    assert photo.media_type == "image/jpeg" and photo.content.startswith(b"\xff\xd8")

    served = client.get(f"/borrowers/{borrower.id}/id-photo")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == "no-store"
    assert len(audit_actions(app, "borrower.view_id_photo")) == 1


def test_head_onboards_for_an_officer_of_their_branch(client, world, app):
    client.login("head")
    page = page_text(client.get("/borrowers/new"))
    assert f'value="{world.officer.id}"' in page
    assert f'value="{world.other_officer.id}"' not in page
    client.submit("/borrowers/new", onboarding_data(officer_id=str(world.officer.id)))
    assert fetch(app, Borrower, mobile="13905271234").officer_id == world.officer.id


def test_head_cannot_assign_to_another_branchs_officer(client, world, app):
    client.login("head")
    before = counts(app)
    response = client.submit(
        "/borrowers/new", onboarding_data(officer_id=str(world.other_officer.id))
    )
    assert "不是有效的选择" in page_text(response)
    assert counts(app) == before


def test_officer_cannot_register_a_borrower_for_someone_else(client, world, app):
    client.login("officer")
    client.submit("/borrowers/new", onboarding_data(officer_id=str(world.other_officer.id)))
    borrower = fetch(app, Borrower, mobile="13905271234")
    assert borrower.officer_id == world.officer.id and borrower.branch_id == world.branch.id


def test_the_form_keeps_typed_values_on_error(client, world, app):
    client.login("officer")
    page = page_text(
        client.submit("/borrowers/new", onboarding_data(resident_id="320802198503021230"))
    )
    assert 'value="320802198503021230"' in page
    assert 'value="王小明"' in page and 'value="6,500"' in page
    assert "家庭养猪场，存栏生猪约80头" in page
    assert re.search(r'<input checked[^>]*value="lunar"', page)


def _too_big_upload():
    data = io.BytesIO(b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 + 10))
    return (data, "big.jpg")


def _checked(body: str) -> str:
    """17 digits with the right check character, whatever they encode."""
    return body + ric.calc_check_digit(body + "0")


# field, bad value, English message, Chinese message
BAD_INPUT = [
    ("full_name", "", "Enter the full name.", "请输入姓名。"),
    ("full_name", "王3明", "A name has only letters", "姓名只能包含文字"),
    ("resident_id", "", "Enter the 18-character resident ID number.", "请输入 18 位身份证号码。"),
    (
        "resident_id",
        "320802850302123",
        "15-digit ID numbers are no longer valid",
        "15 位身份证号码已停止使用",
    ),
    (
        "resident_id",
        "32080219850302123",
        "An ID number has 18 characters.",
        "身份证号码应为 18 位。",
    ),
    (
        "resident_id",
        "3208021985O302123X",
        "17 digits followed by a digit or X",
        "17 位数字加 1 位数字或 X",
    ),
    ("resident_id", "320802198503021230", "The check character does not match", "校验码不符"),
    (
        "resident_id",
        _checked("32080219850230123"),
        "birth date in this ID number does not exist",
        "出生日期不存在",
    ),
    ("resident_id", resident_id(county="999999"), "county code", "地区代码无效"),
    ("resident_id", resident_id(birth=date(2015, 6, 1)), "at least 18 years old", "须年满 18 周岁"),
    (
        "resident_id",
        resident_id(county="110101", birth=date(2099, 6, 1)),
        "in the future",
        "晚于今天",
    ),
    (
        "birth_date",
        "1985-03-03",
        "does not match the ID number, which says 1985-03-02",
        "号码中为 1985-03-02",
    ),
    ("birth_date", "3/2/1985", "Not a valid date value.", "不是有效的日期值"),
    ("sex", "female", "The sex does not match the ID number", "性别与身份证号码"),
    ("sex", "", "Choose the sex.", "请选择性别。"),
    ("mobile", "", "Enter the borrower's mobile number.", "请输入借款人的手机号码。"),
    ("mobile", "12345", "Enter a mainland mobile number", "请输入 11 位中国大陆手机号码"),
    ("mobile", "0527-8521 0001", "Enter a mainland mobile number", "请输入 11 位中国大陆手机号码"),
    ("address", "", "Enter the address.", "请输入地址。"),
    ("address", "村" * 201, "longer than 200", "不能超过 200"),
    ("village", "", "Enter the village.", "请输入所在村。"),
    ("business_type", "", "Choose the type of business.", "请选择经营类型。"),
    ("business_type", "spaceship", "Not a valid choice", "不是有效的选择"),
    ("business_description", "猪" * 2001, "longer than 2000", "不能超过 2000"),
    ("household_size", "0", "A household has 1 to 30 people.", "家庭人口应为 1 至 30 人。"),
    ("household_size", "31", "A household has 1 to 30 people.", "家庭人口应为 1 至 30 人。"),
    ("household_size", "four", "Not a valid integer value.", "不是有效的整数"),
    ("monthly_income", "", "Enter an amount, 0 if there is none.", "没有则填 0"),
    ("monthly_income", "-1", "between 0 and 1,000,000 yuan", "0 至 1,000,000 元之间"),
    ("monthly_income", "2000000", "between 0 and 1,000,000 yuan", "0 至 1,000,000 元之间"),
    ("monthly_income", "abc", "Enter an amount in yuan", "请输入以元为单位的金额"),
    ("monthly_expenses", "NaN", "Enter an amount in yuan", "请输入以元为单位的金额"),
    ("monthly_expenses", "12.345", "Enter an amount in yuan", "请输入以元为单位的金额"),
    ("guarantor_name", "", "Enter the guarantor's name.", "请输入担保人姓名。"),
    ("guarantor_name", "<script>", "A name has only letters", "姓名只能包含文字"),
    ("guarantor_phone", "", "Enter the guarantor's phone number.", "请输入担保人电话。"),
    ("guarantor_phone", "110", "mainland mobile or landline", "中国大陆手机或固定电话"),
    ("guarantor_phone", "13905271234", "a phone number of their own", "担保人须使用本人的电话号码"),
    ("birthday_calendar", "moon", "Not a valid choice", "不是有效的选择"),
    ("consent", None, "consent is required", "须取得其单独同意"),
    (
        "id_card_photo",
        "text",
        "not a readable JPEG, PNG or WebP photo",
        "不是可读取的 JPEG、PNG 或 WebP 照片",
    ),
    (
        "id_card_photo",
        "gif",
        "not a readable JPEG, PNG or WebP photo",
        "不是可读取的 JPEG、PNG 或 WebP 照片",
    ),
    ("id_card_photo", "wide", "larger than 6000 pixels", "边长超过 6000 像素"),
    ("id_card_photo", "bomb", "larger than 6000 pixels", "边长超过 6000 像素"),
    ("id_card_photo", "huge", "larger than 5 MB", "照片超过 5 MB"),
]


def _upload(kind: str):
    if kind == "text":
        return (io.BytesIO(b"GIF89a this is not really an image"), "photo.jpg")
    if kind == "gif":
        return (image_file((50, 50), "GIF", mode="P"), "photo.jpg")
    if kind == "wide":
        return (image_file((6001, 10), "PNG", mode="1"), "photo.png")
    if kind == "bomb":  # a tiny file that would decode to 400 million pixels
        return (image_file((20000, 20000), "PNG", mode="1"), "photo.png")
    return _too_big_upload()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(
    ("field", "value", "english_message", "chinese_message"),
    BAD_INPUT,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(BAD_INPUT)],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    client, world, app, language, field, value, english_message, chinese_message
):
    client.login("officer")
    if language == "en":
        english(client)
    before = counts(app)
    if field == "id_card_photo":
        value = _upload(value)
    data = onboarding_data(**{field: value})
    response = client.submit("/borrowers/new", data, content_type="multipart/form-data")
    page = page_text(response)
    assert response.status_code == 200
    assert (english_message if language == "en" else chinese_message) in page
    assert f'id="{field}-errors"' in page  # shown next to the field
    assert counts(app) == before


def _make_existing(app, officer_id: int, mobile: str, resident: str) -> int:
    from tests.factories import make_borrower

    with app.app_context():
        officer = db.session.get(User, officer_id)
        borrower = make_borrower(
            officer, mobile=mobile, mobile_tail=mobile[-4:], resident_id=resident
        )
        db.session.commit()
        return borrower.id


def test_duplicate_id_of_a_visible_borrower_links_to_them(client, world, app):
    existing = _make_existing(app, world.officer.id, "13700001111", resident_id())
    client.login("officer")
    before = counts(app)
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    assert f'href="/borrowers/{existing}"' in page
    assert "此身份证号码已登记" in page
    assert counts(app) == before


def test_duplicate_phone_of_an_invisible_borrower_says_whom_to_ask_and_nothing_more(
    client, world, app
):
    with app.app_context():
        from portal.branches.models import Branch

        db.session.get(Branch, world.other_branch.id).phone = "0527-84410002"
        db.session.commit()
    existing = _make_existing(
        app, world.other_officer.id, "13905271234", resident_id(county="110101")
    )
    secret = fetch(app, Borrower, id=existing)
    client.login("officer")
    english(client)
    before = counts(app)
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    assert "This mobile number is already registered with another loan officer." in page
    assert "0527-84410002" in page
    assert f"/borrowers/{existing}" not in page
    for private in (secret.full_name, secret.resident_id, secret.village, secret.address):
        assert private not in page
    assert counts(app) == before


def test_duplicate_of_a_colleagues_borrower_is_not_linked_for_an_officer(client, world, app):
    with app.app_context():
        from portal.branches.models import Branch
        from tests.factories import make_user

        colleague = make_user("colleague", Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
        colleague_id = colleague.id
    existing = _make_existing(app, colleague_id, "13700001111", resident_id())
    client.login("officer")
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    assert f"/borrowers/{existing}" not in page
    assert "已由其他信贷员登记" in page
    client.logout()
    client.login("head")  # the branch head sees the colleague's borrower, so gets the link
    page = page_text(
        client.submit("/borrowers/new", onboarding_data(officer_id=str(world.officer.id)))
    )
    assert f'href="/borrowers/{existing}"' in page


def test_a_staff_username_equal_to_the_mobile_is_refused(client, world, app):
    with app.app_context():
        from tests.factories import make_user

        make_user("13905271234", Role.ADMIN)
        db.session.commit()
    client.login("officer")
    english(client)
    page = page_text(client.submit("/borrowers/new", onboarding_data()))
    assert "This mobile number is already used by another login." in page


def test_borrowers_cannot_onboard(client, world, app):
    client.login("borrower")
    before = counts(app)
    response = client.submit("/borrowers/new", onboarding_data(), page="/account")
    assert response.status_code == 403
    assert counts(app) == before


def test_onboarding_writes_one_transaction(client, world, app):
    """The login, profile, assignment, code and audit rows appear together."""
    client.login("officer")
    before = counts(app)
    client.submit("/borrowers/new", onboarding_data())
    after = counts(app)
    assert {name: after[name] - before[name] for name in after} == {
        "Borrower": 1,
        "User": 1,
        "ActivationCode": 1,
        "OfficerAssignment": 1,
        "IdCardPhoto": 0,
        # user.create, borrower.create, activation code, and one decision per purpose
        "AuditEntry": 3 + len(Purpose),
    }
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(User.id)).where(User.password_hash == ""))
            == 1
        )
