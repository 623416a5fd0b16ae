"""The borrower's own PDFs print what is theirs, not the company's judgements about them."""

from tests.reports.helpers import pdf_of, save_page_one, squeeze, text_of

# The red visit of ``records``: its level, its reason, and the tier in the dossier.
JUDGEMENTS = ["风险等级", "红色", "风险预警信号", "信贷员观察情况", "层级"]


def _visit_pdf(client, visit_id: int) -> str:
    return squeeze(text_of(pdf_of(client.get(f"/visits/{visit_id}/report.pdf"))))


def test_the_borrower_s_visit_report_leaves_out_risk_and_observations(client, records):
    client.login("borrower")
    pdf = pdf_of(client.get(f"/visits/{records.red_visit}/report.pdf"))
    save_page_one(pdf, "reports-visit-borrower-copy")
    text = squeeze(text_of(pdf))
    assert "贷后跟踪调查表" in text  # the report itself
    assert [word for word in JUDGEMENTS if word in text] == []


def test_staff_still_print_the_risk_level(client, records):
    client.login("head")
    text = _visit_pdf(client, records.red_visit)
    assert "风险等级" in text and "红色" in text and "信贷员观察情况" in text


def test_the_borrower_s_dossier_leaves_out_tier_and_visit_risk(client, world, records):
    client.login("borrower")
    text = squeeze(text_of(pdf_of(client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf"))))
    assert "借款人档案" in text
    assert [word for word in JUDGEMENTS if word in text] == []
    client.logout()
    client.login("head")
    staff = squeeze(text_of(pdf_of(client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf"))))
    assert "层级" in staff and "红色" in staff
