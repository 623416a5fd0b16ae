"""Each flag of portal/evidence/rules.py: a visit that raises it and one that does not.

The visits are signed through the real ``sign_visit`` (the flags are raised by its
``visit_signed`` signal, in its transaction), on the real database.
"""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.evidence import flags, rules
from portal.evidence.models import VisitFlag
from portal.evidence.rules import FlagCode
from portal.extensions import db
from portal.loans.models import LoanStatus
from portal.visits.models import Visit
from tests.evidence.signing import (
    HOME,
    camera_photo,
    drawn_signature,
    east_of,
    flags_of,
    sign,
    yesterday_at,
)
from tests.factories import make_borrower, make_loan, make_user
from tests.performance import plans


@pytest.fixture
def cast(app_ctx, world):
    """The world's officer and borrower, a second borrower of theirs, another officer's."""
    officer = db.session.get(User, world.officer.id)
    borrower = db.session.get(Borrower, world.own_borrower.id)
    second = make_borrower(officer)
    make_loan(second, LoanStatus.ACTIVE)
    colleague = make_user("colleague", Role.OFFICER, db.session.get(User, world.head.id).branch)
    third = make_borrower(colleague)
    make_loan(third, LoanStatus.ACTIVE)
    return officer, borrower, second, colleague, third


def codes(visit) -> set[str]:
    return set(flags_of(visit))


def test_an_ordinary_visit_raises_no_flag(cast):
    officer, borrower, *_ = cast
    visit = sign(
        borrower,
        officer,
        yesterday_at(10),
        opened_at=yesterday_at(10) - timedelta(minutes=2),
        signed_at_device=yesterday_at(10, 15),
    )
    assert codes(visit) == set()


def test_flags_copy_the_visit_for_the_heads_list(cast):
    officer, borrower, *_ = cast
    visit = sign(borrower, officer, yesterday_at(10), at=None, location_status="denied")
    row = db.session.scalars(sa.select(VisitFlag).where(VisitFlag.visit_id == visit.id)).one()
    assert (row.branch_id, row.officer_id, row.visited_at) == (
        visit.branch_id,
        visit.officer_id,
        visit.visited_at,
    )
    assert row.raised_at is not None


# --- far_from_site -----------------------------------------------------------------------


def _site_from_two_visits(officer, borrower):
    sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    sign(borrower, officer, yesterday_at(11), at=east_of(HOME, 0.1), accuracy=20)


def test_far_from_site_beyond_the_accuracy(cast):
    officer, borrower, *_ = cast
    _site_from_two_visits(officer, borrower)
    visit = sign(borrower, officer, yesterday_at(15), at=east_of(HOME, 2.05), accuracy=30)
    detail = flags_of(visit)[FlagCode.FAR_FROM_SITE]
    assert detail["site"] == "visits"
    assert detail["accuracy_m"] == 30
    assert 1950 <= detail["distance_m"] <= 2050  # from the midpoint, 50 m east of home


def test_near_the_site_within_the_accuracy_is_not_far(cast):
    officer, borrower, *_ = cast
    _site_from_two_visits(officer, borrower)
    # 1.1 km from the site, but the fix is only good to 150 m: 950 m beyond its doubt.
    visit = sign(borrower, officer, yesterday_at(15), at=east_of(HOME, 1.15), accuracy=150)
    assert FlagCode.FAR_FROM_SITE not in codes(visit)


def test_before_the_site_exists_nothing_is_far(cast):
    officer, borrower, *_ = cast
    sign(borrower, officer, yesterday_at(9), at=HOME, accuracy=10)
    visit = sign(borrower, officer, yesterday_at(11), at=east_of(HOME, 20), accuracy=10)
    assert FlagCode.FAR_FROM_SITE not in codes(visit)


