"""The registry of approved templates refuses what a provider may not send."""

import copy
import json
from datetime import date

import pytest
import sqlalchemy as sa

from portal.branches.models import Branch
from portal.care import sms_templates
from portal.care.models import OutboxStatus
from portal.care.sending import send_due
from portal.care.sms_templates import RegistryError, parse
from portal.extensions import db
from tests.care.helpers import add_borrower, outbox
from tests.care.provider_server import REGISTRY


def _refused(data) -> str:
    with pytest.raises(RegistryError) as refusal:
        parse(data)
    return str(refusal.value)


def _with(provider: str, key: str, **changes) -> dict:
    data = copy.deepcopy(REGISTRY)
    data[provider][key] |= changes
    return data


def test_the_tests_registry_is_accepted_and_found_by_message():
    registry = parse(REGISTRY)
    assert registry.template("aliyun", "birthday").code == "SMS_480000001"
    assert registry.template("tencent", "password_reset").kind == "notice"
    # Greetings without their own template (holidays, the admin's occasions) take the
    # holiday one; any other message never does.
    assert registry.template("aliyun", "mid_autumn", greeting=True).code == "SMS_480000002"
    assert registry.template("tencent", "tea_harvest", greeting=True).code == "2000002"
    assert registry.template("aliyun", "service_accepted") is None
    assert registry.template("aliyun", "password-reset") is None


def test_a_feature_declares_what_it_texts():
    kind = sms_templates.MessageKind("deadline_reminder", ("name", "date"), notice_only=True)
    data = {"tencent": {"deadline_reminder": {
        "template": "2000009", "kind": "promotion", "variables": ["name", "date"],
        "text": "{1}您好，{2}到期。拒收请回复R"}}}  # fmt: skip
    assert "no value date" in _refused(data)  # unknown: taken for an occasion, a greeting
    sms_templates.declare(kind)
    try:
        assert "may only be sent as a notice" in _refused(data)
        data["tencent"]["deadline_reminder"]["kind"] = "notice"
        assert parse(data).template("tencent", "deadline_reminder").code == "2000009"
    finally:
        del sms_templates.MESSAGE_KINDS["deadline_reminder"]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_promotion_must_end_with_the_opt_out_line(provider):
    text = REGISTRY[provider]["birthday"]["text"].replace("拒收请回复R", "")
    message = _refused(_with(provider, "birthday", text=text))
    assert f"{provider}/birthday: a promotion must end with the opt-out line 拒收请回复R" in message
    moved = "拒收请回复R" + text
    assert "opt-out line" in _refused(_with(provider, "birthday", text=moved))


@pytest.mark.parametrize(
    ("wording", "term"),
    [
        ("，办理贷款请找我们", "贷"),
        ("，我们的小额信贷", "贷"),
        ("，新客户利率优惠", "利率"),
        ("，最高额度20万", "额度"),
        ("，支持分期", "分期"),
        ("，Apply for a LOAN", "loan"),
    ],
)
def test_a_promotion_must_not_carry_lending_content(wording, term):
    text = REGISTRY["aliyun"]["birthday"]["text"].replace("拒收请回复R", wording + "拒收请回复R")
    message = _refused(_with("aliyun", "birthday", text=text))
    assert "aliyun/birthday: a promotion must not carry lending content" in message
    assert term in message


def test_the_same_wording_may_be_a_notice():
    text = "${name}您好，您的贷款本月15日到期。"
    data = _with("aliyun", "birthday", text=text, kind="notice", variables={"name": "name"})
    assert parse(data).template("aliyun", "birthday").kind == "notice"


def test_a_password_code_is_never_a_promotion():
    data = _with("tencent", "password_reset", kind="promotion",
                 text="您的新密码验证码为{1}，{2}分钟内有效。拒收请回复R")  # fmt: skip
    assert "tencent/password_reset: this message may only be sent as a notice" in _refused(data)


def test_variables_must_match_the_approved_wording():
    aliyun = _with("aliyun", "birthday", variables={"name": "name", "branch": "branch"})
    assert "do not match the wording's ['branch', 'name', 'officer']" in _refused(aliyun)
    tencent = _with("tencent", "birthday", variables=["name", "branch"])
    assert "2 variables do not match the wording's [1, 2, 3]" in _refused(tencent)
    wrong_shape = _with("tencent", "birthday", variables={"1": "name"})
    assert "variables must be a list" in _refused(wrong_shape)


