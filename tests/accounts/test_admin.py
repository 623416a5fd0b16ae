"""The admin's staff and branch pages, and every user's own account."""

import sqlalchemy as sa

from portal.accounts.models import LoginSession, Role, User
from portal.audit.models import AuditEntry
from portal.branches.models import Branch
from portal.extensions import db


def _english(client):
    client.submit("/language", {"locale": "en"}, page="/login")


def _get(app, model, **where):
    with app.app_context():
        row = db.session.scalar(sa.select(model).filter_by(**where))
        if row is not None:
            db.session.expunge(row)
        return row


def test_admin_creates_a_loan_officer_who_must_change_password(client, world, app):
    client.login("admin")
    response = client.submit(
        "/admin/users/new",
        {
            "username": "Officer9",
            "display_name": "王小明",
            "role": "officer",
            "branch_id": str(world.branch.id),
            "password": "a-long-initial-pass",
        },
    )
    assert response.status_code == 302
    user = _get(app, User, username="officer9")
    assert user.role == Role.OFFICER and user.branch_id == world.branch.id
    assert user.password_hash.startswith("$argon2id$")
    client.logout()
    client.login("officer9", "a-long-initial-pass")
    assert client.get("/").headers["Location"] == "/account/password"


def test_staff_form_refuses_bad_input_and_keeps_what_was_typed(client, world, app):
    client.login("admin")
    _english(client)
    response = client.submit(
        "/admin/users/new",
        {"username": "officer", "display_name": "张三", "role": "officer", "password": "short"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This username is already taken." in page
    assert "The password must have 10 to 128 characters." in page
    assert "Branch heads and loan officers need a branch." in page
    assert 'value="张三"' in page
    assert _get(app, User, display_name="张三") is None


def test_staff_form_errors_in_chinese(client, world):
    client.login("admin")
    response = client.submit(
        "/admin/users/new",
        {"username": "x y", "display_name": "", "role": "officer", "password": "short"},
    )
    page = response.get_data(as_text=True)
    assert "请更正标出的字段" in page
    assert "密码须为 10 到 128 个字符" in page


def test_admin_disables_and_enables_an_account(client, world, app):
    officer = world.officer.id
    client.login("admin")
    client.submit(f"/admin/users/{officer}/active", page=f"/admin/users/{officer}")
    assert _get(app, User, id=officer).active is False
    client.submit(f"/admin/users/{officer}/active", page=f"/admin/users/{officer}")
    assert _get(app, User, id=officer).active is True


def test_admin_cannot_disable_themself(client, world, app):
    client.login("admin")
    admin = world.admin.id
    client.submit(f"/admin/users/{admin}/active", page=f"/admin/users/{admin}")
    assert _get(app, User, id=admin).active is True


def test_password_reset_shows_a_one_time_password_that_works_once_changed(client, world):
    client.login("admin")
    page = client.submit(
        f"/admin/users/{world.officer.id}/reset-password", page=f"/admin/users/{world.officer.id}"
    ).get_data(as_text=True)
    temporary = page.split('data-testid="temporary-password">')[1].split("<")[0].strip()
    client.logout()
    client.login("officer", temporary)
    assert client.get("/").headers["Location"] == "/account/password"
    response = client.submit(
        "/account/password",
        {
            "current_password": temporary,
            "new_password": "my-own-new-password",
            "confirm": "my-own-new-password",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.logout()
    assert client.login("officer", "portal-demo").status_code == 200  # old one is gone


def test_changing_password_ends_other_sessions(app, client, world):
    from tests.conftest import PortalClient

    app.test_client_class = PortalClient
    laptop = app.test_client()
    laptop.login("officer")
    client.login("officer")
    client.submit(
        "/account/password",
        {
            "current_password": "portal-demo",
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert client.get("/").status_code == 200
    assert laptop.get("/").status_code == 302
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginSession)
            .where(LoginSession.revoked_at.is_(None))
        )
    assert live == 1


def test_wrong_current_password_is_refused(client, world):
    client.login("officer")
    _english(client)
    response = client.submit(
        "/account/password",
        {
            "current_password": "wrong-one",
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert "The current password is not correct." in response.get_data(as_text=True)


def test_user_switches_language_and_it_is_remembered(app, client, world):
    client.login("officer")
    client.submit("/account", {"locale": "en"})
    client.logout()
    client.submit("/language", {"locale": "zh"}, page="/login")
    client.login("officer")
    assert "Log out" in client.get("/").get_data(as_text=True)
    assert _get(app, User, username="officer").locale == "en"


def test_admin_creates_and_edits_a_branch(client, world, app):
    client.login("admin")
    client.submit("/admin/branches/new", {"code": "hz03", "name": "湖滨网点", "active": "y"})
    branch = _get(app, Branch, code="HZ03")
    assert branch.name == "湖滨网点"
    client.submit(f"/admin/branches/{branch.id}", {"code": "HZ03", "name": "湖滨二网点"})
    edited = _get(app, Branch, id=branch.id)
    assert edited.name == "湖滨二网点" and edited.active is False


def test_duplicate_branch_code_is_refused(client, world, app):
    client.login("admin")
    _english(client)
    response = client.submit(
        "/admin/branches/new", {"code": world.branch.name, "name": "Copy", "active": "y"}
    )
    assert "Another branch already has this code." in response.get_data(as_text=True)


def test_writes_are_audited_and_searchable(client, world, app):
    client.login("admin")
    client.submit("/admin/branches/new", {"code": "AU01", "name": "审计网点", "active": "y"})
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "branch.create"))
        assert entry.actor_name == "admin"
        assert entry.object_type == "Branch" and entry.object_id
        assert entry.created_at.tzinfo is not None
    page = client.get("/admin/audit/?action=branch.create").get_data(as_text=True)
    assert "AU01" in page
    assert "auth.login" not in page
