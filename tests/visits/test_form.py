"""Filling the visit form over HTTP: what is stored, risk at signing, bad input, double submit."""

import html
import re
from datetime import timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus, RepaymentStatus
from portal.visits.models import VisitSignature, VisitWarning
from portal.visits.operations import visit_signed
from portal.visits.risk import RiskSignal
from tests.factories import make_borrower, make_loan
from tests.visits.conftest import count_visits, english, local_input, only_visit
from tests.visits.helpers import data_url

S = RiskSignal


def _new_url(world) -> str:
    return f"/borrowers/{world.own_borrower.id}/visits/new"


def test_officer_fills_and_signs_a_visit(client, world, app, visit_form):
    client.login("officer")
    page = client.get(_new_url(world)).get_data(as_text=True)
    assert f'data-draft-key="visit-new-borrower-{world.own_borrower.id}"' in page
    assert "data-submit-once" in page and "data-geolocate" in page
    assert 'data-signature-field="signature"' in page
    response = client.submit(
        _new_url(world),
        visit_form(
            latitude="33.720123",
            longitude="118.681234",
            accuracy="12",
            risk_signals=["market_collapse"],
            services_needed=["technique_training", "other"],
            services_other="电商开店指导",
        ),
    )
    assert response.status_code == 302
    visit = only_visit(app)
    assert response.headers["Location"] == f"/visits/{visit.id}"
    assert (visit.borrower_id, visit.loan_id, visit.officer_id, visit.branch_id) == (
        world.own_borrower.id,
        world.own_loan.id,
        world.officer.id,
        world.branch.id,
    )
    assert (visit.latitude, visit.longitude, visit.accuracy_m) == (33.720123, 118.681234, 12)
    assert visit.services_needed == ["technique_training", "other"]
    assert visit.services_other == "电商开店指导"
    assert (visit.risk_level.value, visit.risk_reason) == ("yellow", "yellow: market_collapse")
    assert len(visit.content_hash) == 64 and visit.amends_id is None
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    # The next page tells draft.js to forget the draft of this form.
    assert (
        f'<meta name="portal-draft-clear" content="visit-new-borrower-{world.own_borrower.id}">'
        in detail
    )
    assert visit.content_hash in detail
    assert "黄色：产品市场价格暴跌" in detail
    png = client.get(f"/visits/{visit.id}/signature.png")
    assert png.mimetype == "image/png"
    assert Image.open(BytesIO(png.data)).format == "PNG"
    with app.app_context():
        audited = db.session.scalars(
            sa.select(AuditEntry.action).where(
                AuditEntry.object_type == "Visit", AuditEntry.object_id == str(visit.id)
            )
        ).all()
    assert audited == ["visit.sign"]


def test_the_visit_time_is_read_in_the_company_time_zone(client, world, app, visit_form):
    when = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    client.login("officer")
    client.submit(_new_url(world), visit_form(visited_at=local_input(when)))
    assert only_visit(app).visited_at == when


