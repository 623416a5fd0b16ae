"""The integrity-training certificate and the borrower dossier."""

import pytest

from tests.reports.helpers import (
    assert_cjk_font_embedded,
    assert_printed,
    english,
    exports,
    images_on,
    pdf_of,
    reader,
    save_page_one,
    text_of,
)

CERTIFICATE = {
    "zh": ["诚信培训合格证书", "兹证明", "第 1 版", "正确率 100%", "合格线 80%", "在场信贷员",
           "已验证：签名后记录未被改动", "JK-000001"],
    "en": ["Integrity training certificate", "This certifies that", "(version 1)",
           "answered 100% of the questions correctly (pass mark 80%)", "Loan officer present",
           "Verified: the record is unchanged since signing"],
}  # fmt: skip
DOSSIER = {
    "zh": ["借款人档案", "基本信息", "贷款", "诚信培训", "贷后走访", "个性化服务", "JK-000001",
           "已通过", "未通过", "种养殖技术培训", "红色", "更正"],
    "en": ["Borrower dossier", "Profile", "Loans", "Integrity training", "Follow-up visits",
           "Personalized services", "JK-000001", "Passed", "Not passed",
           "Planting / breeding technique training", "Red", "Amendment"],
}  # fmt: skip


@pytest.fixture
def certified_loan(app, world, records):
    """The World's loan as trained by the passed sign-off, so the certificate names it."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.loans.models import Loan

    with app.app_context():
        db.session.execute(
            sa.update(Loan)
            .where(Loan.id == world.own_loan.id)
            .values(training_signoff_id=records.signoff)
        )
        db.session.commit()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_passed_sign_off_prints_as_a_certificate(client, world, records, certified_loan, locale):
    client.login("officer")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(f"/training/signoffs/{records.signoff}/certificate.pdf"))
    save_page_one(pdf, f"reports-certificate-{locale}")
    text = text_of(pdf)
    assert_printed(text, [*CERTIFICATE[locale], world.own_borrower.name])
    assert len(reader(pdf).pages) == 1
    assert images_on(pdf) == 1  # the borrower's drawn signature
    assert_cjk_font_embedded(pdf)


def test_a_failed_attempt_has_no_certificate(client, records):
    client.login("officer")
    assert (
        client.get(f"/training/signoffs/{records.failed_signoff}/certificate.pdf").status_code
        == 404
    )


def test_the_borrower_downloads_their_own_certificate_and_it_is_audited(app, client, records):
    client.login("borrower")
    pdf_of(client.get(f"/training/signoffs/{records.signoff}/certificate.pdf"))
    [entry] = exports(app, "report.training_certificate")
    assert (entry.actor_name, entry.object_type, entry.object_id) == (
        "borrower",
        "TrainingSignoff",
        str(records.signoff),
    )


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_dossier_gathers_profile_loans_training_visits_and_services(
    app, client, world, records, locale
):
    from portal.borrowers.models import Borrower
    from portal.extensions import db

    with app.app_context():
        resident_id = db.session.get(Borrower, world.own_borrower.id).resident_id
    client.login("head")
    if locale == "en":
        english(client)
    pdf = pdf_of(client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf"))
    save_page_one(pdf, f"reports-dossier-{locale}")
    text = text_of(pdf)
    assert_printed(text, DOSSIER[locale])
    assert resident_id not in text and resident_id[-4:] in text  # masked, as in lists
    assert len(reader(pdf).pages) in (1, 2)
    assert_cjk_font_embedded(pdf)
    [entry] = exports(app, "report.borrower_dossier")
    assert (entry.actor_name, entry.object_id) == ("head", str(world.own_borrower.id))


def test_the_borrower_may_download_their_own_dossier_only(client, world, records):
    client.login("borrower")
    pdf_of(client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf"))
    assert client.get(f"/borrowers/{world.foreign_borrower.id}/dossier.pdf").status_code == 403


def test_the_dossier_says_how_an_active_loan_is_repaid(client, world, records):
    """An active loan repaid on time says so; "—" is kept for loans not yet disbursed."""
    client.login("head")
    text = text_of(pdf_of(client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf")))
    assert "按时还款" in text
