"""Greetings through Alibaba Cloud SMS and Tencent Cloud SMS, by their real SDKs.

Each test runs once per provider against tests/care/provider_server.py, a loopback
server answering as the provider's API does: accepted, throttled, the template refused,
the connection dropped, and the delivery receipts, pushed or asked for.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.care.models import OutboxMessage, OutboxStatus
from portal.care.sending import deliver_due, query_statuses, send_due
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobKind
from portal.jobs.tasks import run_periodic, sms_delivery_status
from tests.care.helpers import add_borrower, outbox
from tests.care.provider_server import RECEIPT_TOKEN, SIGN_NAME

DAY = date(2026, 3, 20)  # no holiday


def _greet(app, cast) -> int:
    """A borrower whose birthday is DAY, greeted through the provider; their id."""
    borrower_id = add_borrower(app, cast, birth_date=date(1980, 3, 20))
    with app.app_context():
        send_due(DAY)
    return borrower_id


def _borrower(app, borrower_id) -> dict:
    with app.app_context():
        row = db.session.get(Borrower, borrower_id)
        return {"name": row.full_name, "branch": row.branch.name,
                "officer": row.officer.display_name, "mobile": row.mobile}  # fmt: skip


def test_an_accepted_greeting_is_the_approved_template_filled_in(app, cast, provider):
    borrower = _borrower(app, _greet(app, cast))
    (request,) = provider.sends()
    params = request["params"]
    if provider.provider == "aliyun":
        assert request["headers"]["authorization"].startswith(
            "ACS3-HMAC-SHA256 Credential=test-access-key-id,"
        )
        assert params["PhoneNumbers"] == borrower["mobile"]
        assert (params["SignName"], params["TemplateCode"]) == (SIGN_NAME, "SMS_480000001")
        assert json.loads(params["TemplateParam"]) == {
            key: borrower[key] for key in ("name", "branch", "officer")
        }
        assert params["OutId"].startswith("greeting-")
    else:
        assert request["headers"]["authorization"].startswith(
            "TC3-HMAC-SHA256 Credential=test-secret-id/"
        )
        assert params["PhoneNumberSet"] == [f"+86{borrower['mobile']}"]
        assert (params["SignName"], params["TemplateId"]) == (SIGN_NAME, "2000001")
        assert params["SmsSdkAppId"] == "1400006666"
        assert params["TemplateParamSet"] == [borrower[k] for k in ("name", "branch", "officer")]
    (row,) = outbox(app)
    assert (row.status, row.attempts, row.gateway) == (OutboxStatus.SENT, 1, provider.provider)
    assert row.provider_ref and row.mobile == borrower["mobile"]
    assert row.provider_code in ("OK", "Ok") and row.last_error == ""
    # The portal's own wording stays the record on the outbox page.
    assert "生日快乐" in row.body


def test_an_admins_occasion_takes_the_holiday_template(app, cast, provider):
    with app.app_context():
        from portal.care.models import Occasion

        db.session.add(Occasion(code="tea_harvest", calendar="gregorian", month=3, day=20,
                                name_zh="采茶节", name_en="Tea Harvest"))  # fmt: skip
        db.session.commit()
        send_due(DAY)
    sends = provider.sends()
    assert len(sends) == 2  # the World's two borrowers
    for request in sends:
        if provider.provider == "aliyun":
            assert request["params"]["TemplateCode"] == "SMS_480000002"
            assert json.loads(request["params"]["TemplateParam"])["festival"] == "采茶节"
        else:
            assert request["params"]["TemplateId"] == "2000002"
            assert request["params"]["TemplateParamSet"][1] == "采茶节"


def test_throttled_is_retried_by_the_retry_job_after_the_back_off(app, cast, provider):
    provider.plan("throttled")
    _greet(app, cast)
    (row,) = outbox(app)
    code = "isv.BUSINESS_LIMIT_CONTROL" if provider.provider == "aliyun" else (
        "LimitExceeded.PhoneNumberDailyLimit"
    )  # fmt: skip
    assert (row.status, row.attempts, row.provider_code) == (OutboxStatus.RETRYING, 1, code)
    assert row.last_error.startswith(f"throttled by {provider.provider} ({code})")
    assert row.next_attempt_at > utcnow()
    with app.app_context():
        assert deliver_due().sent == 0  # not before the back-off has passed
        report = deliver_due(now=row.next_attempt_at + timedelta(seconds=1))
    (row,) = outbox(app)
    assert report.sent == 1 and row.status == OutboxStatus.SENT and row.attempts == 2
    assert len(provider.sends()) == 2


@pytest.mark.parametrize("provider", ["aliyun"], indirect=True)
def test_api_flow_control_counts_as_throttled(app, cast, provider):
    provider.plan("api-throttled")
    _greet(app, cast)
    (row,) = outbox(app)
    assert row.status == OutboxStatus.RETRYING
    assert row.last_error.startswith("throttled by aliyun (Throttling.User)")


def test_a_refused_template_fails_at_once_with_the_providers_reason(app, cast, provider):
    provider.plan("rejected")
    _greet(app, cast)
    (row,) = outbox(app)
    if provider.provider == "aliyun":
        code, reason = "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"
    else:
        code, reason = "FailedOperation.TemplateIncorrectOrUnapproved", "template is not approved"
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.FAILED, 1, None)
    assert row.provider_code == code
    assert row.last_error.startswith(f"refused by {provider.provider} ({code}): {reason}")
    with app.app_context():
        assert deliver_due(now=utcnow() + timedelta(days=2)).sent == 0
    assert len(provider.sends()) == 1  # never tried again


def test_a_network_error_is_retried(app, cast, provider):
    provider.plan("drop")
    _greet(app, cast)
    (row,) = outbox(app)
    assert (row.status, row.attempts) == (OutboxStatus.RETRYING, 1)
    assert row.last_error.startswith(f"network error talking to {provider.provider}: ")
    assert row.provider_code == "network"
    with app.app_context():
        assert deliver_due(now=row.next_attempt_at + timedelta(seconds=1)).sent == 1
    assert outbox(app)[0].status == OutboxStatus.SENT


@pytest.mark.parametrize("provider", ["tencent"], indirect=True)
def test_credentials_refused_are_retried_not_failed(app, cast, provider):
    provider.plan("auth-failure")
    _greet(app, cast)
    (row,) = outbox(app)
    assert row.status == OutboxStatus.RETRYING
    assert row.last_error.startswith("tencent error (AuthFailure.SignatureFailure)")


# Delivery receipts, pushed by the provider.


def _receipt(provider, reference, delivered=True, code=None):
    if provider == "aliyun":
        return {
            "phone_number": "13800000000",
            "send_time": "2026-11-26 10:00:01",
            "report_time": "2026-11-26 10:00:09",
            "success": delivered,
            "err_code": code or ("DELIVERED" if delivered else "MK:0001"),
            "err_msg": "用户接收成功" if delivered else "用户关机",
            "sms_size": "1",
            "biz_id": reference,
            "out_id": "greeting-1-birthday-2026",
        }
    return {
        "user_receive_time": "2026-11-26 10:00:09",
        "nationcode": "86",
        "mobile": "13800000000",
        "report_status": "SUCCESS" if delivered else "FAIL",
        "errmsg": code or ("DELIVRD" if delivered else "MK:0001"),
        "description": "用户短信送达成功" if delivered else "用户关机",
        "sid": reference,
    }


def _push(client, provider, receipts, token=RECEIPT_TOKEN):
    return client.post(f"/care/sms/receipts/{provider}/{token}", json=receipts)


def _two_sent(app, cast, provider) -> list[OutboxMessage]:
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    add_borrower(app, cast, birth_date=date(1981, 3, 20))
    with app.app_context():
        send_due(DAY)
    rows = outbox(app)
    assert [row.status for row in rows] == [OutboxStatus.SENT] * 2
    return rows


def test_pushed_receipts_mark_greetings_delivered_or_failed(app, client, cast, provider):
    name = provider.provider
    first, second = _two_sent(app, cast, provider)
    response = _push(client, name, [_receipt(name, first.provider_ref),
                                    _receipt(name, second.provider_ref, delivered=False)])  # fmt: skip
    assert response.status_code == 200
    expected = {"code": 0, "msg": "接收成功"} if name == "aliyun" else {"result": 0, "errmsg": "OK"}
    assert response.get_json() == expected
    delivered, failed = outbox(app)
    assert delivered.status == OutboxStatus.DELIVERED
    assert delivered.provider_code == ("DELIVERED" if name == "aliyun" else "DELIVRD")
    # 10:00:09 China time
    assert delivered.delivered_at == datetime(2026, 11, 26, 2, 0, 9, tzinfo=UTC)
    assert (failed.status, failed.provider_code) == (OutboxStatus.FAILED, "MK:0001")
    assert failed.last_error == "not delivered (MK:0001) 用户关机"
    assert failed.resendable

    # A receipt pushed again, and one for a message the outbox does not hold, change nothing.
    again = _push(client, name, [_receipt(name, first.provider_ref, delivered=False),
                                 _receipt(name, "unknown-reference")])  # fmt: skip
    assert again.status_code == 200
    assert [row.status for row in outbox(app)] == [OutboxStatus.DELIVERED, OutboxStatus.FAILED]
    with app.app_context():
        from portal.audit.models import AuditEntry

        (entry,) = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "care.sms_receipts")
        ).all()
        assert entry.summary == f"{name}: 1 delivered, 1 failed, 0 unchanged"


def test_a_receipt_needs_the_token_in_the_address(app, client, cast, provider):
    name = provider.provider
    first, _ = _two_sent(app, cast, provider)
    for token in ("wrong-token-0123456789", RECEIPT_TOKEN[:-1], RECEIPT_TOKEN + "x"):
        assert _push(client, name, [_receipt(name, first.provider_ref)], token).status_code == 404
    assert client.post(f"/care/sms/receipts/pigeon/{RECEIPT_TOKEN}", json=[]).status_code == 404
    app.config["SMS_RECEIPT_TOKEN"] = ""  # receipts not set up: no token opens the door
    assert _push(client, name, [_receipt(name, first.provider_ref)], "").status_code == 404
    assert [row.status for row in outbox(app)] == [OutboxStatus.SENT] * 2


@pytest.mark.parametrize(
    "body",
    [{"biz_id": "1"}, [1, 2], [{"success": True}], [{"sid": "1", "report_status": "MAYBE"}]],
)
def test_a_push_that_is_not_receipts_is_refused_with_the_providers_answer(
    app, client, provider, body
):
    response = _push(client, provider.provider, body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer.get("code", answer.get("result")) == 1
    assert "receipt" in answer.get("msg", answer.get("errmsg"))
    not_json = client.post(
        f"/care/sms/receipts/{provider.provider}/{RECEIPT_TOKEN}",
        data="<xml/>",
        content_type="application/json",
    )
    assert not_json.status_code == 400


def test_receipts_are_rate_limited(app, client, provider, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_RATE_LIMIT", "3 per minute")
    answers = [_push(client, provider.provider, []).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# Delivery status asked for by the periodic job.


def test_the_status_job_asks_about_greetings_without_a_receipt(app, cast, provider):
    name = provider.provider
    _two_sent(app, cast, provider)
    third = add_borrower(app, cast, birth_date=date(1982, 3, 20))
    with app.app_context():
        send_due(DAY)
    rows = outbox(app)
    moment = datetime(2026, 3, 20, 2, 0, 9, tzinfo=UTC)  # 10:00:09 China time
    received = "2026-03-20 10:00:09" if name == "aliyun" else int(moment.timestamp())
    provider.statuses = {
        rows[0].provider_ref: ("delivered", "DELIVERED" if name == "aliyun" else "DELIVRD",
                               received),
        rows[1].provider_ref: ("failed", "MK:0005", received),
        rows[2].provider_ref: ("waiting", "", ""),
    }  # fmt: skip
    later = max(row.sent_at for row in rows) + timedelta(minutes=11)
    with app.app_context():
        assert query_statuses(now=utcnow() - timedelta(minutes=30)).asked == 0  # too soon
        report = query_statuses(now=later)
    assert (report.asked, report.delivered, report.failed, report.waiting) == (3, 1, 1, 1)
    delivered, failed, waiting = outbox(app)
    assert delivered.status == OutboxStatus.DELIVERED
    assert delivered.delivered_at == moment
    assert (failed.status, failed.provider_code) == (OutboxStatus.FAILED, "MK:0005")
    assert waiting.status == OutboxStatus.SENT and waiting.borrower_id == third
    queries = [r for r in provider.requests if r["action"] != "SendSms"]
    if name == "aliyun":
        assert {q["params"]["BizId"] for q in queries} == {row.provider_ref for row in rows}
        assert {q["params"]["SendDate"] for q in queries} == {
            f"{row.sent_at.astimezone(UTC) + timedelta(hours=8):%Y%m%d}" for row in rows
        }
    else:
        assert {q["params"]["PhoneNumber"] for q in queries} == {f"+86{r.mobile}" for r in rows}
    # Asked again later, only the one still waiting is asked about.
    with app.app_context():
        assert query_statuses(now=later).asked == 1


def test_the_status_job_runs_in_its_slot_and_only_for_a_provider(app, cast, provider):
    _two_sent(app, cast, provider)
    with app.app_context():
        job = run_periodic(JobKind.CARE_SMS_STATUS, "care_sms_status@2026-03-20T10:00")
        assert run_periodic(JobKind.CARE_SMS_STATUS, "care_sms_status@2026-03-20T10:00") is None
        job = db.session.get(Job, job.id)
        assert job.summary.startswith("SMS delivery status: 0 asked")  # sent just now
        app.config["CARE_GATEWAY"] = "log"
        sms_delivery_status()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_the_outbox_page_shows_delivered(app, client, cast, provider):
    first, _ = _two_sent(app, cast, provider)
    _push(client, provider.provider, [_receipt(provider.provider, first.provider_ref)])
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(due_on=local_today()))
        db.session.commit()
    client.login("head")
    client.submit("/account", {"locale": "en"})
    page = client.get("/care/outbox").get_data(as_text=True)
    assert "Delivered" in page and "Sent" in page


# The password code, texted through the provider's notice template.


def test_a_password_code_goes_out_as_the_notice_template(app, client, world, provider):
    with app.app_context():
        mobile = db.session.get(Borrower, world.own_borrower.id).mobile
    client.login("officer")
    client.submit(f"/borrowers/{world.own_borrower.id}/activation-code")
    (request,) = provider.sends()
    params = request["params"]
    if provider.provider == "aliyun":
        assert (params["TemplateCode"], params["PhoneNumbers"]) == ("SMS_480000003", mobile)
        values = json.loads(params["TemplateParam"])
        code, minutes = values["code"], values["minutes"]
        assert params["OutId"].startswith("password-reset-")
    else:
        assert (params["TemplateId"], params["PhoneNumberSet"]) == ("2000003", [f"+86{mobile}"])
        code, minutes = params["TemplateParamSet"]
    assert minutes == "60" and len(code) == 9 and code[4] == "-"
    # With the code from their phone, the borrower sets a new password.
    client.logout()
    response = client.submit(
        "/activate",
        {"mobile": mobile, "code": code, "new_password": "chosen-by-me-42",
         "confirm": "chosen-by-me-42"},
    )  # fmt: skip
    assert response.status_code == 302


def test_a_refused_password_code_tells_staff_it_did_not_go(app, client, world, provider):
    provider.plan("rejected")
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    page = client.submit(
        f"/borrowers/{world.own_borrower.id}/activation-code", follow_redirects=True
    ).get_data(as_text=True)
    assert "The code could not be sent" in page
