"""The chain of a borrower's signed visits: each signs the one before; verification names a break.

Changes are made behind the application's back, with raw SQL, as someone with the
database in hand would make them.
"""

import hashlib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.visits import chain, signing
from portal.visits.chain import Part, Problem
from portal.visits.models import Visit, VisitSignature
from tests.conftest import PortalClient
from tests.reports.helpers import pdf_of, save_page_one, text_of
from tests.visits.conftest import english, visit_form_data
from tests.visits.helpers import make_visit
from tests.visits.photo_helpers import photo_visit


def _sign_three(app, world, borrower=None, officer=None) -> list[int]:
    """Three visits of the officer's borrower, a week apart; their ids, oldest first."""
    with app.app_context():
        borrower = db.session.get(Borrower, borrower or world.own_borrower.id)
        officer = db.session.get(User, officer or world.officer.id)
        start = utcnow() - timedelta(days=15)
        ids = [make_visit(borrower, officer, start + timedelta(days=7 * i)).id for i in range(3)]
        db.session.commit()
        return ids


def _verify(app, borrower_id: int) -> chain.ChainCheck:
    with app.app_context():
        return chain.verify_chain(borrower_id)


def _sql(app, statement: str, **params) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _scalar(app, statement: str, **params):
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(sa.text(statement), params).scalar_one()


