"""The pages offer their PDFs, and each link downloads one."""

import re

from tests.reports.helpers import pdf_of


def _pdf_links(page: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+\.pdf[^"]*)"', page)]


def test_the_visit_page_offers_its_report_to_the_officer_and_the_borrower(client, records):
    for user in ("officer", "borrower"):
        client.login(user)
        page = client.get(f"/visits/{records.red_visit}").get_data(as_text=True)
        assert _pdf_links(page) == [f"/visits/{records.red_visit}/report.pdf"]
        pdf_of(client.get(_pdf_links(page)[0]))
        client.logout()


def test_the_borrower_page_offers_the_dossier(client, world, records):
    client.login("officer")
    page = client.get(f"/borrowers/{world.own_borrower.id}").get_data(as_text=True)
    assert f"/borrowers/{world.own_borrower.id}/dossier.pdf" in _pdf_links(page)


def test_the_loan_page_offers_a_certificate_for_the_passed_sign_off_only(client, world, records):
    client.login("officer")
    page = client.get(f"/loans/{world.own_loan.id}").get_data(as_text=True)
    assert _pdf_links(page) == [f"/training/signoffs/{records.signoff}/certificate.pdf"]
    pdf_of(client.get(_pdf_links(page)[0]))


def test_the_compliance_page_prints_the_month_and_all_its_visits(client, world, records):
    client.login("head")
    page = client.get(f"/visits/compliance?month={records.month}").get_data(as_text=True)
    base = f"/reports/branch/{world.branch.name}/{records.month}"
    assert _pdf_links(page) == [
        f"{base}.pdf",
        f"{base}/visits.pdf",
    ]
    for link in _pdf_links(page):
        pdf_of(client.get(link))