# --- no_fix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["denied", "unavailable", "timeout", "not_asked"])
def test_no_fix_when_the_tablet_could_give_one(cast, status):
    officer, borrower, *_ = cast
    visit = sign(borrower, officer, yesterday_at(10), at=None, location_status=status)
    assert flags_of(visit)[FlagCode.NO_FIX] == {"location_status": status}


@pytest.mark.parametrize("status", ["unsupported", None])
def test_no_fix_is_not_held_against_a_tablet_without_location(cast, status):
    officer, borrower, *_ = cast
    visit = sign(borrower, officer, yesterday_at(10), at=None, location_status=status)
    assert FlagCode.NO_FIX not in codes(visit)


def test_a_fix_after_a_failed_try_is_a_fix(cast):
    officer, borrower, *_ = cast
    visit = sign(borrower, officer, yesterday_at(10), location_status="timeout")
    assert FlagCode.NO_FIX not in codes(visit)


# --- quick_signing ------------------------------------------------------------------------


def test_quick_signing_on_the_tablets_clock(cast):
    officer, borrower, *_ = cast
    opened = yesterday_at(10, 5)
    visit = sign(
        borrower,
        officer,
        yesterday_at(10),
        opened_at=opened,
        signed_at_device=opened + timedelta(seconds=45),
    )
    assert flags_of(visit)[FlagCode.QUICK_SIGNING] == {"seconds": 45}


def test_the_shorter_clock_counts(cast):
    officer, borrower, *_ = cast
    opened = yesterday_at(10, 5)
    now = datetime.now(UTC).replace(microsecond=0)
    visit = sign(
        borrower,
        officer,
        yesterday_at(10),
        opened_at=opened,
        signed_at_device=opened + timedelta(minutes=12),
        # The server served the form 100 s before it received the record.
        opened_at_server=now - timedelta(seconds=100),
    )
    assert 100 <= flags_of(visit)[FlagCode.QUICK_SIGNING]["seconds"] <= 110


def test_a_visit_of_several_minutes_is_not_quick(cast):
    officer, borrower, *_ = cast
    opened = yesterday_at(10, 5)
    visit = sign(
        borrower,
        officer,
        yesterday_at(10),
        opened_at=opened,
        signed_at_device=opened + timedelta(seconds=rules.QUICK_SIGNING_S),
        opened_at_server=datetime.now(UTC) - timedelta(minutes=15),
    )
    assert FlagCode.QUICK_SIGNING not in codes(visit)


def test_a_clock_set_backwards_is_not_a_reading(cast):
    officer, borrower, *_ = cast
    opened = yesterday_at(10, 5)
    visit = sign(
        borrower,
        officer,
        yesterday_at(10),
        opened_at=opened,
        signed_at_device=opened - timedelta(seconds=30),
    )
    assert FlagCode.QUICK_SIGNING not in codes(visit)


def test_an_amendment_is_not_timed(cast):
    officer, borrower, *_ = cast
    original = sign(borrower, officer, yesterday_at(10))
    opened = yesterday_at(16)
    amendment = sign(
        borrower,
        officer,
        yesterday_at(10),
        amends=original,
        signed_after=timedelta(hours=6, minutes=1),
        opened_at=opened,
        signed_at_device=opened + timedelta(seconds=40),
    )
    assert FlagCode.QUICK_SIGNING not in codes(amendment)


# --- impossible_travel ------------------------------------------------------------------------


def test_impossible_travel_between_two_villages_minutes_apart(cast):
    officer, borrower, second, *_ = cast
    first = sign(borrower, officer, yesterday_at(10), at=HOME)
    visit = sign(second, officer, yesterday_at(10, 10), at=east_of(HOME, 20))
    detail = flags_of(visit)[FlagCode.IMPOSSIBLE_TRAVEL]
    assert detail["other_visit_id"] == first.id
    assert detail["minutes"] == 10
    assert 19_900 <= detail["distance_m"] <= 20_100
    assert 119 <= detail["speed_kmh"] <= 121


