"""Migrations 0023 and 0024 on a database of clear numbers: consents carried over by
purpose; numbers encrypted, indexed, logins renamed, the audit log scrubbed; nothing lost
from the tables that refer to the borrowers (both rebuild them on SQLite)."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.accounts.operations import find_user
from portal.borrowers.models import Borrower, IdCardPhoto
from portal.care.models import OutboxMessage
from portal.core import crypto
from portal.extensions import db
from portal.reminders.models import StaffSms

BEFORE = "0023_consents_and_holds"
BEFORE_CONSENTS = "0022_instalments_by_loan_and_day"
RESIDENT_ID = "32080219850302123X"
MOBILE = "13905271234"
GUARANTOR = "052785210001"
STAFF_MOBILE = "13800001111"
PHOTO = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 50
NOW = "2026-11-01 08:00:00"


@pytest.fixture
def fresh_app(app, tmp_path):
    """An app on an empty database of the suite's kind, with the suite's keys."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    admin = None
    if url.get_backend_name() == "sqlite":
        fresh = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        name = f"{url.database}_migration"
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        fresh = url.set(database=name).render_as_string(hide_password=False)
    made = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": fresh,
            "PASSWORD_HASH_PROFILE": "fast",
            "PORTAL_DATA_KEYS": app.config["PORTAL_DATA_KEYS"],
            "PORTAL_INDEX_KEY": app.config["PORTAL_INDEX_KEY"],
        }
    )
    yield made
    with made.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _clear_rows(before_consents: bool = False) -> None:
    """A branch, an officer, a borrower with login, photo, outbox, audit, as before 0024
    (or before 0023, with the one greetings choice, declined)."""
    statements = [
        "INSERT INTO branches (id, code, name, region, address, phone, active, created_at) "
        f"VALUES (1, 'B1', '网点', '江苏', '', '', true, '{NOW}')",
        "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, locale, "
        "active, must_change_password, created_at) VALUES "
        f"(1, 'officer', '陈志强', '', 'officer', 1, 'zh', true, false, '{NOW}'), "
        f"(2, '{MOBILE}', '王小明', '', 'borrower', 1, 'zh', true, false, '{NOW}')",
        "INSERT INTO borrowers (id, branch_id, officer_id, user_id, full_name, name_initials, "
        "resident_id, resident_id_tail, birth_date, sex, mobile, mobile_tail, address, village, "
        "business_type, business_description, household_size, monthly_income, "
        "monthly_expenses, guarantor_name, guarantor_phone, consent_at, birthday_calendar, "
        "tier, created_at, version"
        + (", wants_greetings" if before_consents else "")
        + ") VALUES (7, 1, 1, 2, '王小明', 'wxm', "
        f"'{RESIDENT_ID}', '123X', '1985-03-02', 'male', '{MOBILE}', '1234', '众兴镇', "
        f"'王集村', 'pig_farming', '', 4, 6500, 3800, '王大山', '{GUARANTOR}', '{NOW}', "
        f"'gregorian', 'general', '{NOW}', 1" + (", false)" if before_consents else ")"),
        "INSERT INTO officer_assignments (id, borrower_id, officer_id, started_at, reason) "
        f"VALUES (1, 7, 1, '{NOW}', '')",
        "INSERT INTO care_outbox (id, borrower_id, branch_id, occasion_code, year, due_on, "
        "locale, body, status, gateway, attempts, last_error, created_at, mobile, sent_at) "
        "VALUES (1, 7, 1, 'birthday', 2026, '2026-11-01', 'zh', '生日快乐', 'sent', 'log', 1, "
        f"'refused {MOBILE}', '{NOW}', '{MOBILE}', '{NOW}')",
        "INSERT INTO staff_sms (user_id, mobile, opted_in, updated_at) "
        f"VALUES (1, '{STAFF_MOBILE}', true, '{NOW}')",
        "INSERT INTO audit_entries (id, created_at, actor_id, actor_name, action, object_type, "
        "object_id, summary, ip_address) VALUES "
        f"(1, '{NOW}', 1, 'officer', 'borrower.create', 'Borrower', '7', "
        f"'王小明 {RESIDENT_ID}, officer officer', ''), "
        f"(2, '{NOW}', 2, '{MOBILE}', 'borrower.activate', 'User', '2', '{MOBILE}', ''), "
        f"(3, '{NOW}', 1, 'officer', 'user.create', 'User', '2', '{MOBILE} (borrower)', '')",
    ]
    for statement in statements:
        db.session.execute(sa.text(statement))
    db.session.execute(
        sa.text(
            "INSERT INTO id_card_photos (borrower_id, content, media_type, uploaded_at) "
            "VALUES (7, :content, 'image/jpeg', :now)"
        ),
        {"content": PHOTO, "now": NOW},
    )
    db.session.commit()


