"""The admin's queue page, the retry, the worker's heartbeat in /healthz and on the home page."""

from datetime import timedelta

import sqlalchemy as sa

from portal.database import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobKind, JobStatus, WorkerBeat
from portal.jobs.queue import Heartbeat
from tests.jobs.helpers import failed_run, wait_for


def _english(client):
    assert (
        client.submit("/language", {"locale": "en", "next": "/"}, page="/account").status_code
        == 302
    )


def test_the_queue_page_shows_waiting_running_and_failed_jobs_with_their_error(app, client, world):
    with app.app_context():
        failed = failed_run(error="ConnectionError: gateway unreachable").id
        db.session.add(Job(kind=JobKind.VISIT_PACK, branch_id=world.branch.id, month="2026-11"))
        db.session.add(
            Job(
                kind=JobKind.BORROWER_DOSSIER,
                borrower_id=world.own_borrower.id,
                status=JobStatus.RUNNING,
                progress_done=1,
                progress_total=1,
                worker="host:123",
            )
        )
        db.session.commit()
    client.login("admin")
    _english(client)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert 'data-testid="jobs-queued"' in page and "Visit reports of the month" in page
    assert 'data-testid="jobs-running"' in page and "host:123" in page
    assert "ConnectionError: gateway unreachable" in page
    assert f"/admin/jobs/{failed}/retry" in page
    assert "No worker has run yet" in page


def test_retry_runs_a_failed_job_again(app, client, world):
    with app.app_context():
        failed = failed_run().id
        db.session.commit()
    client.login("admin")
    response = client.submit(f"/admin/jobs/{failed}/retry", page="/admin/jobs")
    assert response.status_code == 302
    with app.app_context():
        job = db.session.get(Job, failed)
        assert (job.status, job.error, job.attempts) == (JobStatus.DONE, "", 1)
        assert job.summary.startswith("Greetings: 0 queued")
        actions = db.session.scalars(sa.select(sa.text("action FROM audit_entries"))).all()
        assert "job.retried" in actions
    # Done now: a second retry is refused and changes nothing.
    client.submit(f"/admin/jobs/{failed}/retry", page="/admin/jobs")
    with app.app_context():
        assert db.session.get(Job, failed).attempts == 1


def test_a_running_job_is_retried_only_once_its_worker_has_stopped(app, client, world):
    with app.app_context():
        db.session.add(WorkerBeat(name="alive:1", beat_at=utcnow()))
        jobs = [
            Job(kind=JobKind.CARE_RETRY, status=JobStatus.RUNNING, worker=worker)
            for worker in ("alive:1", "killed:2")
        ]
        db.session.add_all(jobs)
        db.session.commit()
        alive, killed = (job.id for job in jobs)
    client.login("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f"/admin/jobs/{killed}/retry" in page and f"/admin/jobs/{alive}/retry" not in page
    client.submit(f"/admin/jobs/{alive}/retry", page="/admin/jobs")
    client.submit(f"/admin/jobs/{killed}/retry", page="/admin/jobs")
    with app.app_context():
        assert db.session.get(Job, alive).status == JobStatus.RUNNING
        assert db.session.get(Job, killed).status == JobStatus.DONE


def test_the_admin_home_links_the_queue_and_counts_failures(app, client, world):
    with app.app_context():
        failed_run()
        db.session.commit()
    client.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="desk-jobs"' in page and "/admin/jobs" in page


def test_healthz_reports_the_workers_heartbeat(app, client):
    assert client.get("/healthz").json["worker"] == "none"
    heartbeat = Heartbeat(app)
    heartbeat.start()
    try:
        wait_for(lambda: client.get("/healthz").json["worker"] == "fresh", timeout=30)
        assert client.get("/healthz").json["status"] == "ok"
    finally:
        heartbeat.stop()
    assert client.get("/healthz").json["worker"] == "none"  # a clean stop says goodbye

    with app.app_context():
        db.session.add(WorkerBeat(name="gone:1", beat_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert (health.json["status"], health.json["worker"]) == ("degraded", "stale")


def test_a_borrower_downloads_their_own_dossier_copy_without_internal_assessments(
    app, client, world
):
    client.login("borrower")
    response = client.get(f"/borrowers/{world.own_borrower.id}/dossier.pdf")
    assert response.status_code == 200
    with app.app_context():
        [job] = db.session.scalars(sa.select(Job)).all()
        assert (job.kind, job.internal, job.requested_by_id) == (
            JobKind.BORROWER_DOSSIER,
            False,
            world.borrower.id,
        )
