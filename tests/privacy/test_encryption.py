"""Encryption at rest: the numbers and ID photos are ciphertext in the database file and
its backups; lookups, duplicates, activation, login and search still work; keys rotate."""

import io
import re
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from PIL import Image

from portal import create_app
from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers import queries
from portal.borrowers.models import Borrower, IdCardPhoto
from portal.care.models import OutboxMessage
from portal.care.rules import sent_today
from portal.care.texts import Text, queue
from portal.core import crypto
from portal.core.crypto_cli import encryption_cli, rotate_all
from portal.database import utcnow
from portal.extensions import db
from portal.reminders.models import StaffSms
from portal.settings import ConfigurationError
from tests.borrowers.helpers import onboarding_data, page_text, resident_id

CODE = re.compile(r'data-testid="activation-code">([A-Z0-9]{4})-([A-Z0-9]{4})<')
NUMBERS = {
    "resident_id": resident_id(sequence=457),
    "mobile": "13905271234",
    "guarantor_phone": "052785210001",
}
STAFF_MOBILE = "13800001111"


def _photo() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (640, 400), color=(200, 30, 60)).save(data, format="PNG")
    data.seek(0)
    return data


def _onboard(client, **overrides) -> str:
    """Onboard 王小明 through the page, with an ID photo; the activation code."""
    client.login("officer")
    data = onboarding_data(resident_id=NUMBERS["resident_id"], **overrides)
    data["id_card_photo"] = (_photo(), "card.png")
    response = client.submit("/borrowers/new", data, content_type="multipart/form-data")
    page = page_text(response)
    match = CODE.search(page)
    assert match, page[:2000]
    client.logout()
    return "".join(match.groups())


def _borrower(mobile: str = NUMBERS["mobile"]) -> Borrower:
    return queries.registered_with(mobile=mobile)


@pytest.fixture
def onboarded(app, client, world):
    """A borrower onboarded, activated, logged in by mobile, texted; a staff mobile kept."""
    code = _onboard(client)
    password = "a-long-new-password-1"
    response = client.submit(
        "/activate",
        {"mobile": "139 0527 1234", "code": code, "new_password": password, "confirm": password},
    )
    assert response.status_code == 302, page_text(response)[:2000]
    client.logout()
    assert client.login("139-0527-1234", password).status_code == 302
    client.logout()
    with app.app_context():
        borrower = _borrower()
        officer = db.session.get(User, world.officer.id)
        db.session.add(StaffSms(user_id=officer.id, mobile=STAFF_MOBILE, opted_in=True))
        message = OutboxMessage(
            borrower_id=borrower.id,
            branch_id=borrower.branch_id,
            occasion_code="birthday",
            year=2026,
            due_on=date(2026, 3, 20),
            locale="zh",
            body="生日快乐",
            sent_at=utcnow(),
        )
        message.mobile = borrower.mobile
        message.last_error = f"gateway refused {borrower.mobile}"
        db.session.add(message)
        queue(
            Text(
                once_key="test-staff-text",
                occasion="visits_morning",
                branch_id=borrower.branch_id,
                locale="zh",
                body="今日走访",
                due_on=date(2026, 3, 20),
                user_id=officer.id,
                mobile=STAFF_MOBILE,
            )
        )
        db.session.commit()
        photo = db.session.get(IdCardPhoto, borrower.id).content
    return photo


def _clear_forms(photo: bytes) -> list[bytes]:
    numbers = [*NUMBERS.values(), STAFF_MOBILE]
    return [n.encode() for n in numbers] + [photo[64:128]]


def _assert_no_clear_number(blob: bytes, photo: bytes) -> None:
    for form in _clear_forms(photo):
        assert form not in blob, f"{form[:20]!r} found in clear"


