"""The visit form's times and position status: captured online and offline, never trusted blindly.

The tablet's clock (opened_at, signed_at_device) is stored when it is sane, else unknown;
the server's opening time comes only from a token it signed for this user and this form.
"""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portal.database import utcnow
from portal.extensions import db
from portal.visits import capture
from portal.visits.models import Visit
from portal.visits.operations import verify
from tests.fieldkit.helpers import form_fields, make_entry, make_plan, post_entry, utc_text
from tests.visits.conftest import english, only_visit

TABLET = re.compile(r'<input type="hidden" name="(\w+)"[^>]*?value="([^"]*)"')


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in TABLET.findall(page)}


def _new_url(world) -> str:
    return f"/borrowers/{world.own_borrower.id}/visits/new"


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def test_the_online_form_carries_the_evidence_inputs_and_its_script(client, world):
    client.login("officer")
    page = client.get(_new_url(world)).get_data(as_text=True)
    hidden = _hidden(page)
    assert hidden["opened_at"] == "" and hidden["signed_at_device"] == ""
    assert hidden["location_status"] == "not_asked"
    assert len(hidden["opened_token"]) > 20
    assert 'data-status-input="visit-location-status"' in page
    assert 'name="place_note"' in page and 'data-testid="place-note"' in page
    # The times' script loads before draft.js, so a discarded draft returns to this opening.
    scripts = re.findall(r'src="/static/js/([\w.-]+?)\.[0-9a-f]{12}\.js"', page)
    assert scripts.index("visit-evidence") < scripts.index("draft")


def test_a_posted_form_stores_its_times_status_and_note(client, world, app, visit_form):
    client.login("officer")
    before = _whole(utcnow())
    token = _hidden(client.get(_new_url(world)).get_data(as_text=True))["opened_token"]
    after = utcnow()
    opened = _whole(utcnow() - timedelta(minutes=14))
    signed = _whole(utcnow() - timedelta(seconds=3))
    response = client.submit(
        _new_url(world),
        visit_form(
            opened_at=_z(opened),
            signed_at_device=signed.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            opened_token=token,
            location_status="denied",
            place_note="在集市上见面，借款人在摆摊。",
        ),
    )
    assert response.status_code == 302
    visit = only_visit(app)
    assert before <= visit.opened_at_server <= after
    assert visit.opened_at_server.microsecond == 0
    assert (visit.opened_at, visit.signed_at_device) == (opened, signed)
    assert visit.location_status == "denied"
    assert visit.place_note == "在集市上见面，借款人在摆摊。"
    assert before <= visit.received_at <= utcnow()
    with app.app_context():
        assert verify(db.session.get(Visit, visit.id))
    english(client)
    detail = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert 'data-testid="visit-times"' in detail
    assert "Not recorded: the tablet was refused the permission" in detail
    assert "在集市上见面" in detail


def _old_token(app, subject: str, age: timedelta) -> str:
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((utcnow() - age).timestamp())

    return URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="portal.visits.opened", signer=Then
    ).dumps(subject)


@pytest.mark.parametrize("kind", ["forged", "tampered", "other_form", "other_user", "expired"])
def test_a_token_not_issued_for_this_form_leaves_the_server_time_unknown(
    client, world, app, visit_form, kind
):
    client.login("officer")
    served = _hidden(client.get(_new_url(world)).get_data(as_text=True))["opened_token"]
    own = capture.opened_subject(world.officer.id, f"visit-new-borrower-{world.own_borrower.id}")
    tokens = {
        "forged": URLSafeTimedSerializer("not-the-secret", salt="portal.visits.opened").dumps(own),
        "tampered": served[:-2] + ("AA" if not served.endswith("AA") else "BB"),
        "other_form": _old_token(
            app, capture.opened_subject(world.officer.id, "visit-new-borrower-999"), timedelta()
        ),
        "other_user": _old_token(
            app,
            capture.opened_subject(world.head.id, f"visit-new-borrower-{world.own_borrower.id}"),
            timedelta(),
        ),
        "expired": _old_token(app, own, capture.OPENED_TOKEN_MAX_AGE + timedelta(minutes=1)),
    }
    response = client.submit(_new_url(world), visit_form(opened_token=tokens[kind]))
    assert response.status_code == 302  # never refused for it
    assert only_visit(app).opened_at_server is None