def test_the_same_trip_in_an_hour_is_possible(cast):
    officer, borrower, second, *_ = cast
    sign(borrower, officer, yesterday_at(10), at=HOME)
    visit = sign(second, officer, yesterday_at(11), at=east_of(HOME, 20))
    assert FlagCode.IMPOSSIBLE_TRAVEL not in codes(visit)


def test_neighbouring_villages_are_not_worth_a_question(cast):
    officer, borrower, second, *_ = cast
    sign(borrower, officer, yesterday_at(10), at=HOME, accuracy=10)
    # 5.2 km in one minute, but the fixes' accuracies take 300 m off: under 5 km.
    visit = sign(second, officer, yesterday_at(10, 1), at=east_of(HOME, 5.2), accuracy=290)
    assert FlagCode.IMPOSSIBLE_TRAVEL not in codes(visit)


def test_travel_is_per_officer(cast):
    officer, borrower, _second, colleague, third = cast
    sign(borrower, officer, yesterday_at(10), at=HOME)
    visit = sign(third, colleague, yesterday_at(10, 5), at=east_of(HOME, 30))
    assert FlagCode.IMPOSSIBLE_TRAVEL not in codes(visit)


def test_travel_looks_both_ways_in_time(cast):
    officer, borrower, second, *_ = cast
    later = sign(borrower, officer, yesterday_at(14), at=HOME)
    # Recorded afterwards, made before: still minutes from the other visit.
    visit = sign(second, officer, yesterday_at(13, 50), at=east_of(HOME, 25))
    assert flags_of(visit)[FlagCode.IMPOSSIBLE_TRAVEL]["other_visit_id"] == later.id


# --- outside_hours --------------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute"), [(20, 0), (23, 30), (6, 59)])
def test_signed_outside_working_hours(cast, hour, minute):
    officer, borrower, *_ = cast
    signed = yesterday_at(hour, minute)
    visit = sign(
        borrower, officer, signed - timedelta(minutes=30), signed_after=timedelta(30 * 60 / 86400)
    )
    assert flags_of(visit)[FlagCode.OUTSIDE_HOURS] == {"local_time": f"{hour:02d}:{minute:02d}"}


@pytest.mark.parametrize(("hour", "minute"), [(7, 0), (19, 59)])
def test_signed_within_working_hours(cast, hour, minute):
    officer, borrower, *_ = cast
    signed = yesterday_at(hour, minute)
    visit = sign(
        borrower, officer, signed - timedelta(minutes=1), signed_after=timedelta(minutes=1)
    )
    assert FlagCode.OUTSIDE_HOURS not in codes(visit)


def test_the_tablets_signing_time_counts_for_a_draft_sent_late(cast):
    officer, borrower, *_ = cast
    # Signed in the field at 15:20, sent from home at 21:40.
    visit = sign(
        borrower,
        officer,
        yesterday_at(15),
        signed_after=timedelta(hours=6, minutes=40),
        signed_at_device=yesterday_at(15, 20),
    )
    assert FlagCode.OUTSIDE_HOURS not in codes(visit)


def test_an_implausible_tablet_time_is_not_believed(cast):
    officer, borrower, *_ = cast
    # The tablet claims a signature hours before the visit began: the record's time counts.
    visit = sign(
        borrower,
        officer,
        yesterday_at(21),
        signed_after=timedelta(minutes=30),
        signed_at_device=yesterday_at(12),
    )
    assert flags_of(visit)[FlagCode.OUTSIDE_HOURS] == {"local_time": "21:30"}


# --- text_reused ------------------------------------------------------------------------------

OBSERVED = "新建猪舍两间，存栏母猪十二头、仔猪四十余头，饲料库存约两吨，账本记录到上周。"