def test_values_round_trip_and_are_stored_as_ciphertext(app, onboarded):
    with app.app_context():
        borrower = _borrower()
        assert (borrower.resident_id, borrower.mobile, borrower.guarantor_phone) == tuple(
            NUMBERS.values()
        )
        assert borrower.resident_id_hash == crypto.blind_index(NUMBERS["resident_id"])
        assert borrower.mobile_hash == crypto.blind_index(NUMBERS["mobile"])
        assert (borrower.resident_id_tail, borrower.mobile_tail) == (
            NUMBERS["resident_id"][-4:],
            "1234",
        )
        stored = db.session.execute(
            sa.text("SELECT resident_id, mobile, guarantor_phone FROM borrowers WHERE id = :id"),
            {"id": borrower.id},
        ).one()
        for token, clear in zip(stored, NUMBERS.values(), strict=True):
            assert clear not in token and crypto.decrypt_text(token) == clear
        raw_photo = db.session.execute(sa.text("SELECT content FROM id_card_photos")).scalar()
        assert bytes(raw_photo) != onboarded
        assert crypto.decrypt_bytes(raw_photo) == onboarded
        assert onboarded.startswith(b"\xff\xd8")  # the re-encoded JPEG, read back whole
        assert db.session.get(StaffSms, borrower.officer_id).mobile == STAFF_MOBILE
        assert db.session.execute(sa.text("SELECT mobile FROM staff_sms")).scalar() != STAFF_MOBILE
        # The outbox's number too, its daily count by the blind index; errors masked.
        assert sent_today(NUMBERS["mobile"], utcnow()) == 1
        message = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.once_key.is_(None))
        )
        assert message.mobile == NUMBERS["mobile"]
        assert message.last_error == "gateway refused 139****1234"
        staff_text = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.once_key == "test-staff-text")
        )
        assert staff_text.mobile == STAFF_MOBILE
        assert staff_text.mobile_hash == crypto.blind_index(STAFF_MOBILE)


def test_none_stays_none(app, onboarded):
    with app.app_context():
        borrower = _borrower()
        borrower.guarantor_phone = None
        db.session.commit()
        raw = db.session.execute(
            sa.text("SELECT guarantor_phone FROM borrowers WHERE id = :id"), {"id": borrower.id}
        ).scalar()
        assert raw is None
        db.session.expire_all()
        assert db.session.get(Borrower, borrower.id).guarantor_phone is None
        # Clearing a number (anonymisation) clears its blind index and tail with it.
        borrower.mobile = None
        assert (borrower.mobile_hash, borrower.mobile_tail) == (None, "")


def _sqlite_file(app) -> str | None:
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return url.database if url.get_backend_name() == "sqlite" else None


def test_database_file_and_backup_hold_no_number_in_clear(app, onboarded, tmp_path):
    """Done when, 2: the file and the backup read as bytes hold ciphertext only."""
    with app.app_context():
        # The clear number is what the pages show: the test would find it if stored.
        assert _borrower().mobile == NUMBERS["mobile"]
        audit = " ".join(
            f"{actor} {summary}"
            for actor, summary in db.session.execute(
                sa.select(AuditEntry.actor_name, AuditEntry.summary)
            )
        )
        logins = " ".join(db.session.scalars(sa.select(User.username)))
    for number in NUMBERS.values():
        assert number not in audit and number not in logins

    backup = tmp_path / "portal.backup"
    result = app.test_cli_runner().invoke(args=["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    database_file = _sqlite_file(app)
    if database_file:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with sqlite3.connect(database_file) as connection:
            connection.execute("PRAGMA wal_checkpoint(FULL)")
        blob = b"".join(
            Path(path).read_bytes()
            for path in (database_file, database_file + "-wal")
            if Path(path).exists()
        )
        assert "王小明".encode() in blob  # what is not encrypted is found: the file was read
        _assert_no_clear_number(blob, onboarded)
        assert "王小明".encode() in backup.read_bytes()
        _assert_no_clear_number(backup.read_bytes(), onboarded)
        return
    # pg_dump's custom format compresses the rows: read them as pg_restore writes them out.
    pg_restore = shutil.which("pg_restore")
    assert pg_restore, "pg_restore is needed"
    script = subprocess.run(
        [pg_restore, "--data-only", "--file=-", str(backup)], capture_output=True, check=True
    ).stdout
    assert b"COPY public.borrowers" in script and "王小明".encode() in script
    _assert_no_clear_number(script, onboarded)
    _assert_no_clear_number(backup.read_bytes(), onboarded)


def test_duplicates_are_found_through_the_blind_index(app, client, onboarded):
    client.login("officer")
    same_id = page_text(
        client.submit(
            "/borrowers/new",
            onboarding_data(resident_id=NUMBERS["resident_id"], mobile="13905279999"),
        )
    )
    assert "已登记" in same_id or "already" in same_id
    other = resident_id(sequence=459)
    same_mobile = page_text(
        client.submit("/borrowers/new", onboarding_data(resident_id=other, mobile="139 0527 1234"))
    )
    assert "13905279999" not in same_mobile
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Borrower.id))) == 3  # world's two + 1
        assert queries.registered_with(resident_id=other) is None


def test_login_by_mobile_stores_no_number_and_tells_nothing_about_unknown_ones(
    app, client, onboarded
):
    with app.app_context():
        borrower = _borrower()
        assert borrower.user.username == f"borrower:{borrower.id}"
    wrong_password = page_text(client.login("13905271234", "not-the-password"))
    unknown_number = page_text(client.login("13905270000", "not-the-password"))
    assert "用户名或密码错误" in wrong_password and "用户名或密码错误" in unknown_number
    assert client.login("+86 139 0527 1234", "a-long-new-password-1").status_code == 302