def test_a_token_a_little_younger_than_its_limit_still_counts(client, world, app, visit_form):
    client.login("officer")
    own = capture.opened_subject(world.officer.id, f"visit-new-borrower-{world.own_borrower.id}")
    age = capture.OPENED_TOKEN_MAX_AGE - timedelta(minutes=5)
    token = _old_token(app, own, age)
    assert client.submit(_new_url(world), visit_form(opened_token=token)).status_code == 302
    opened = only_visit(app).opened_at_server
    assert abs(opened - (utcnow() - age)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("yesterday", False),
        ("2019-03-01T08:00:00Z", False),  # years off: a reset tablet
        ("2026-11-26T10:00:00", False),  # no zone: says nothing certain
        ("", False),
        ("x" * 60, False),
        ("+300000-01-01T00:00:00Z", False),
        ("NOW", True),
        ("NOW_OFFSET", True),
        ("NOW_MINUS_20_DAYS", True),
    ],
)
def test_a_tablet_time_is_kept_only_when_sane(app, text, known):
    now = _whole(utcnow())
    texts = {
        "NOW": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "NOW_OFFSET": now.astimezone(capture_tz()).isoformat(),
        "NOW_MINUS_20_DAYS": _z(now - timedelta(days=20)),
    }
    moment = capture.device_time(texts.get(text, text))
    if not known:
        assert moment is None
        return
    assert moment.tzinfo is not None and moment.microsecond == 0
    assert moment.utcoffset() == timedelta(0)
    assert moment == (now - timedelta(days=20) if text == "NOW_MINUS_20_DAYS" else now)


def capture_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_unsane_tablet_times_are_stored_as_unknown_not_refused(client, world, app, visit_form):
    client.login("officer")
    response = client.submit(
        _new_url(world),
        visit_form(opened_at="2001-01-01T00:00:00Z", signed_at_device="not a time"),
    )
    assert response.status_code == 302
    visit = only_visit(app)
    assert visit.opened_at is None and visit.signed_at_device is None


@pytest.mark.parametrize(
    ("posted", "coordinates", "stored"),
    [
        ("not_asked", False, "not_asked"),
        ("timeout", False, "timeout"),
        ("unsupported", False, "unsupported"),
        ("fix", False, None),  # a fix with no position is not a fix
        ("denied", True, "fix"),  # the position posted is what counts
        (None, True, "fix"),
        (None, False, None),  # a form from before the status existed
        ("garbage-status", False, None),
    ],
)
def test_the_position_status_as_stored(client, world, app, visit_form, posted, coordinates, stored):
    client.login("officer")
    position = {"latitude": "33.720123", "longitude": "118.681234", "accuracy": "15"}
    data = visit_form(location_status=posted, **(position if coordinates else {}))
    assert client.submit(_new_url(world), data).status_code == 302
    assert only_visit(app).location_status == stored


def test_a_form_shown_again_keeps_its_first_opening(client, world, app, visit_form):
    client.login("officer")
    token = _hidden(client.get(_new_url(world)).get_data(as_text=True))["opened_token"]
    opened = _z(utcnow() - timedelta(minutes=30))
    refused = client.submit(
        _new_url(world),
        visit_form(opened_token=token, opened_at=opened, place=""),  # place is required
    )
    assert refused.status_code == 200
    hidden = _hidden(refused.get_data(as_text=True))
    assert (hidden["opened_token"], hidden["opened_at"]) == (token, opened)
    assert db_count(app) == 0


def db_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Visit.id)))