# Every row of the level table (docs/risk.md), entered on the form: level and reason stored.
FORM_RISK_CASES = [
    ("red-critical+major", {"risk_signals": ["repayment_overdue", "business_suspended"]}, "red: repayment_overdue + business_suspended"),
    ("orange-one-major", {"risk_signals": ["new_large_debts"]}, "orange: new_large_debts"),
    ("orange-two-minor", {"risk_signals": ["family_illness", "natural_disaster"]}, "orange: family_illness + natural_disaster"),
    ("yellow-one-minor", {"risk_signals": ["market_collapse"]}, "yellow: market_collapse"),
    ("green-none", {}, "green: none"),
    # Signals implied by the answers count although nothing was ticked.
    ("implied-overdue+suspended", {"repayment_status": "overdue", "business_state": "suspended"}, "red: repayment_overdue + business_suspended"),
    ("implied-overdue-alone", {"repayment_status": "overdue"}, "orange: repayment_overdue"),
    ("implied-partly-diverted+ticked-debts", {"funds_use": "partly_diverted", "risk_signals": ["new_large_debts"]}, "red: funds_diverted + new_large_debts"),
    ("implied-diverted+ticked-same", {"funds_use": "diverted", "risk_signals": ["funds_diverted"]}, "orange: funds_diverted"),
    ("implied-guarantor", {"guarantor_status": "problem"}, "yellow: guarantor_problem"),
    ("implied-guarantor+illness", {"guarantor_status": "problem", "risk_signals": ["family_illness"]}, "orange: family_illness + guarantor_problem"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "reason"),
    [(answers, reason) for _, answers, reason in FORM_RISK_CASES],
    ids=[name for name, _, _ in FORM_RISK_CASES],
)
def test_the_form_stores_the_assessed_level_and_reason(
    client, world, app, visit_form, answers, reason
):
    client.login("officer")
    assert client.submit(_new_url(world), visit_form(**answers)).status_code == 302
    visit = only_visit(app)
    assert visit.risk_reason == reason
    assert visit.risk_level.value == reason.split(":")[0]
    assert visit.risk_signals == (
        [] if reason.endswith("none") else reason.split(": ")[1].split(" + ")
    )
    with app.app_context():
        warnings = db.session.scalar(sa.select(sa.func.count(VisitWarning.id)))
    assert warnings == (1 if visit.risk_level.value == "red" else 0)


def test_reason_text_on_the_detail_page_in_both_languages(client, world, app, visit_form):
    client.login("officer")
    url = client.submit(
        _new_url(world), visit_form(repayment_status="overdue", business_state="suspended")
    ).headers["Location"]
    assert "红色：还款逾期 + 经营停顿或关闭" in client.get(url).get_data(as_text=True)
    english(client)
    assert "Red: Repayment overdue + Business suspended or closed" in client.get(url).get_data(
        as_text=True
    )