def test_search_by_whole_number_and_by_tail(app, onboarded, world):
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        borrower = _borrower()

        def found(text: str) -> set[int]:
            stmt = queries.search(admin, queries.BorrowerFilter(text=text))
            return {b.id for b in db.session.scalars(stmt).unique()}

        number = NUMBERS["resident_id"]
        for text in (number, number[-4:], number[-8:], "13905271234", "1234", "271234"):
            assert borrower.id in found(text), text
        assert found("13905270000") == set() or borrower.id not in found("13905270000")
        assert borrower.id not in found("9" + number[-7:])


def test_rotation_re_encrypts_with_the_new_key_and_everything_still_reads(
    app, onboarded, monkeypatch
):
    new_key = Fernet.generate_key().decode()
    old_keys = app.config["PORTAL_DATA_KEYS"]
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", (new_key, *old_keys))
    with app.app_context():
        done = dict(rotate_all(batch=1))
        assert done["borrowers.mobile"] >= 3 and done["id_card_photos.content"] == 1
        tokens = db.session.execute(
            sa.text("SELECT resident_id, mobile, guarantor_phone FROM borrowers")
        ).all()
        photo = db.session.execute(sa.text("SELECT content FROM id_card_photos")).scalar()
        only_new = Fernet(new_key.encode())
        for row in tokens:
            for token in row:
                only_new.decrypt(token.encode())  # the old key is no longer needed
        outbox = db.session.scalars(sa.text("SELECT mobile FROM care_outbox")).all()
        for token in outbox:
            only_new.decrypt(token.encode())
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", (new_key,))
    with app.app_context():
        crypto.decrypt_bytes(photo)
        borrower = _borrower()
        assert (borrower.resident_id, borrower.mobile, borrower.guarantor_phone) == tuple(
            NUMBERS.values()
        )
        assert db.session.get(IdCardPhoto, borrower.id).content == onboarded


def test_a_new_index_key_is_applied_by_reindexing(app, onboarded, monkeypatch):
    with app.app_context():
        before = _borrower().mobile_hash
    monkeypatch.setitem(app.config, "PORTAL_INDEX_KEY", "a-new-index-key-" + "x" * 32)
    with app.app_context():
        assert _borrower() is None  # the old indexes no longer match
    result = app.test_cli_runner().invoke(encryption_cli, ["rotate", "--reindex"])
    assert result.exit_code == 0, result.output
    assert "borrowers.mobile:" in result.output
    with app.app_context():
        borrower = _borrower()
        assert borrower is not None and borrower.mobile_hash != before
        assert sent_today(NUMBERS["mobile"], utcnow()) == 1


def test_new_key_prints_keys_the_settings_accept(app):
    data_key = app.test_cli_runner().invoke(encryption_cli, ["new-key"]).output.strip()
    index_key = app.test_cli_runner().invoke(encryption_cli, ["new-key", "--index"]).output
    assert crypto.valid_data_key(data_key) and len(index_key.strip()) >= 32


def test_production_refuses_to_start_without_the_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite3")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
    monkeypatch.delenv("PORTAL_INDEX_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="PORTAL_DATA_KEYS"):
        create_app()
    monkeypatch.setenv("PORTAL_DATA_KEYS", "not-a-key")
    monkeypatch.setenv("PORTAL_INDEX_KEY", "i" * 40)
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        create_app()
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("PORTAL_INDEX_KEY", "short")
    with pytest.raises(ConfigurationError, match="PORTAL_INDEX_KEY"):
        create_app()
    monkeypatch.setenv("PORTAL_INDEX_KEY", "i" * 40)
    assert create_app().config["PORTAL_DATA_KEYS"]
    assert not (tmp_path / "data_key").exists()  # production never makes its own


def test_development_keys_are_made_once_and_kept(monkeypatch, tmp_path):
    import portal.settings as settings

    monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
    monkeypatch.delenv("PORTAL_INDEX_KEY", raising=False)
    monkeypatch.setattr(settings, "INSTANCE_PATH", tmp_path)
    first = settings.from_environment({"SECRET_KEY": "x"})
    second = settings.from_environment({"SECRET_KEY": "x"})
    assert first["PORTAL_DATA_KEYS"] == second["PORTAL_DATA_KEYS"]
    assert first["PORTAL_INDEX_KEY"] == second["PORTAL_INDEX_KEY"]
    assert crypto.valid_data_key(first["PORTAL_DATA_KEYS"][0])
    for name in ("data_key", "index_key"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0
