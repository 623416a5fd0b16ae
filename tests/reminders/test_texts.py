"""Every text of a notice or reminder carries the values its kind declares for the
providers' approved templates, and the outbox page names its occasion."""

from datetime import date

import pytest
from flask_babel import force_locale

from portal.care.texts import OCCASION_LABELS, TEXT_KINDS, occasion_label
from portal.notices.sms import SMS_TEXTS, Reader, render
from portal.reminders import texts

PARAMS = {
    "service.accepted": {"kind": "other", "assignee": "王敏", "date": date(2099, 6, 1)},
    "service.scheduled": {
        "kind": "other",
        "title": "培训",
        "date": date(2099, 6, 1),
        "place": "站",
    },
    "service.declined": {"kind": "other", "reason": "名额已满"},
    "service.completed": {"kind": "other"},
    "complaint.resolved": {"subject": "放款太慢"},
    "event.invited": {"title": "对接会", "date": date(2099, 6, 1), "place": "站"},
    "session.tomorrow": {"kind": "other", "title": "培训", "date": date(2099, 6, 1), "place": "站"},
}
STAFF = {
    texts.MORNING: {"day": "2099-06-01", "month": "2099-06", "due": 3, "overdue": 1,
                    "days_left": 30},
    texts.WARNING_HEAD: {"visit_id": 1, "borrower": "张三", "officer": "李四", "branch": "泗阳",
                         "visited_on": "2099-05-30", "deadline": "2099-06-01",
                         "admin_day": "2099-06-05"},
}  # fmt: skip
STAFF[texts.WARNING_ADMIN] = STAFF[texts.WARNING_HEAD]
STAFF[texts.WARNINGS_HEAD] = STAFF[texts.WARNINGS_ADMIN] = {"count": 3}


def test_every_texted_occasion_is_declared_and_named():
    occasions = {event.replace(".", "_") for event in SMS_TEXTS} | {
        kind.replace(".", "_") for kind in texts.KINDS
    }
    assert occasions == set(TEXT_KINDS) == set(OCCASION_LABELS)
    assert occasion_label("no_such_thing") == "no_such_thing"


@pytest.mark.parametrize("event", sorted(SMS_TEXTS))
def test_a_borrowers_text_has_its_declared_values(app_ctx, event):
    person = Reader(1, 1, "张三", "13812345678", "zh", True, True)
    body, values = render(event, person, PARAMS[event])
    values["link"] = ""
    declared, _ = TEXT_KINDS[event.replace(".", "_")]
    assert set(declared) <= set(values)
    assert all(values[name] for name in declared if name != "link")
    assert "张三" in body


@pytest.mark.parametrize("kind", texts.KINDS)
def test_a_staff_text_has_its_declared_values(app_ctx, kind):
    with force_locale("zh"):
        values = texts.sms_values(kind, STAFF[kind], "王敏", "https://portal.example.cn/x")
    declared, notice_only = TEXT_KINDS[kind.replace(".", "_")]
    assert tuple(values) == declared and all(values.values())
    assert notice_only  # about loans: never a promotion