def test_a_template_may_use_only_the_messages_values():
    data = _with("aliyun", "birthday", text="${name}您好！${mobile}拒收请回复R",
                 variables={"name": "name", "mobile": "mobile"})  # fmt: skip
    message = _refused(data)
    assert "aliyun/birthday: this message has no value mobile" in message
    code = _with("tencent", "password_reset", text="验证码{1}，{2}", variables=["code", "name"])
    assert "this message has no value name" in _refused(code)


def test_codes_kinds_providers_and_keys_are_checked():
    data = copy.deepcopy(REGISTRY)
    data["aliyun"]["birthday"]["template"] = "480000001"
    data["tencent"]["birthday"]["template"] = "SMS_1"
    data["aliyun"]["holiday"]["kind"] = "marketing"
    data["aliyun"]["Not A Key"] = data["aliyun"]["holiday"]
    data["huawei"] = {}
    message = _refused(data)
    assert "aliyun/birthday: template code '480000001' is not SMS_ and digits" in message
    assert "tencent/birthday: template code 'SMS_1' is not digits" in message
    assert "aliyun/holiday: kind must be 'notice' or 'promotion', not 'marketing'" in message
    assert "aliyun/Not A Key: not a message the portal sends" in message
    assert "huawei: unknown provider" in message
    assert _refused([]) == "SMS templates: the file must hold an object keyed by provider"


def test_the_file_is_read_and_refused_whole(tmp_path):
    path = tmp_path / "templates.json"
    with pytest.raises(RegistryError, match="SMS_TEMPLATES_FILE must name"):
        sms_templates.load("")
    with pytest.raises(RegistryError, match="No such file"):
        sms_templates.load(str(path))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="not JSON"):
        sms_templates.load(str(path))
    path.write_text(json.dumps(REGISTRY, ensure_ascii=False), encoding="utf-8")
    assert sms_templates.load(str(path)).template("aliyun", "birthday")


def test_a_refused_registry_stops_the_job_before_anything_is_queued(
    app, cast, provider, monkeypatch, tmp_path
):
    name = provider.provider
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_with(name, "holiday", text="节日快乐"), ensure_ascii=False))
    monkeypatch.setitem(app.config, "SMS_TEMPLATES_FILE", str(path))
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    result = app.test_cli_runner().invoke(args=["care", "send-due", "--date", "2026-03-20"])
    assert result.exit_code != 0
    assert f"{name}/holiday: a promotion must end with the opt-out line" in result.output
    assert outbox(app) == [] and provider.sends() == []


def test_the_command_checks_the_registry(app, provider, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["care", "sms-templates"])
    assert result.exit_code == 0, result.output
    assert "aliyun  birthday  SMS_480000001  promotion  [name=name, branch=branch" in result.output
    assert "tencent  holiday  2000002  promotion  [1=name, 2=occasion, 3=branch]" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_with("tencent", "password_reset", kind="promotion")))
    result = runner.invoke(args=["care", "sms-templates", str(bad)])
    assert result.exit_code != 0 and "may only be sent as a notice" in result.output


def test_lending_content_in_a_value_refuses_the_promotion_at_sending(app, cast, provider):
    with app.app_context():
        db.session.execute(
            sa.update(Branch).where(Branch.id == cast.branch.id).values(name="众兴小贷泗阳网点")
        )
        db.session.commit()
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    with app.app_context():
        report = send_due(date(2026, 3, 20))
    (row,) = outbox(app)
    assert (report.sent, report.failed) == (0, 1)
    assert (row.status, row.next_attempt_at) == (OutboxStatus.FAILED, None)
    code = "SMS_480000001" if provider.provider == "aliyun" else "2000001"
    assert row.last_error == (
        f"promotion template {code} (birthday) refused: its branch carries lending content (贷)"
    )
    assert provider.sends() == []  # nothing reached the provider


def test_a_message_without_its_template_fails_with_the_reason(app, cast, provider, tmp_path):
    data = copy.deepcopy(REGISTRY)
    for entries in data.values():
        entries.pop("birthday")
        entries.pop("holiday")
    path = tmp_path / "only-codes.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    app.config["SMS_TEMPLATES_FILE"] = str(path)
    add_borrower(app, cast, birth_date=date(1980, 3, 20))
    with app.app_context():
        send_due(date(2026, 3, 20))
    (row,) = outbox(app)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error == (
        f"no approved {provider.provider} template for 'birthday' in the registry"
    )
    assert provider.sends() == []
