"""The visit report: one signed follow-up form on A4, read back from the PDF."""

import pytest
import sqlalchemy as sa

from portal.extensions import db
from tests.reports.conftest import HOSTILE_ANSWER, HOSTILE_NAME
from tests.reports.helpers import (
    LogRecords,
    assert_cjk_font_embedded,
    assert_printed,
    english,
    exports,
    images_on,
    page_texts,
    pdf_of,
    reader,
    save_page_one,
    text_of,
)

EXPECTED = {
    "zh": ["贷后跟踪调查表", "借款人", "信贷员", "调查内容", "风险等级", "红色", "还款逾期",
           "内容哈希", "已验证：签名后记录未被改动", "借款人签名"],
    "en": ["Post-loan follow-up form", "Borrower", "Loan officer", "Answers", "Risk level", "Red",
           "Repayment overdue", "Content hash", "Verified: the record is unchanged since signing",
           "Borrower's signature"],
}  # fmt: skip


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_signed_visit_prints_on_one_page_with_signature_and_hash(
    app, client, world, records, locale
):
    client.login("officer")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(f"/visits/{records.red_visit}/report.pdf"))
    save_page_one(pdf, f"reports-visit-{locale}")
    text = text_of(pdf)
    # Every label, the borrower, and an answer as the officer typed it.
    assert_printed(text, [*EXPECTED[locale], world.own_borrower.name, "猪舍干净"])
    assert len(reader(pdf).pages) == 1
    assert images_on(pdf) == 1  # the drawn signature, from a data: URI
    assert_cjk_font_embedded(pdf)


def test_ids_and_phones_are_masked_as_in_lists(app, client, world, records):
    from portal.borrowers.models import Borrower

    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        resident_id, mobile = borrower.resident_id, borrower.mobile
    client.login("head")
    text = text_of(pdf_of(client.get(f"/visits/{records.red_visit}/report.pdf")))
    assert resident_id not in text and mobile not in text
    assert_printed(text, [resident_id[:6] + "********" + resident_id[-4:]])
    assert_printed(text, [mobile[:3] + "****" + mobile[-4:]])


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_an_amendment_shows_what_it_amends(client, records, locale):
    client.login("head")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(f"/visits/{records.amendment}/report.pdf"))
    text = text_of(pdf)
    amends = {
        "zh": f"本记录修正第 {records.red_visit} 号走访",
        "en": f"amends visit no. {records.red_visit}",
    }
    versions = {"zh": "本走访的各版本", "en": "Versions of this visit"}[locale]
    # Before and after of each changed answer, and every version of the visit.
    assert_printed(
        text,
        [amends[locale], "猪舍干净，存栏正常。", "复查：已恢复营业。", "5 / 5", "3 / 5", versions],
    )
    save_page_one(pdf, f"reports-visit-amendment-{locale}")


def test_html_and_css_in_a_name_or_answer_print_as_text(client, records):
    client.login("officer")
    with LogRecords() as log:
        pdf = pdf_of(client.get(f"/visits/{records.hostile_visit}/report.pdf"))
    text = text_of(pdf)
    assert_printed(text, [HOSTILE_NAME, HOSTILE_ANSWER])
    # The markup was never markup: nothing was fetched, nothing else was drawn.
    assert b"root:" not in pdf
    assert not [message for message in log.messages if "fetch" in message]
    assert images_on(pdf) == 1


def test_the_borrower_downloads_their_own_visit_report_and_it_is_audited(app, client, records):
    client.login("borrower")
    response = client.get(f"/visits/{records.red_visit}/report.pdf")
    pdf_of(response)
    entries = exports(app, "report.visit")
    assert [(e.actor_name, e.object_type, e.object_id) for e in entries] == [
        ("borrower", "Visit", str(records.red_visit))
    ]
    assert client.get(f"/visits/{records.foreign_visit}/report.pdf").status_code == 403


@pytest.mark.parametrize(
    ("locale", "disposition"),
    [
        ("en", 'attachment; filename="visit-{id}-{month}.pdf"'),
        (
            "zh",
            "attachment; filename=\"visit-{id}-{month}.pdf\"; filename*=UTF-8''"
            "%E8%B5%B0%E8%AE%BF%E6%8A%A5%E5%91%8A-{id}-{month}.pdf",
        ),
    ],
)
def test_the_file_name_is_ascii_with_the_chinese_name_beside_it(
    client, records, locale, disposition
):
    client.login("officer")
    if locale == "en":
        english(client)
    response = client.get(f"/visits/{records.red_visit}/report.pdf")
    expected = disposition.format(id=records.red_visit, month=records.month)
    assert response.headers["Content-Disposition"] == expected


def test_every_page_has_its_number_and_the_footer(client, records):
    client.login("officer")
    texts = page_texts(pdf_of(client.get(f"/visits/{records.red_visit}/report.pdf")))
    for number, text in enumerate(texts, 1):
        assert_printed(text, [f"{number} / {len(texts)}", "打印人 officer"])


def test_on_sqlite_the_export_audit_write_takes_the_write_lock_up_front(app, client, records):
    """A GET that writes (the export's audit row) must not upgrade a read transaction:
    SQLite refuses that at once when another writer committed since the read began (under
    load, PDFs were answered 503). Its transactions begin IMMEDIATE, as a POST's do."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 2)[:2])

    client.login("borrower")
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        pdf_of(client.get(f"/visits/{records.red_visit}/report.pdf"))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    insert = next(i for i, words in enumerate(statements) if words == ["INSERT", "INTO"])
    began = [words for words in statements[:insert] if words[0] == "BEGIN"]
    assert began[-1] == ["BEGIN", "IMMEDIATE"], statements[: insert + 1]