def test_observations_copied_from_an_earlier_visit(cast):
    officer, borrower, second, *_ = cast
    earlier = sign(borrower, officer, yesterday_at(9), observations=OBSERVED)
    # Another borrower, one character changed, punctuation and spacing differ.
    copied = OBSERVED.replace("十二", "十三").replace("，", " ")
    visit = sign(second, officer, yesterday_at(14), at=east_of(HOME, 3), observations=copied)
    detail = flags_of(visit)[FlagCode.TEXT_REUSED]
    assert detail["other_visit_id"] == earlier.id
    assert rules.TEXT_SIMILARITY <= detail["similarity"] < 1


def test_boilerplate_is_not_a_fake(cast):
    officer, borrower, second, *_ = cast
    sign(borrower, officer, yesterday_at(9), observations="经营正常。")
    visit = sign(second, officer, yesterday_at(14), observations="经营正常。")
    assert FlagCode.TEXT_REUSED not in codes(visit)


def test_observations_in_the_officers_own_words_are_not_reused(cast):
    officer, borrower, second, *_ = cast
    sign(borrower, officer, yesterday_at(9), observations=OBSERVED)
    own = "鱼塘新投放鱼苗三千尾，水质良好，借款人计划年底出售成鱼归还部分本金。"
    visit = sign(second, officer, yesterday_at(14), observations=own)
    assert FlagCode.TEXT_REUSED not in codes(visit)


def test_another_officers_text_is_not_compared(cast):
    officer, borrower, _second, colleague, third = cast
    sign(borrower, officer, yesterday_at(9), observations=OBSERVED)
    visit = sign(third, colleague, yesterday_at(14), observations=OBSERVED)
    assert FlagCode.TEXT_REUSED not in codes(visit)


def test_text_older_than_the_window_is_not_compared(cast):
    officer, borrower, second, *_ = cast
    long_ago = yesterday_at(10) - rules.TEXT_WINDOW - timedelta(days=1)
    sign(borrower, officer, long_ago, observations=OBSERVED)
    visit = sign(second, officer, yesterday_at(14), observations=OBSERVED)
    assert FlagCode.TEXT_REUSED not in codes(visit)


def test_an_amendment_keeps_its_originals_text(cast):
    officer, borrower, *_ = cast
    original = sign(borrower, officer, yesterday_at(9), observations=OBSERVED)
    amendment = sign(
        borrower,
        officer,
        yesterday_at(9),
        amends=original,
        signed_after=timedelta(hours=3),
        observations=OBSERVED,
    )
    assert FlagCode.TEXT_REUSED not in codes(amendment)


# --- signature_reused -------------------------------------------------------------------------


def test_a_copied_signature_image(cast):
    officer, borrower, second, *_ = cast
    png = drawn_signature(-1)
    first = sign(borrower, officer, yesterday_at(9), signature=png)
    sign(borrower, officer, yesterday_at(10), signature=drawn_signature(-2))
    visit = sign(second, officer, yesterday_at(14), signature=png, at=east_of(HOME, 3))
    assert flags_of(visit)[FlagCode.SIGNATURE_REUSED] == {"other_visit_id": first.id}


def test_signatures_drawn_again_are_not_copies(cast):
    officer, borrower, *_ = cast
    sign(borrower, officer, yesterday_at(9))
    visit = sign(borrower, officer, yesterday_at(14))
    assert FlagCode.SIGNATURE_REUSED not in codes(visit)


def test_an_amendment_is_not_flagged_for_its_originals_signature(cast):
    officer, borrower, *_ = cast
    png = drawn_signature(-3)
    original = sign(borrower, officer, yesterday_at(9), signature=png)
    amendment = sign(
        borrower,
        officer,
        yesterday_at(9),
        amends=original,
        signed_after=timedelta(hours=3),
        signature=png,
    )
    again = sign(
        borrower,
        officer,
        yesterday_at(9),
        amends=amendment,
        signed_after=timedelta(hours=4),
        signature=png,
    )
    assert FlagCode.SIGNATURE_REUSED not in codes(amendment) | codes(again)