def _one_byte_changed(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def test_signed_visits_form_one_chain_that_verifies(app, world):
    ids = _sign_three(app, world)
    check = _verify(app, world.own_borrower.id)
    assert check.ok and check.first_break is None
    assert [record.visit_id for record in check.records] == ids
    first, second, third = check.records
    assert first.previous_hash == signing.GENESIS and first.first
    assert second.previous_hash == first.content_hash
    assert third.previous_hash == second.content_hash
    assert {record.version for record in check.records} == {signing.CURRENT_VERSION}
    assert not any(record.before_chain for record in check.records)
    assert _verify(app, world.foreign_borrower.id).records == []


@pytest.mark.parametrize(
    ("column", "part"),
    [("officer_observations", Part.RECORD), ("place", Part.RECORD), ("place_note", Part.RECORD)],
)
def test_one_byte_changed_in_the_answers_names_that_record(app, world, column, part):
    ids = _sign_three(app, world)
    value = _scalar(app, f"SELECT {column} FROM visits WHERE id = :id", id=ids[1])
    changed = (value or "")[:-1] + ("x" if not (value or "").endswith("x") else "y")
    _sql(app, f"UPDATE visits SET {column} = :value WHERE id = :id", value=changed, id=ids[1])
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert (check.first_break.problem, check.first_break.part) == (Problem.CONTENT, part)
    # Only that record: the next one still links to its stored hash.
    assert [record.visit_id for record in check.broken] == [ids[1]]


def test_one_byte_changed_in_the_signature_names_that_record(app, world):
    ids = _sign_three(app, world)
    png = _scalar(app, "SELECT png FROM visit_signatures WHERE visit_id = :id", id=ids[0])
    _sql(
        app,
        "UPDATE visit_signatures SET png = :png WHERE visit_id = :id",
        png=_one_byte_changed(bytes(png)),
        id=ids[0],
    )
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[0]
    assert (check.first_break.problem, check.first_break.part) == (Problem.CONTENT, Part.SIGNATURE)
    assert "signature" in check.first_break.reason


def test_a_signature_swapped_with_its_digest_column_still_names_the_record(app, world):
    """Another PNG with its SHA-256 written to the indexed column: the hash still differs."""
    ids = _sign_three(app, world)
    other = bytes(_scalar(app, "SELECT png FROM visit_signatures WHERE visit_id = :id", id=ids[2]))
    other = _one_byte_changed(other)
    _sql(app, "UPDATE visit_signatures SET png = :png WHERE visit_id = :id", png=other, id=ids[1])
    _sql(
        app,
        "UPDATE visits SET signature_sha256 = :digest WHERE id = :id",
        digest=hashlib.sha256(other).hexdigest(),
        id=ids[1],
    )
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.CONTENT


def test_a_changed_signature_digest_column_alone_names_the_record(app, world):
    # It is what finds a copied signature: hiding a copy there is a change too.
    ids = _sign_three(app, world)
    _sql(app, "UPDATE visits SET signature_sha256 = :d WHERE id = :id", d="0" * 64, id=ids[2])
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[2]
    assert (check.first_break.problem, check.first_break.part) == (Problem.CONTENT, Part.SIGNATURE)


def _photo_chain(app, world) -> list[int]:
    """Three visits of the officer's borrower, the middle one with three photos."""
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        start = utcnow() - timedelta(days=15)
        first = make_visit(borrower, officer, start).id
        middle = photo_visit(
            borrower, officer, start + timedelta(days=7), seeds=(1, 2, 3), size=(320, 240)
        ).id
        last = make_visit(borrower, officer, start + timedelta(days=14)).id
        db.session.commit()
        return [first, middle, last]


@pytest.mark.parametrize("column", ["jpeg", "thumb_jpeg"])
def test_one_byte_changed_in_a_photo_names_that_record(app, world, column):
    ids = _photo_chain(app, world)
    assert _verify(app, world.own_borrower.id).ok
    query = f"SELECT {column} FROM visit_photos WHERE visit_id = :id AND position = 1"
    image = bytes(_scalar(app, query, id=ids[1]))
    _sql(
        app,
        f"UPDATE visit_photos SET {column} = :image WHERE visit_id = :id AND position = 1",
        image=_one_byte_changed(image),
        id=ids[1],
    )
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert (check.first_break.problem, check.first_break.part) == (Problem.CONTENT, Part.PHOTO)
    assert [record.visit_id for record in check.broken] == [ids[1]]


def test_a_photo_swapped_for_another_with_its_digest_still_names_the_record(app, world):
    """Another image with its digest written to the column: the record's hash still differs."""
    ids = _photo_chain(app, world)
    _sql(
        app,
        "UPDATE visit_photos SET jpeg = (SELECT jpeg FROM visit_photos WHERE visit_id = :id"
        " AND position = 2), thumb_jpeg = (SELECT thumb_jpeg FROM visit_photos"
        " WHERE visit_id = :id AND position = 2), sha256 = (SELECT sha256 FROM visit_photos"
        " WHERE visit_id = :id AND position = 2) WHERE visit_id = :id AND position = 0",
        id=ids[1],
    )
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.CONTENT


def test_a_removed_photo_names_the_record(app, world):
    ids = _photo_chain(app, world)
    _sql(app, "DELETE FROM visit_photos WHERE visit_id = :id AND position = 1", id=ids[1])
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.PHOTO_MISSING
    _sql(app, "DELETE FROM visit_photos WHERE visit_id = :id AND position = 2", id=ids[1])
    check = _verify(app, world.own_borrower.id)  # the last one gone: the list is shorter
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.CONTENT


def test_a_missing_signature_names_the_record(app, world):
    ids = _sign_three(app, world)
    _sql(app, "DELETE FROM visit_signatures WHERE visit_id = :id", id=ids[1])
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.SIGNATURE_MISSING


def test_a_record_changed_and_sealed_again_breaks_the_link_of_the_next(app, world):
    """Whoever rewrites a record and recomputes its hash is caught by the record after it."""
    ids = _sign_three(app, world)
    _sql(app, "UPDATE visits SET satisfaction = 1 WHERE id = :id", id=ids[1])
    with app.app_context():
        visit = db.session.get(Visit, ids[1])
        resealed = signing.content_hash(visit, db.session.get(VisitSignature, ids[1]).png)
    _sql(app, "UPDATE visits SET content_hash = :h WHERE id = :id", h=resealed, id=ids[1])
    check = _verify(app, world.own_borrower.id)
    assert check.records[1].ok  # it verifies on its own now
    assert check.first_break.visit_id == ids[2]
    assert check.first_break.problem == Problem.LINK


def _remove(connection, visit_id: int) -> None:
    """Delete a visit row and whatever refers to it (signature, flags, photos …)."""
    for table in reversed(db.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table.name == "visits" and table.name != "visits":
                connection.execute(sa.delete(table).where(key.parent == visit_id))
    connection.execute(sa.text("DELETE FROM visits WHERE id = :id"), {"id": visit_id})


def _delete(app, visit_id: int) -> None:
    with app.app_context(), db.engine.begin() as connection:
        _remove(connection, visit_id)


def test_a_deleted_record_breaks_the_link_of_the_next(app, world):
    ids = _sign_three(app, world)
    _delete(app, ids[1])
    check = _verify(app, world.own_borrower.id)
    assert [record.visit_id for record in check.records] == [ids[0], ids[2]]
    assert check.first_break.visit_id == ids[2]
    assert check.first_break.problem == Problem.LINK
    assert "removed" in check.first_break.reason


def test_a_record_moved_to_the_end_breaks_the_chain_where_it_was(app, world):
    ids = _sign_three(app, world)
    with app.app_context(), db.engine.begin() as connection:
        visits = Visit.__table__
        row = dict(
            connection.execute(sa.select(visits).where(visits.c.id == ids[0])).one()._mapping
        )
        png = connection.execute(
            sa.text("SELECT png FROM visit_signatures WHERE visit_id = :id"), {"id": ids[0]}
        ).scalar_one()
        _remove(connection, ids[0])
        row["id"] = ids[2] + 100
        connection.execute(sa.insert(visits).values(**row))
        connection.execute(
            sa.text("INSERT INTO visit_signatures (visit_id, png) VALUES (:id, :png)"),
            {"id": row["id"], "png": png},
        )
    check = _verify(app, world.own_borrower.id)
    assert [record.visit_id for record in check.records] == [ids[1], ids[2], ids[2] + 100]
    assert check.first_break.visit_id == ids[1]  # it followed the moved record
    assert check.first_break.problem == Problem.LINK
    assert check.records[2].problem == Problem.LINK  # the moved record follows no one it names


def test_amendments_are_new_records_of_the_chain(app, world):
    ids = _sign_three(app, world)
    with app.app_context():
        original = db.session.get(Visit, ids[0])
        amendment = make_visit(
            original.borrower,
            db.session.get(User, world.head.id),
            original.visited_at,
            amends=original,
            satisfaction=2,
        )
        db.session.commit()
        amendment_id = amendment.id
    check = _verify(app, world.own_borrower.id)
    assert check.ok
    assert [record.visit_id for record in check.records] == [*ids, amendment_id]
    last = check.records[-1]
    assert last.amends_id == ids[0]
    assert last.previous_hash == check.records[2].content_hash  # the newest, not the original


def _as_before_the_chain(app, visit_id: int) -> None:
    """Rewrite a record as one signed before the evidence version (visit-v1)."""
    _sql(
        app,
        "UPDATE visits SET opened_at = NULL, opened_at_server = NULL, signed_at_device = NULL,"
        " received_at = NULL, location_status = NULL, place_note = NULL,"
        " previous_hash = NULL, signature_sha256 = NULL WHERE id = :id",
        id=visit_id,
    )
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        png = db.session.get(VisitSignature, visit_id).png
        sealed = signing.content_hash(visit, png, "visit-v1")
    _sql(app, "UPDATE visits SET content_hash = :h WHERE id = :id", h=sealed, id=visit_id)


def test_records_from_before_the_chain_verify_alone_and_the_chain_follows_them(client, app, world):
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        start = utcnow() - timedelta(days=20)
        old = [make_visit(borrower, officer, start + timedelta(days=i)).id for i in range(2)]
        db.session.commit()
    for visit_id in old:
        _as_before_the_chain(app, visit_id)
    with app.app_context():
        new = make_visit(
            db.session.get(Borrower, world.own_borrower.id),
            db.session.get(User, world.officer.id),
            utcnow() - timedelta(days=2),
        ).id
        db.session.commit()
    check = _verify(app, world.own_borrower.id)
    assert check.ok
    assert [(r.visit_id, r.before_chain, r.version) for r in check.records] == [
        (old[0], True, "visit-v1"),
        (old[1], True, "visit-v1"),
        (new, False, "visit-v2"),
    ]
    assert check.records[2].previous_hash == check.records[1].content_hash
    # The page says so.
    client.login("head")
    english(client)
    page = client.get(f"/borrowers/{world.own_borrower.id}/visits/chain").get_data(as_text=True)
    assert page.count("Before the chain") == 2 and 'data-chain="ok"' in page


def test_a_record_without_a_link_after_the_chain_began_breaks_it(app, world):
    ids = _sign_three(app, world)
    _as_before_the_chain(app, ids[1])
    check = _verify(app, world.own_borrower.id)
    assert check.first_break.visit_id == ids[1]
    assert check.first_break.problem == Problem.UNCHAINED
    assert check.records[2].problem == Problem.LINK


def test_two_visits_of_one_borrower_signed_at_once_do_not_fork_the_chain(app, world):
    """Four tablets post a visit of the same borrower at the same moment (real threads)."""
    app.test_client_class = PortalClient
    url = f"/borrowers/{world.own_borrower.id}/visits/new"
    tablets = []
    for index, username in enumerate(["officer", "officer", "head", "head"]):
        tablet = app.test_client()
        tablet.login(username)
        data = visit_form_data(str(index) * 28) | {"csrf_token": tablet.csrf_token(url)}
        tablets.append((tablet, data))
    start = threading.Barrier(len(tablets))
    answers = [None] * len(tablets)

    def send(index: int) -> None:
        tablet, data = tablets[index]
        start.wait()
        answers[index] = tablet.post(url, data=data).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(tablets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [302] * len(tablets)
    check = _verify(app, world.own_borrower.id)
    assert len(check.records) == len(tablets) and check.ok
    assert len({record.previous_hash for record in check.records}) == len(tablets)


# --- The command ------------------------------------------------------------------------


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["visits", "verify-chain", *args])


def test_the_command_exits_zero_when_chains_hold_and_one_naming_the_break(app, world):
    ids = _sign_three(app, world)
    _sign_three(app, world, world.foreign_borrower.id, world.other_officer.id)
    result = _run(app, "--borrower", str(world.own_borrower.id))
    assert result.exit_code == 0, result.output
    assert "the chain holds (3 records)" in result.output
    assert _run(app, "--all").exit_code == 0
    assert "All 2 chains hold (6 records verified)." in _run(app, "--all").output

    _sql(app, "UPDATE visits SET satisfaction = 2 WHERE id = :id", id=ids[1])
    result = _run(app, "--borrower", str(world.own_borrower.id))
    assert result.exit_code == 1
    assert f"the chain breaks at visit {ids[1]}" in result.output
    assert "no longer matches its hash" in result.output
    result = _run(app, "--all")
    assert result.exit_code == 1
    assert f"Borrower {world.own_borrower.id}: the chain breaks at visit {ids[1]}" in result.output
    assert "1 of 2 chains break" in result.output


def test_the_command_wants_one_borrower_or_all(app, world):
    assert _run(app).exit_code == 2
    assert _run(app, "--all", "--borrower", str(world.own_borrower.id)).exit_code == 2
    result = _run(app, "--borrower", "99999")
    assert result.exit_code == 2 and "no borrower 99999" in result.output


# --- The pages and the printed report ----------------------------------------------------


def test_the_chain_page_names_the_broken_record(client, app, world):
    ids = _sign_three(app, world)
    client.login("officer")
    english(client)
    visits_page = client.get(f"/borrowers/{world.own_borrower.id}/visits").get_data(as_text=True)
    assert f'href="/borrowers/{world.own_borrower.id}/visits/chain"' in visits_page
    page = client.get(f"/borrowers/{world.own_borrower.id}/visits/chain").get_data(as_text=True)
    assert 'data-chain="ok"' in page and "3 signed visits" in page
    png = bytes(_scalar(app, "SELECT png FROM visit_signatures WHERE visit_id = :id", id=ids[2]))
    _sql(
        app,
        "UPDATE visit_signatures SET png = :png WHERE visit_id = :id",
        png=_one_byte_changed(png),
        id=ids[2],
    )
    page = client.get(f"/borrowers/{world.own_borrower.id}/visits/chain").get_data(as_text=True)
    assert 'data-chain="broken"' in page
    assert f"(no. {ids[2]})" in page
    assert f'<tr data-visit="{ids[2]}" class="table-danger">' in page
    assert "The signature image differs from the one signed." in page


def test_the_borrower_sees_no_chain_link_on_their_own_visits(client, app, world):
    _sign_three(app, world)
    client.login("borrower")
    assert "visits/chain" not in client.get("/me/visits").get_data(as_text=True)
    detail = client.get(f"/visits/{_verify(app, world.own_borrower.id).records[0].visit_id}")
    assert "visits/chain" not in detail.get_data(as_text=True)


def test_the_visit_page_shows_its_times_and_both_hashes(client, app, world):
    ids = _sign_three(app, world)
    check = _verify(app, world.own_borrower.id)
    client.login("officer")
    english(client)
    first = client.get(f"/visits/{ids[0]}").get_data(as_text=True)
    assert "first record of the chain." in first
    page = client.get(f"/visits/{ids[1]}").get_data(as_text=True)
    assert check.records[1].content_hash in page
    assert f'<span class="font-monospace">{check.records[0].content_hash}</span>' in page
    assert 'data-testid="visit-times"' in page
    assert "Received by the server" in page and "Form opened (server clock)" in page


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_visit_report_prints_its_hash_and_the_previous_one(client, app, world, locale):
    ids = _sign_three(app, world)
    check = _verify(app, world.own_borrower.id)
    client.login("officer")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(f"/visits/{ids[1]}/report.pdf"))
    save_page_one(pdf, f"visits-chain-report-{locale}")
    text = text_of(pdf)
    assert check.records[1].content_hash in text
    assert check.records[0].content_hash in text
    first = text_of(pdf_of(client.get(f"/visits/{ids[0]}/report.pdf")))
    assert signing.GENESIS not in first
    if locale == "en":  # the Chinese catalogue is merged by the integrator
        assert "Previousrecord'shash" in text
        assert "None:theborrower'sfirstrecordofthechain." in first
