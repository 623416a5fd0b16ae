"""The lending system's push: POST /api/repayments with a key (docs/imports.md)."""

from datetime import date
from decimal import Decimal

from portal.extensions import db
from portal.imports import operations
from portal.imports.models import ImportToken
from tests.imports.helpers import loan_of, scheduled_loan, stored_state


def _key(app, world, branch: bool = False) -> str:
    with app.app_context():
        _token, secret = operations.create_token(
            "core lending", world.branch.id if branch else None
        )
        db.session.commit()
    return secret


def _push(client, secret, rows, **kwargs):
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    return client.post("/api/repayments", json=rows, headers=headers, **kwargs)


def _row(number, paid_on="2026-03-01", amount="1120.00", reference="R1", **more):
    return {
        "contract_number": number,
        "paid_on": paid_on,
        "amount": amount,
        "reference": reference,
        **more,
    }


def test_a_push_without_a_valid_key_is_refused(app, client, world):
    secret = _key(app, world)
    rows = [_row(scheduled_loan(app, world))]
    for headers in ({}, {"Authorization": "Bearer rpi_wrong"}, {"Authorization": secret}):
        response = client.post("/api/repayments", json=rows, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        operations.revoke_token(db.session.query(ImportToken).one())
        db.session.commit()
    assert _push(client, secret, rows).status_code == 401
    # A logged-in user is no key either.
    client.login("admin")
    assert client.post("/api/repayments", json=rows).status_code == 401
    assert stored_state(app)[0] == []


def test_a_push_with_problems_answers_each_row_and_writes_nothing(app, client, world):
    secret = _key(app, world, branch=True)
    good, foreign = scheduled_loan(app, world), scheduled_loan(app, world, foreign=True)
    before = stored_state(app)
    response = _push(
        client,
        secret,
        [
            _row(good, balance="11000.00"),
            _row(foreign, reference="R2"),
            _row(good, amount="abc", reference="R3"),
            _row(good, reference="R1"),
        ],
    )
    assert response.status_code == 422
    answer = response.get_json()
    assert (answer["applied"], answer["imported"], answer["problems"]) == (False, 0, 3)
    assert [
        (r["row"], r["status"], [p["code"] for p in r["problems"]]) for r in answer["rows"]
    ] == [
        (1, "ok", []),
        (2, "problem", ["other_branch"]),
        (3, "problem", ["bad_amount"]),
        (4, "problem", ["duplicate"]),
    ]
    assert answer["rows"][1]["problems"][0]["message"] == "The loan belongs to another branch."
    assert stored_state(app) == before


def test_a_push_applies_once_however_often_it_comes(app, client, world):
    secret = _key(app, world)
    number = scheduled_loan(app, world)
    rows = [_row(number), _row(number, "2026-04-01", 1110.0, "R2", balance="10000.00")]
    dry = _push(client, secret, rows, query_string={"dry_run": "1"})
    assert (dry.status_code, dry.get_json()["applied"]) == (200, False)
    assert stored_state(app)[0] == []
    response = _push(client, secret, rows)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["applied"], answer["imported"], answer["skipped"]) == (True, 2, 0)
    assert [r["balance"] for r in answer["rows"]] == ["11000.00", "10000.00"]
    loan = loan_of(app, number)
    assert [(r.paid_on, r.amount, r.recorded_by_id) for r in loan.repayments] == [
        (date(2026, 3, 1), Decimal("1120.00"), None),
        (date(2026, 4, 1), Decimal("1110.00"), None),
    ]
    after = stored_state(app)
    (summary,) = after[3]
    assert "channel=api" in summary and "core lending" in summary and number not in summary
    again = _push(client, secret, rows)
    assert again.status_code == 200
    assert (again.get_json()["imported"], again.get_json()["skipped"]) == (0, 2)
    assert [r["status"] for r in again.get_json()["rows"]] == ["skipped", "skipped"]
    assert stored_state(app) == after


def test_a_push_that_is_not_a_list_of_repayments_is_refused(app, client, world):
    secret = _key(app, world)
    for body in ({"amount": 1}, [], ["x"], [{}] * 5001):
        response = _push(client, secret, body)
        assert response.status_code == 400
        assert response.get_json()["applied"] is False
    response = client.post(
        "/api/repayments", data="not json", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400


def test_the_answer_speaks_chinese_unless_asked_for_english(app, client, world):
    secret = _key(app, world)
    for headers, words in (
        ({}, "合同编号不存在。"),
        ({"Accept-Language": "en"}, "Unknown contract number."),
    ):
        response = client.post(
            "/api/repayments",
            json=[_row("NOPE")],
            headers={"Authorization": f"Bearer {secret}", **headers},
        )
        assert response.status_code == 422
        assert response.get_json()["rows"][0]["problems"][0]["message"] == words