# --- photo_reused and old_photo -------------------------------------------------------------


def _photos(*uploads: bytes) -> tuple:
    from portal.visits.photos import prepare

    return tuple(prepare(data, "business") for data in uploads)


def test_a_photo_reused_cropped_and_re_encoded_is_found(cast):
    officer, borrower, second, *_ = cast
    earlier = sign(borrower, officer, yesterday_at(9), photos=_photos(camera_photo(1)))
    # Another borrower's visit: the same picture with 3 % cut off each side, re-encoded.
    visit = sign(
        second,
        officer,
        yesterday_at(14),
        at=east_of(HOME, 3),
        photos=_photos(camera_photo(2), camera_photo(1, crop=0.03)),
    )
    detail = flags_of(visit)[FlagCode.PHOTO_REUSED]
    reused = visit.photos[1]
    assert detail["photo_id"] == reused.id
    assert detail["other_visit_id"] == earlier.id
    assert detail["other_photo_id"] == earlier.photos[0].id
    assert 0 < detail["bits"] <= rules.PHOTO_REUSE_BITS


def test_the_same_upload_again_is_found_at_zero_bits(cast):
    officer, borrower, *_ = cast
    sign(borrower, officer, yesterday_at(9), photos=_photos(camera_photo(3)))
    visit = sign(borrower, officer, yesterday_at(14), photos=_photos(camera_photo(3)))
    assert flags_of(visit)[FlagCode.PHOTO_REUSED]["bits"] == 0


def test_different_photos_are_not_reused(cast):
    officer, borrower, *_ = cast
    sign(borrower, officer, yesterday_at(9), photos=_photos(camera_photo(4), camera_photo(5)))
    visit = sign(borrower, officer, yesterday_at(14), photos=_photos(camera_photo(6)))
    assert FlagCode.PHOTO_REUSED not in codes(visit)


def test_an_amendment_keeps_its_originals_photos(cast):
    officer, borrower, *_ = cast
    original = sign(borrower, officer, yesterday_at(9), photos=_photos(camera_photo(7)))
    amendment = sign(
        borrower,
        officer,
        yesterday_at(9),
        amends=original,
        signed_after=timedelta(hours=2),
        photos=_photos(camera_photo(7)),
    )
    assert FlagCode.PHOTO_REUSED not in codes(amendment)


def test_an_old_photo(cast):
    officer, borrower, *_ = cast
    visited = yesterday_at(10)
    taken = visited - timedelta(days=rules.OLD_PHOTO_DAYS + 10)
    visit = sign(borrower, officer, visited, photos=_photos(camera_photo(8, taken_at=taken)))
    detail = flags_of(visit)[FlagCode.OLD_PHOTO]
    assert detail["photo_id"] == visit.photos[0].id
    assert detail["days"] == rules.OLD_PHOTO_DAYS + 10
    assert datetime.fromisoformat(detail["taken_at"]) == taken


@pytest.mark.parametrize("days", [0, 10, rules.OLD_PHOTO_DAYS - 1, None])
def test_a_photo_of_this_visit_or_without_a_capture_time_is_not_old(cast, days):
    officer, borrower, *_ = cast
    visited = yesterday_at(10)
    taken = None if days is None else visited - timedelta(days=days)
    visit = sign(borrower, officer, visited, photos=_photos(camera_photo(9, taken_at=taken)))
    assert FlagCode.OLD_PHOTO not in codes(visit)


# --- The table, the reasons, the cost -------------------------------------------------------


def test_every_flag_has_a_row_and_a_reason():
    assert list(rules.FLAG_RULES) == list(FlagCode)
    assert set(rules.NO_FIX_STATUSES) == set(rules.NO_FIX_REASONS)


class _Flag:
    def __init__(self, code, **detail):
        self.code, self.detail = code, detail


