"""Notices and reminders reach phones through an SMS provider's approved templates, as
greetings do: the template of their kind, filled from the values they carry."""

import copy
import json
import threading
from datetime import date

import pytest

from portal.accounts.models import User
from portal.care.models import OutboxStatus
from portal.care.sending import deliver_due
from portal.care.sms_templates import RegistryError, parse
from portal.extensions import db
from portal.networking.models import NetworkingEvent
from portal.networking.operations import invite
from portal.reminders.models import StaffSms
from portal.reminders.operations import morning_visits
from tests.care.helpers import outbox
from tests.care.provider_server import REGISTRY, ProviderServer, configure

# The company registered two more templates: an invitation (a notice) and the officers'
# morning reminder (a notice: it is about loans, never a promotion).
TEMPLATES = {
    "aliyun": {
        "event_invited": {
            "template": "SMS_480000010",
            "kind": "notice",
            "text": "${name}您好，诚邀您参加${title}，时间${date}，地点${place}，请回复是否参加。",
            "variables": {"name": "name", "title": "title", "date": "date", "place": "place"},
        },
        "visits_morning": {
            "template": "SMS_480000011",
            "kind": "notice",
            "text": "${name}：今日待访${due}户，上月逾期${overdue}户。",
            "variables": {"name": "name", "due": "due", "overdue": "overdue"},
        },
    },
    "tencent": {
        "event_invited": {
            "template": "2000010",
            "kind": "notice",
            "text": "{1}您好，诚邀您参加{2}，时间{3}，地点{4}，请回复是否参加。",
            "variables": ["name", "title", "date", "place"],
        },
        "visits_morning": {
            "template": "2000011",
            "kind": "notice",
            "text": "{1}：今日待访{2}户，上月逾期{3}户。",
            "variables": ["name", "due", "overdue"],
        },
    },
}


def _registry() -> dict:
    data = copy.deepcopy(REGISTRY)
    for provider, templates in TEMPLATES.items():
        data[provider] |= copy.deepcopy(templates)
    return data


def test_a_reminder_about_loans_may_not_be_registered_as_a_promotion():
    data = _registry()
    data["tencent"]["visits_morning"] |= {"kind": "promotion", "text": "{1}：{2}户{3}户拒收请回复R"}
    with pytest.raises(RegistryError, match="may only be sent as a notice"):
        parse(data)
    data = _registry()
    data["aliyun"]["event_invited"]["variables"]["title"] = "subject"  # not a value it has
    with pytest.raises(RegistryError, match="subject"):
        parse(data)


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request, app, monkeypatch, tmp_path):
    server = ProviderServer(request.param)
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    registry = tmp_path / "sms-templates.json"
    registry.write_text(json.dumps(_registry(), ensure_ascii=False), encoding="utf-8")
    configure(app, monkeypatch, request.param, server.url, registry)
    monkeypatch.setitem(app.config, "SMS_QUIET_HOURS", "")
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _params(provider, request) -> list[str] | dict:
    params = request["params"]
    if provider.provider == "aliyun":
        return params["TemplateCode"], json.loads(params["TemplateParam"])
    return params["TemplateId"], params["TemplateParamSet"]


def test_an_invitation_and_a_morning_reminder_go_out_as_their_templates(app, world, provider):
    with app.app_context():
        db.session.add(StaffSms(user_id=world.officer.id, mobile="13812345678", opted_in=True))
        event = NetworkingEvent(
            branch_id=world.branch.id, title="春季对接会", held_on=date(2099, 4, 18), place="农技站"
        )
        db.session.add(event)
        db.session.flush()
        invite(event, [world.own_borrower.id], db.session.get(User, world.head.id))
        morning_visits(date(2099, 4, 1))
        db.session.commit()
        report = deliver_due()
    assert report.sent == 2
    sent = [_params(provider, request) for request in provider.sends()]
    if provider.provider == "aliyun":
        assert sent[0] == (
            "SMS_480000010",
            {"name": world.own_borrower.name, "title": "春季对接会", "date": "2099-04-18",
             "place": "农技站"},
        )  # fmt: skip
        assert sent[1][0] == "SMS_480000011" and sent[1][1]["name"] == "officer"
    else:
        assert sent[0] == (
            "2000010",
            [world.own_borrower.name, "春季对接会", "2099-04-18", "农技站"],
        )
        assert sent[1][0] == "2000011" and sent[1][1][0] == "officer"
    assert [row.status for row in outbox(app)] == [OutboxStatus.SENT, OutboxStatus.SENT]
