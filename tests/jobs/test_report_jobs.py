"""Reports as jobs: the whole month's visit pack rendered by a real worker, its progress
on the page (and after a reload), the stored file reused until its data changes."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.core.calendar import current_month
from portal.database import utcnow
from portal.extensions import db
from portal.jobs import operations
from portal.jobs.models import Job, JobStatus
from tests.jobs.helpers import running_worker, wait_for
from tests.reports.helpers import pdf_of, reader
from tests.visits.helpers import make_visit

# More than the 300 visits the pack used to be cut into parts of.
VISITS = 301


def _visits(app, world, count: int) -> str:
    with app.app_context():
        borrower = db.session.get(Borrower, world.own_borrower.id)
        officer = db.session.get(User, world.officer.id)
        start = utcnow() - timedelta(minutes=count + 5)
        for n in range(count):
            make_visit(borrower, officer, start + timedelta(minutes=n))
        db.session.commit()
        return str(current_month())


def english(client) -> None:
    """Read the pages in English (the test does not depend on the merged catalogue)."""
    assert (
        client.submit("/language", {"locale": "en", "next": "/"}, page="/account").status_code
        == 302
    )


def _job(app, job_id: int) -> Job:
    # Read as a page reads (a GET): on SQLite it takes no write lock from the worker.
    with app.test_request_context(method="GET"):
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_a_month_bigger_than_a_part_is_rendered_whole_by_the_worker(
    queued_app, queued_client, world, monkeypatch
):
    month = _visits(queued_app, world, VISITS)
    client = queued_client
    client.login("head")
    english(client)
    url = f"/reports/branch/{world.branch.name}/{month}/visits.pdf"

    # Asking queues a job and leads to its page; without a worker it waits.
    asked = client.get(url)
    assert asked.status_code == 302
    job_url = asked.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    assert "Waiting for the worker" in client.get(job_url).get_data(as_text=True)
    assert client.get(url).headers["Location"] == job_url  # asking again queues nothing new

    # The worker stops after its first progress step until the page has been reloaded.
    reloaded, real_progress = threading.Event(), operations.progress

    def progress(job, done, total):
        real_progress(job, done, total)
        if done:
            reloaded.wait(timeout=120)

    monkeypatch.setattr(operations, "progress", progress)
    with running_worker(queued_app):
        status = wait_for(lambda: (s := client.get(f"{job_url}/status.json").json)["done"] and s)
        assert status["status"] == "running" and status["total"] == VISITS
        assert status["download"] is None
        page = client.get(job_url).get_data(as_text=True)  # a reload during rendering
        assert f"Rendering {status['done']} of {VISITS} visit reports" in page
        assert status["text"] == f"Rendering {status['done']} of {VISITS} visit reports…"
        reloaded.set()
        # Rendering takes seconds on a quiet machine; the bound only stops a hung run.
        wait_for(lambda: _job(queued_app, job_id).status != JobStatus.RUNNING, timeout=1200)

    job = _job(queued_app, job_id)
    assert job.status == JobStatus.DONE, job.error
    assert (job.progress_done, job.progress_total) == (VISITS, VISITS)
    finished = client.get(f"{job_url}/status.json").json
    assert finished["download"] == f"{job_url}/file.pdf"
    pdf = pdf_of(client.get(finished["download"]))
    assert len(reader(pdf).pages) == 1 + VISITS  # the cover, then one page per visit
    assert "attachment" in client.get(url).headers.get("Content-Disposition", "")  # reused

    with queued_app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("job.report_requested") == 1
    assert actions.count("report.visit_pack") == 2  # two downloads, each audited


def test_a_new_visit_renders_the_pack_afresh(app, client, world):
    month = _visits(app, world, 2)
    client.login("head")
    url = f"/reports/branch/{world.branch.name}/{month}/visits.pdf"
    assert len(reader(pdf_of(client.get(url))).pages) == 3
    assert len(reader(pdf_of(client.get(url))).pages) == 3
    _visits(app, world, 1)
    assert len(reader(pdf_of(client.get(url))).pages) == 4
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 2


def test_an_expired_file_is_not_served(app, client, world):
    month = _visits(app, world, 1)
    client.login("head")
    english(client)
    url = f"/reports/branch/{world.branch.name}/{month}/visits.pdf"
    pdf_of(client.get(url))
    with app.app_context():
        assert operations.clean_up(utcnow() + timedelta(days=2)) == 1
        [job_id] = db.session.scalars(sa.select(Job.id)).all()
    assert client.get(f"/reports/jobs/{job_id}/file.pdf").status_code == 302
    assert "The file has expired" in client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)


def test_another_user_cannot_download_a_file_asked_for_by_someone_else(app, client, world):
    month = _visits(app, world, 1)
    client.login("head")
    pdf_of(client.get(f"/reports/branch/{world.branch.name}/{month}/visits.pdf"))
    with app.app_context():
        [job_id] = db.session.scalars(sa.select(Job.id)).all()
    client.logout()
    client.login("admin")
    assert client.get(f"/reports/jobs/{job_id}/file.pdf").status_code == 403
    assert client.get(f"/reports/jobs/{job_id}/status.json").status_code == 403


def test_a_head_moved_to_another_branch_loses_the_file(app, client, world):
    month = _visits(app, world, 1)
    client.login("head")
    pdf_of(client.get(f"/reports/branch/{world.branch.name}/{month}/visits.pdf"))
    with app.app_context():
        [job_id] = db.session.scalars(sa.select(Job.id)).all()
        db.session.get(User, world.head.id).branch_id = world.other_branch.id
        db.session.commit()
    assert client.get(f"/reports/jobs/{job_id}/file.pdf").status_code == 403
