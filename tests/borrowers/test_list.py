"""The borrower list: search, filters, masking, paging, visibility and query counts."""

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower, Tier
from portal.branches.models import Branch
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.borrowers.helpers import fetch, page_text, search
from tests.factories import make_borrower, make_loan, make_user


def _add_borrowers(app, officer_id: int, count: int, **overrides) -> list[int]:
    with app.app_context():
        officer = db.session.get(User, officer_id)
        ids = [make_borrower(officer, **overrides).id for _ in range(count)]
        db.session.commit()
        return ids


def _named(app, officer_id: int, name: str, initials: str, **overrides) -> Borrower:
    ids = _add_borrowers(app, officer_id, 1, full_name=name, name_initials=initials, **overrides)
    return fetch(app, Borrower, id=ids[0])


def _rows(response) -> int:
    """Borrowers linked from a list page, or ticked on the reassignment page."""
    page = page_text(response)
    return len(re.findall(r'href="/borrowers/\d+"|name="borrower_ids"', page))


def test_ids_and_phones_are_masked_in_the_list(client, world, app):
    own = fetch(app, Borrower, id=world.own_borrower.id)
    client.login("officer")
    page = page_text(client.get("/borrowers/"))
    assert own.full_name in page
    assert f"{own.resident_id[:6]}********{own.resident_id[-4:]}" in page
    assert f"{own.mobile[:3]}****{own.mobile[-4:]}" in page
    assert own.resident_id not in page and own.mobile not in page


def test_search_by_name_initials_and_number_tails(client, world, app):
    wang = _named(
        app,
        world.officer.id,
        "王小明",
        "wxm",
        mobile="13912345678",
        mobile_tail="5678",
        resident_id="11010119850302106X",
        resident_id_tail="106X",
    )
    _named(app, world.officer.id, "李秀英", "lxy")
    client.login("officer")

    def found(query: str) -> bool:
        return f'href="/borrowers/{wang.id}"' in page_text(search(client, query))

    for query in (
        "小明",
        "王小明",
        "wxm",
        "WXM",
        "wx",
        "5678",
        "345678",
        "13912345678",
        "106X",
        "106x",
        "2106X",
    ):
        assert found(query), query
    for query in ("李", "lxy", "xm", "5679", "1234567", "0302106"):
        assert not found(query), query


def test_short_digit_search_asks_for_four(client, world):
    client.login("officer")
    page = page_text(client.get("/borrowers/", query_string={"q": "678"}))
    assert "请至少输入末 4 位" in page


def test_wildcards_are_searched_literally(client, world, app):
    client.login("officer")
    for query in ("%", "_", "%%%%"):
        assert "没有找到借款人" in page_text(client.get("/borrowers/", query_string={"q": query}))


def test_officer_never_finds_another_officers_borrower(client, world, app):
    foreign = fetch(app, Borrower, id=world.foreign_borrower.id)
    with app.app_context():
        colleague = make_user("colleague", Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
        colleague_id = colleague.id
    neighbour = _named(app, colleague_id, "赵大海", "zdh")
    client.login("officer")
    for other in (foreign, neighbour):
        for query in (
            other.full_name,
            other.name_initials,
            other.mobile[-4:],
            other.resident_id[-4:],
            other.mobile,
        ):
            page = page_text(search(client, query))
            assert f'href="/borrowers/{other.id}"' not in page, query
    # tampering with the officer filter shows nothing more
    page = page_text(client.get("/borrowers/", query_string={"officer": colleague_id}))
    assert f'href="/borrowers/{neighbour.id}"' not in page


def test_head_filters_by_officer_and_sees_only_their_branch(client, world, app):
    with app.app_context():
        colleague = make_user("colleague", Role.OFFICER, db.session.get(Branch, world.branch.id))
        db.session.commit()
        colleague_id = colleague.id
    neighbour = _named(app, colleague_id, "赵大海", "zdh")
    client.login("head")
    everyone = page_text(client.get("/borrowers/"))
    assert f'href="/borrowers/{neighbour.id}"' in everyone
    assert f'href="/borrowers/{world.own_borrower.id}"' in everyone
    assert f'href="/borrowers/{world.foreign_borrower.id}"' not in everyone
    only = page_text(client.get("/borrowers/", query_string={"officer": colleague_id}))
    assert f'href="/borrowers/{neighbour.id}"' in only
    assert f'href="/borrowers/{world.own_borrower.id}"' not in only
    assert f'value="{world.other_officer.id}"' not in everyone  # no other branch's officers


def test_filter_by_loan_status_and_tier(client, world, app):
    applied = _named(app, world.officer.id, "钱多多", "qdd", tier=Tier.KEY)
    with app.app_context():
        make_loan(db.session.get(Borrower, applied.id), LoanStatus.APPLIED)
        db.session.commit()
    client.login("officer")

    def listed(**args) -> set[int]:
        page = page_text(client.get("/borrowers/", query_string=args))
        return {b for b in (world.own_borrower.id, applied.id) if f'href="/borrowers/{b}"' in page}

    assert listed(status="active") == {world.own_borrower.id}
    assert listed(status="applied") == {applied.id}
    assert listed(status="closed") == set()
    assert listed(tier="key") == {applied.id}
    assert listed(status="nonsense", tier="nonsense") == {world.own_borrower.id, applied.id}


def test_paging(client, world, app):
    _add_borrowers(app, world.officer.id, 30)
    client.login("officer")
    first, second = client.get("/borrowers/"), client.get("/borrowers/?page=2")
    assert _rows(first) == 25 and _rows(second) == 6
    assert "31" in page_text(first)  # the total


def test_borrowers_cannot_list(client, world):
    client.login("borrower")
    assert client.get("/borrowers/").status_code == 403


@contextmanager
def _count_queries(app):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("path", ["/borrowers/", "/borrowers/reassign"])
def test_list_queries_do_not_grow_with_rows(client, world, app, path):
    client.login("admin")
    client.get(path)  # warm up
    with _count_queries(app) as few:
        client.get(path)
    for officer in (world.officer.id, world.other_officer.id):
        _add_borrowers(app, officer, 12)
    with _count_queries(app) as many:
        response = client.get(path)
    assert _rows(response) >= 25
    assert len(many) == len(few), many