REASONS = [
    (
        _Flag("far_from_site", distance_m=2340, accuracy_m=30, site="visits"),
        "Signed 2.3 km from the borrower's site (established by the first visits); "
        "the position was accurate to 30 m.",
    ),
    (
        _Flag("quick_signing", seconds=45),
        "Signed 45 seconds after the form was opened.",
    ),
    (
        _Flag("impossible_travel", other_visit_id=7, distance_m=20120, minutes=10, speed_kmh=121),
        "20 km from the officer's visit no. 7, 10 minutes apart: 121 km/h in a straight line.",
    ),
    (
        _Flag("outside_hours", local_time="21:30"),
        "Signed at 21:30, outside working hours (07:00-20:00).",
    ),
    (
        _Flag("text_reused", other_visit_id=7, similarity=0.93),
        "The officer's observations are 93% the same as on visit no. 7.",
    ),
    (
        _Flag("old_photo", photo_id=1, taken_at="2026-01-02T02:00:00+00:00", days=45),
        "A photo was taken on 2 Jan 2026, 45 days before the visit.",
    ),
]


@pytest.mark.parametrize(("flag", "english"), REASONS)
def test_reasons_in_words(app_ctx, flag, english):
    with force_locale("en"):
        assert rules.describe(flag) == english


def test_every_code_is_described_in_both_languages(app_ctx):
    samples = {
        "far_from_site": {"distance_m": 1500, "accuracy_m": None, "site": "pinned"},
        "no_fix": {"location_status": "denied"},
        "quick_signing": {"seconds": 1},
        "impossible_travel": {
            "other_visit_id": 1,
            "distance_m": 9000,
            "minutes": 1,
            "speed_kmh": 540,
        },
        "outside_hours": {"local_time": "05:10"},
        "photo_reused": {"photo_id": 1, "other_photo_id": 2, "other_visit_id": 3, "bits": 1},
        "old_photo": {"photo_id": 1, "taken_at": "2026-01-02T02:00:00+00:00", "days": 31},
        "text_reused": {"other_visit_id": 1, "similarity": 0.9},
        "signature_reused": {"other_visit_id": 1},
    }
    assert set(samples) == set(FlagCode)
    for code, detail in samples.items():
        for locale in ("zh", "en"):
            with force_locale(locale):
                text = rules.describe(_Flag(code, **detail))
                assert text and "%(" not in text
                assert rules.flag_label(code)


def test_the_flags_read_the_visits_by_index_only(app, cast):
    """The rules' reads are bounded: each is answered through an index, never a full scan."""
    officer, borrower, second, *_ = cast
    for hour in (9, 10, 11):
        sign(borrower, officer, yesterday_at(hour), observations=OBSERVED + str(hour))
    visit = sign(second, officer, yesterday_at(14), observations=OBSERVED)
    db.session.execute(sa.delete(VisitFlag).where(VisitFlag.visit_id == visit.id))
    with plans.capture(db.engine) as statements:
        flags.raise_flags(visit)
    reads = [s for s in statements if "FROM visits" in s.sql]
    assert len(reads) >= 3  # signature, text, travel, the site's fixes
    connection = db.session.connection()
    full_scans = [s.sql for s in reads if _scans_visits(connection, s)]
    assert full_scans == []


def _scans_visits(connection, statement) -> bool:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + statement.sql, statement.params
        ).scalar()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
        return '"Seq Scan"' in str(plan).replace("'", '"') and "visits" in str(plan)
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
    return any(row[-1].startswith("SCAN visits") and "INDEX" not in row[-1] for row in rows.all())


def test_the_signal_raises_the_flags_in_the_signing_transaction(cast):
    officer, borrower, *_ = cast
    visit = sign(borrower, officer, yesterday_at(10), at=None, location_status="denied")
    db.session.rollback()
    assert db.session.get(Visit, visit.id) is None
    assert db.session.scalar(sa.select(sa.func.count(VisitFlag.id))) == 0