def test_an_amendment_has_its_own_opening_and_keeps_the_note_and_status(
    client, world, app, visit_form
):
    client.login("officer")
    client.submit(_new_url(world), visit_form(location_status="denied", place_note="在镇上的集市"))
    original = only_visit(app)
    page = client.get(f"/visits/{original.id}/amend").get_data(as_text=True)
    hidden = _hidden(page)
    assert hidden["location_status"] == "denied" and hidden["opened_at"] == ""
    assert "在镇上的集市" in page
    amend_token = hidden["opened_token"]
    # The token of the new-visit form does not open the amendment.
    new_token = _hidden(client.get(_new_url(world)).get_data(as_text=True))["opened_token"]
    data = visit_form(
        idempotency_token="tok-" + "b" * 28,
        location_status=hidden["location_status"],
        place_note="在镇上的集市",
        satisfaction="3",
    )
    response = client.submit(f"/visits/{original.id}/amend", data | {"opened_token": new_token})
    assert response.status_code == 302
    with app.app_context():
        amendment = db.session.scalars(sa.select(Visit).where(Visit.amends_id.is_not(None))).one()
        assert amendment.opened_at_server is None
        assert (amendment.location_status, amendment.place_note) == ("denied", "在镇上的集市")
    # A correct token, on a second amendment of the newest version.
    page = client.get(f"/visits/{amendment.id}/amend").get_data(as_text=True)
    token = _hidden(page)["opened_token"]
    assert token != amend_token
    response = client.submit(
        f"/visits/{amendment.id}/amend",
        visit_form(idempotency_token="tok-" + "c" * 28, opened_token=token, satisfaction="2"),
    )
    assert response.status_code == 302
    with app.app_context():
        newest = db.session.scalars(sa.select(Visit).order_by(Visit.id.desc())).first()
        assert newest.amends_id == original.id and newest.opened_at_server is not None


# --- The field kit ----------------------------------------------------------------------


def test_the_offline_form_loads_the_script_and_the_service_worker_precaches_it(client, world):
    client.login("officer")
    page = client.get("/field/visit").get_data(as_text=True)
    hidden = _hidden(page)
    assert hidden["opened_token"] == ""  # a kept shell proves nothing of when it was opened
    assert hidden["location_status"] == "not_asked"
    script = re.search(r'src="(/static/js/visit-evidence\.[0-9a-f]{12}\.js)"', page).group(1)
    assert script in client.get("/sw.js").get_data(as_text=True)


def test_an_outbox_entry_brings_its_evidence(client, world, app):
    with app.app_context():
        plan = make_plan(world.officer.id, [world.own_borrower.id])
        db.session.commit()
        plan_id = plan.id
    client.login("officer")
    # A valid online token copied into an entry proves nothing: the kit's form is a shell.
    token = _hidden(client.get(_new_url(world)).get_data(as_text=True))["opened_token"]
    signed_at = _whole(utcnow() - timedelta(minutes=10))
    opened_at = signed_at - timedelta(minutes=25)
    fields = form_fields(
        opened_at=_z(opened_at),
        signed_at_device=_z(signed_at + timedelta(minutes=3)),  # the entry's time counts
        opened_token=token,
        location_status="unavailable",
        place_note="借款人在地里干活，在田头见面。",
    )
    fields["visited_at"] = [
        (signed_at - timedelta(minutes=20)).astimezone(capture_tz()).strftime("%Y-%m-%dT%H:%M")
    ]
    entry = make_entry(world.own_borrower.id, plan_id, signed_at=signed_at, fields=fields)
    response = post_entry(client, entry)
    assert response.status_code == 201, response.get_json()
    visit = only_visit(app)
    assert utc_text(visit.signed_at_device) == entry["signed_at"]
    assert visit.signed_at == visit.signed_at_device
    assert visit.opened_at == opened_at
    assert visit.opened_at_server is None
    assert visit.location_status == "unavailable"
    assert visit.place_note == "借款人在地里干活，在田头见面。"
    assert visit.received_at >= visit.signed_at
    with app.app_context():
        assert verify(db.session.get(Visit, visit.id))


def test_an_entry_from_before_the_evidence_fields_is_stored_with_unknowns(client, world, app):
    with app.app_context():
        plan = make_plan(world.officer.id, [world.own_borrower.id])
        db.session.commit()
        plan_id = plan.id
    client.login("officer")
    fields = form_fields()
    for name in ("opened_at", "signed_at_device", "opened_token", "location_status"):
        fields.pop(name, None)
    entry = make_entry(world.own_borrower.id, plan_id)
    entry = make_entry(
        world.own_borrower.id,
        plan_id,
        fields={**fields, "visited_at": entry["fields"]["visited_at"]},
    )
    assert post_entry(client, entry).status_code == 201
    visit = only_visit(app)
    assert (visit.opened_at, visit.opened_at_server, visit.location_status) == (None, None, None)
    assert utc_text(visit.signed_at_device) == entry["signed_at"]