def test_a_double_submit_creates_one_record(client, world, app, visit_form):
    client.login("officer")
    data = visit_form()
    first = client.submit(_new_url(world), data)
    second = client.submit(_new_url(world), data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count_visits(app) == 1
    assert "已经保存" in client.get(second.headers["Location"]).get_data(as_text=True)


def test_a_fresh_form_gets_a_fresh_token(client, world, visit_form):
    client.login("officer")
    page = client.get(_new_url(world)).get_data(as_text=True)
    other = client.get(_new_url(world)).get_data(as_text=True)
    token = page.split('name="idempotency_token" type="hidden" value="')[1].split('"')[0]
    assert len(token) >= 16 and token not in other


def test_the_form_refuses_a_borrower_without_an_active_loan(client, world, app, visit_form):
    with app.app_context():
        db.session.execute(
            sa.update(Loan).where(Loan.id == world.own_loan.id).values(status=LoanStatus.CLOSED)
        )
        db.session.commit()
    client.login("officer")
    english(client)
    response = client.get(_new_url(world), follow_redirects=True)
    assert "has no active loan: a follow-up visit needs one." in response.get_data(as_text=True)
    assert client.submit(_new_url(world), visit_form(), page="/account").status_code == 302
    assert count_visits(app) == 0


def test_an_overdue_loan_presets_the_repayment_answer(client, world, app):
    with app.app_context():
        loan = db.session.get(Loan, world.own_loan.id)
        loan.repayment_status = RepaymentStatus.OVERDUE
        db.session.commit()
    client.login("officer")
    page = client.get(_new_url(world)).get_data(as_text=True)
    checked = re.findall(r'<input checked [^>]*name="repayment_status"[^>]*value="(\w+)"', page)
    assert checked == ["overdue"]


def _png_with(size=(700, 300), ink=True, mode="RGBA") -> str:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    if ink:
        image.paste((0, 0, 0, 255) if mode == "RGBA" else "black", (50, 100, 400, 110))
    out = BytesIO()
    image.save(out, format="PNG")
    return data_url(out.getvalue())


# Each field with bad input: the English and the Chinese message next to it.
BAD_INPUT = [
    ("visited_at", "", "Enter the date and time of the visit.", "请填写走访日期和时间。"),
    ("visited_at", "05/11/2026", "Enter the date and time of the visit, e.g. 2026-11-05 14:30.", "请按格式填写走访日期和时间，例如 2026-11-05 14:30。"),
    ("visited_at", "future", "The visit time is in the future.", "走访时间不能晚于现在。"),
    ("visited_at", "too_old", "A visit can be recorded at most 7 days after it took place.", "走访须在发生后 7 天内录入。"),
    ("place", "   ", "Enter where the visit took place.", "请填写走访地点。"),
    ("place", "村" * 201, "Keep this under 200 characters.", "请控制在 200 个字符以内。"),
    ("latitude", "north", "The recorded location is not valid. Record it again.", "记录的位置无效，请重新定位。"),
    ("longitude", "190", "The recorded location is not valid. Record it again.", "记录的位置无效，请重新定位。"),
    ("accuracy", "-3", "The recorded location is not valid. Record it again.", "记录的位置无效，请重新定位。"),
    ("business_state", None, "Choose the state of the business.", "请选择经营状况。"),
    ("business_state", "bankrupt", "Choose the state of the business.", "请选择经营状况。"),
    ("revenue_trend", None, "Choose how revenue is developing.", "请选择营业收入变化趋势。"),
    ("funds_use", "gambling", "Choose how the loan funds were used.", "请选择贷款资金的使用情况。"),
    ("repayment_status", None, "Choose the repayment status.", "请选择还款情况。"),
    ("guarantor_status", "x", "Choose the guarantor's status.", "请选择担保人情况。"),
    ("collateral_status", None, "Choose the collateral's status.", "请选择抵押物情况。"),
    ("household_changes", "字" * 2001, "Keep this under 2000 characters.", "请控制在 2000 个字符以内。"),
    ("risk_signals", ["repayment_overdue", "aliens"], "Tick only risk signals from the list.", "只能勾选列表中的风险信号。"),
    ("officer_observations", " ", "Write down what you observed on the visit.", "请填写信贷员的观察情况。"),
    ("borrower_opinions", "意" * 4001, "Keep this under 4000 characters.", "请控制在 4000 个字符以内。"),
    ("services_needed", ["massage"], "Tick only services from the list.", "只能勾选列表中的服务。"),
    ("services_other", "", "Describe the other service the borrower needs.", "请说明借款人需要的其他服务。"),
    ("satisfaction", "6", "Ask the borrower for a satisfaction rating from 1 to 5.", "请借款人给出 1 到 5 的满意度评分。"),
    ("satisfaction", None, "Ask the borrower for a satisfaction rating from 1 to 5.", "请借款人给出 1 到 5 的满意度评分。"),
    ("signature", "", "The borrower has not signed.", "借款人尚未签名"),
    ("signature", "data:image/jpeg;base64,/9j/4AAQ", "The signature could not be read.", "无法读取签名"),
    ("signature", "data:image/png;base64,!!!notbase64", "The signature could not be read.", "无法读取签名"),
    ("signature", data_url(b"GIF89a" + b"\0" * 64), "The signature could not be read.", "无法读取签名"),
    ("signature", data_url(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "The signature could not be read.", "无法读取签名"),
    ("signature", _png_with(ink=False), "The signature box is empty.", "签名框是空的"),
    ("signature", _png_with(mode="RGB", ink=False), "The signature box is empty.", "签名框是空的"),
    ("signature", _png_with(size=(5000, 300)), "The signature image is too large.", "签名图片过大"),
    ("signature", "data:image/png;base64," + "A" * 800_000, "The signature image is too large.", "签名图片过大"),
    ("idempotency_token", "short", "This form is out of date. Reload the page and try again.", "此表单已过期，请刷新页面后重试。"),
]  # fmt: skip


def _bad_value(value):
    if value == "future":
        return local_input(utcnow() + timedelta(hours=2))
    if value == "too_old":
        return local_input(utcnow() - timedelta(days=8))
    return value


@pytest.mark.parametrize(
    ("field", "value", "english_message", "chinese_message"),
    BAD_INPUT,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(BAD_INPUT)],
)
def test_bad_input_is_refused_with_a_clear_message(
    client, world, app, visit_form, field, value, english_message, chinese_message
):
    extra = {"services_needed": ["other"]} if field == "services_other" else {}
    data = visit_form(**extra, **{field: _bad_value(value)})
    if value is None:
        data.pop(field, None)
    client.login("officer")
    chinese = client.submit(_new_url(world), data)
    assert chinese.status_code == 200
    assert chinese_message in chinese.get_data(as_text=True)
    english(client)
    page = html.unescape(client.submit(_new_url(world), data).get_data(as_text=True))
    assert english_message in page
    assert "Please correct the marked fields." in page
    if field not in ("place", "officer_observations", "signature", "idempotency_token"):
        assert "猪舍干净，存栏约120头。" in page  # what was typed is kept
    assert count_visits(app) == 0


def test_without_javascript_the_form_posts_and_asks_for_the_signature(
    client, world, app, visit_form
):
    client.login("officer")
    english(client)
    page = client.get(_new_url(world)).get_data(as_text=True)
    assert "Signing needs JavaScript." in page  # the <noscript> note
    response = client.submit(_new_url(world), visit_form(signature=""))
    assert "The borrower has not signed. Ask the borrower to sign in the box" in response.get_data(
        as_text=True
    )
    assert count_visits(app) == 0


def test_a_stored_signature_is_a_clean_png(client, world, app, visit_form):
    with_text = Image.new("RGBA", (700, 300), (0, 0, 0, 0))
    with_text.paste((0, 0, 0, 255), (50, 100, 400, 110))
    out = BytesIO()
    with_text.save(out, format="PNG", pnginfo=_png_info())
    client.login("officer")
    client.submit(_new_url(world), visit_form(signature=data_url(out.getvalue())))
    with app.app_context():
        stored = db.session.scalars(sa.select(VisitSignature)).one().png
    assert stored.startswith(b"\x89PNG") and b"evil" not in stored


def _png_info():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<script>evil</script>")
    return info


def test_a_head_may_record_a_visit_of_the_branch(client, world, app, visit_form):
    client.login("head")
    assert client.submit(_new_url(world), visit_form()).status_code == 302
    assert only_visit(app).officer_id == world.head.id


def test_the_form_never_follows_another_borrowers_loan(client, world, app, visit_form):
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        second = make_borrower(officer)
        make_loan(second, LoanStatus.ACTIVE)
        db.session.commit()
        second_id = second.id
    client.login("officer")
    client.submit(f"/borrowers/{second_id}/visits/new", visit_form(loan_id=world.foreign_loan.id))
    visit = only_visit(app)
    with app.app_context():
        assert db.session.get(Loan, visit.loan_id).borrower_id == second_id
        assert db.session.get(Borrower, second_id).officer_id == world.officer.id


def test_signing_announces_the_visit_for_the_services(client, world, app, visit_form):
    received = []

    def listener(visit, **extra):
        received.append((visit.id, list(visit.services_needed)))

    visit_signed.connect(listener)
    try:
        client.login("officer")
        client.submit(_new_url(world), visit_form(services_needed=["legal_services"]))
    finally:
        visit_signed.disconnect(listener)
    assert received == [(only_visit(app).id, ["legal_services"])]


def test_a_refusal_by_the_operation_is_shown_on_the_form(
    client, world, app, visit_form, monkeypatch
):
    # Whatever the form lets through, the operation checks the time again.
    monkeypatch.setattr("portal.visits.forms.check_visit_time", lambda *args, **kwargs: None)
    client.login("officer")
    english(client)
    page = client.submit(
        _new_url(world), visit_form(visited_at=local_input(utcnow() + timedelta(hours=3)))
    ).text
    assert "The visit time is in the future." in page
    assert count_visits(app) == 0
