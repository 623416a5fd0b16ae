"""The visit pack: a month's signed visit reports as one PDF, built in parallel."""

import pytest
from flask_babel import force_locale

from portal.branches.models import Branch
from portal.core.calendar import Month
from portal.extensions import db
from portal.reports import data, pack, queries
from tests.reports.helpers import (
    assert_cjk_font_embedded,
    assert_printed,
    exports,
    images_in,
    images_on,
    page_texts,
    pdf_of,
    save_page_one,
    text_of,
)


def _url(world, records) -> str:
    return f"/reports/branch/{world.branch.name}/{records.month}/visits.pdf"


def test_the_head_prints_every_signed_visit_of_the_month_after_a_cover(app, client, world, records):
    client.login("head")
    pdf = pdf_of(client.get(_url(world, records)))
    save_page_one(pdf, "reports-visit-pack-zh")
    pages = page_texts(pdf)
    # The cover, then the visits in the order they took place: the red one and the
    # hostile borrower's at the same time, the amendment (on two pages) later.
    assert_printed(pages[0], ["月度走访报告汇编", world.branch.name, records.month, "3"])
    visit_numbers = [records.red_visit, records.hostile_visit, records.amendment]
    firsts = [i for i, page in enumerate(pages) if "贷后跟踪调查表" in page and "1/" in page]
    assert len(firsts) == 3
    for page, number in zip(firsts, visit_numbers, strict=True):
        assert_printed(pages[page], [f"走访编号 {number}"])
    assert images_on(pdf, 0) == 0 and images_on(pdf, firsts[0]) == 1
    assert_cjk_font_embedded(pdf)
    [entry] = exports(app, "report.visit_pack")
    assert entry.summary == f"{world.branch.name} {records.month}: 3 visits"


def test_the_pack_is_the_same_whether_built_in_workers_or_here(app, world, records, monkeypatch):
    with app.test_request_context(), force_locale("en"):
        branch = db.session.get(Branch, world.branch.id)
        part = pack.whole_month(queries.month_visits(branch.id, Month.parse(records.month)))
        cover = data.pack_cover(branch, records.month, part, 1)
        printing = data.Printing("2026-11-22 10:00", "test")
        db.session.commit()
        here = pack.build(cover, part.visit_ids, printing, "en", workers=1)
        monkeypatch.setattr(pack, "IN_PROCESS_BELOW", 0)
        in_workers = pack.build(cover, part.visit_ids, printing, "en", workers=2)
    assert page_texts(in_workers) == page_texts(here)
    assert len(page_texts(here)) == 1 + 4
    assert_printed(text_of(in_workers), ["Post-loan follow-up form"])
    assert images_in(in_workers) == 3  # one drawn signature per visit


def test_a_month_without_visits_prints_a_cover_that_says_so(client, world):
    client.login("head")
    pdf = pdf_of(client.get(f"/reports/branch/{world.branch.name}/2026-01/visits.pdf"))
    assert_printed(text_of(pdf), ["本月没有已签名的走访。"])


@pytest.mark.parametrize(
    ("args", "action"),
    [
        (["visit", "{red_visit}"], "report.visit"),
        (["branch-month", "{branch}", "{month}"], "report.branch_month"),
        (["visit-pack", "{branch}", "{month}", "--workers", "1"], "report.visit_pack"),
    ],
)
def test_the_command_line_writes_each_report_and_audits_it(
    app, world, records, tmp_path, args, action
):
    out = tmp_path / "report.pdf"
    values = {"red_visit": records.red_visit, "branch": world.branch.name, "month": records.month}
    arguments = ["reports", *(a.format(**values) for a in args), "-o", str(out), "--locale", "en"]
    result = app.test_cli_runner().invoke(args=arguments)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert_printed(text_of(out.read_bytes()), [world.branch.name])
    [entry] = exports(app, action)
    assert entry.actor_name == "system" and "(command line)" in entry.summary


def test_the_command_line_names_what_it_cannot_find(app, world, tmp_path):
    runner = app.test_cli_runner()
    out = str(tmp_path / "x.pdf")
    assert "no visit 999" in runner.invoke(args=["reports", "visit", "999", "-o", out]).output
    result = runner.invoke(args=["reports", "branch-month", "NOPE", "2026-11", "-o", out])
    assert "no branch with the code 'NOPE'" in result.output
    result = runner.invoke(args=["reports", "visit-pack", world.branch.name, "11-2026", "-o", out])
    assert "is not a month like 2026-11" in result.output