def _raw(sql: str):
    return db.session.execute(sa.text(sql)).all()


def test_upgrade_encrypts_the_clear_numbers_and_keeps_every_row(fresh_app):
    with fresh_app.app_context():
        upgrade(revision=BEFORE_CONSENTS)
        _clear_rows(before_consents=True)
        upgrade()
        db.session.remove()

        # The one consent at onboarding, carried over by purpose; greetings as chosen.
        assert _raw(
            "SELECT purpose, given, method FROM consents WHERE borrower_id = 7 ORDER BY purpose"
        ) == [
            ("greetings", False, "carried_over"),
            ("loan", True, "carried_over"),
            ("networking", True, "carried_over"),
            ("photos", True, "carried_over"),
            ("surveys", True, "carried_over"),
        ]
        assert _raw("SELECT count(*) FROM consent_events") == [(5,)]

        [(resident_id, mobile, guarantor, resident_hash, mobile_hash)] = _raw(
            "SELECT resident_id, mobile, guarantor_phone, resident_id_hash, mobile_hash "
            "FROM borrowers"
        )
        assert RESIDENT_ID not in resident_id and crypto.decrypt_text(resident_id) == RESIDENT_ID
        assert crypto.decrypt_text(mobile) == MOBILE and MOBILE not in mobile
        assert crypto.decrypt_text(guarantor) == GUARANTOR
        assert resident_hash == crypto.blind_index(RESIDENT_ID)
        assert mobile_hash == crypto.blind_index(MOBILE)
        # Rebuilding the table took nothing with it from the tables that refer to it.
        assert _raw("SELECT borrower_id FROM officer_assignments") == [(7,)]
        [(photo,)] = _raw("SELECT content FROM id_card_photos")
        assert bytes(photo) != PHOTO and crypto.decrypt_bytes(photo) == PHOTO
        [(outbox_mobile, outbox_hash, error)] = _raw(
            "SELECT mobile, mobile_hash, last_error FROM care_outbox"
        )
        assert crypto.decrypt_text(outbox_mobile) == MOBILE
        assert outbox_hash == crypto.blind_index(MOBILE) and error == "refused 139****1234"
        [(staff_mobile,)] = _raw("SELECT mobile FROM staff_sms")
        assert crypto.decrypt_text(staff_mobile) == STAFF_MOBILE

        assert _raw("SELECT username FROM users ORDER BY id") == [("officer",), ("borrower:7",)]
        assert _raw("SELECT actor_name, summary FROM audit_entries ORDER BY id") == [
            ("officer", "王小明 320802********123X, officer officer"),
            ("borrower:7", "borrower:7"),
            ("officer", "borrower:7 (borrower)"),
        ]

        # The app reads it all, finds the login by the number and the borrower by index.
        borrower = db.session.get(Borrower, 7)
        assert (borrower.resident_id, borrower.mobile) == (RESIDENT_ID, MOBILE)
        assert db.session.get(IdCardPhoto, 7).content == PHOTO
        assert db.session.get(StaffSms, 1).mobile == STAFF_MOBILE
        assert db.session.get(OutboxMessage, 1).mobile == MOBILE
        assert find_user(MOBILE).id == 2
        db.session.remove()

        result = fresh_app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output


def test_downgrade_gives_the_clear_numbers_back(fresh_app):
    with fresh_app.app_context():
        upgrade(revision=BEFORE)
        _clear_rows()
        upgrade()
        downgrade(revision=BEFORE)
        db.session.remove()
        assert _raw("SELECT resident_id, mobile, guarantor_phone FROM borrowers") == [
            (RESIDENT_ID, MOBILE, GUARANTOR)
        ]
        assert _raw("SELECT mobile FROM care_outbox") == [(MOBILE,)]
        assert _raw("SELECT username FROM users WHERE id = 2") == [(MOBILE,)]
        assert _raw("SELECT borrower_id FROM officer_assignments") == [(7,)]
        [(photo,)] = _raw("SELECT content FROM id_card_photos")
        assert bytes(photo) == PHOTO
