"""Background jobs: imports and exports run by a worker, their pages, a killed worker, and
one survey import at a time."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from initiatives.roles import SURVEY_MANAGER
from survey import jobs
from survey.exports import export_lines
from survey.jobs import execute_job, prune_jobs, reap_stale_jobs, survey_import_start
from survey.models import Job, Response, Wave
from survey.uploads import keep_upload
from tests.factories import staff_in_role

HEADER = "wave,country,respondent,sector,question,item,answer\n"


def survey_text(count=5, wave="OECD-2010"):
    return HEADER + "".join(
        f"{wave},FIN,r{n},03,barriers,resources,{'yes' if n % 2 else 'no'}\n" for n in range(count)
    )


@pytest.fixture(autouse=True)
def _fast_beats(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05


@pytest.fixture
def manager(db):
    return staff_in_role(SURVEY_MANAGER)


def start(owner, text, **options):
    key = keep_upload(SimpleUploadedFile("s.csv", text.encode()), owner=owner)
    return survey_import_start(owner=owner, upload_key=key, name="s.csv", **options)


def test_an_import_job_records_progress_and_outcome(manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = start(manager, survey_text(25))
    assert len(callbacks) == 1  # handed to the engine once the transaction commits
    assert job.status == Job.Status.QUEUED
    execute_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert (job.rows_read, job.rows_total, job.rows_written) == (25, 25, 25)
    assert job.outcome["ok"]
    assert job.outcome["responses_created"] == 25
    assert "25 rows read" in job.message
    assert Response.objects.count() == 25
    execute_job(job.pk)  # delivered twice: runs once
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_refused_file_ends_with_its_problems_and_writes_nothing(manager):
    job = start(manager, survey_text(3) + "OECD-2010,XXX,r9,03,barriers,resources,yes\n")
    execute_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert not job.outcome["ok"]
    assert [(e["line"], e["column"]) for e in job.outcome["errors"]] == [(5, "country")]
    assert Response.objects.count() == 0


def test_a_wide_import_job_takes_the_mapping_and_the_wave(manager):
    text = "id,country,sector,barriers[resources]\n1,FIN,03,Y\n"
    job = start(manager, text, mapping="limesurvey", wave="OECD-2010")
    execute_job(job.pk)
    job.refresh_from_db()
    assert job.outcome["ok"], job.outcome
    assert Response.objects.count() == 1


def test_the_admin_runs_a_large_upload_as_a_job_and_shows_its_page(manager, settings, client):
    settings.JOB_IMPORT_BYTES = 10
    client.force_login(manager)
    upload = SimpleUploadedFile("big.csv", survey_text(4).encode())
    response = client.post("/admin/survey/response/import/", {"file": upload})
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == f"/admin/survey/job/{job.pk}/change/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "<progress" in html
    # The status block is read again while the job runs (coprod/job.js), not the whole
    # page reloaded: a meta refresh fails WCAG 2.2.1 (tests/browser/test_job_pages.py).
    assert "data-poll=" in html
    assert "coprod/job.js" in html
    assert 'http-equiv="refresh"' not in html
    execute_job(job.pk)
    html = client.get(response["Location"]).content.decode()
    assert "4 rows read" in html
    assert "data-poll=" not in html
    site = client.get(f"/jobs/{job.pk}/")
    assert site.status_code == 200
    assert "4 rows read" in site.content.decode()
    french = client.get(f"/fr/jobs/{job.pk}/")
    assert "Lignes lues" in french.content.decode()


def test_a_job_page_is_for_its_owner_only(manager):
    job = start(manager, survey_text(2))
    other = Client()
    other.force_login(staff_in_role(SURVEY_MANAGER))
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/admin/survey/job/{job.pk}/change/").status_code in (302, 403, 404)
    # A URL that names no job at all is told so, not a server error.
    client = Client()
    client.force_login(manager)
    assert client.get(f"/admin/survey/job/{job.pk}/change/widgets.css/change/").status_code == 302
    assert client.get("/admin/survey/job/not-a-uuid/change/").status_code == 302
    assert other.post(f"/jobs/{job.pk}/retry/").status_code == 404
    assert Client().get(f"/jobs/{job.pk}/").status_code == 302  # to the sign-in page


def test_an_export_job_keeps_its_file_for_its_owner_for_a_time(manager, settings, client):
    settings.JOB_EXPORT_ROWS = 0
    from survey.imports import import_survey

    assert import_survey(io.BytesIO(survey_text(3).encode())).ok
    client.force_login(manager)
    response = client.get("/admin/survey/response/export/?wave=OECD-2010")
    assert response.status_code == 302
    job = Job.objects.get(kind=Job.Kind.SURVEY_EXPORT)
    execute_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.rows_written == 3
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert body == "".join(export_lines(wave=Wave.objects.get(code="OECD-2010")))
    other = Client()
    other.force_login(staff_in_role(SURVEY_MANAGER))
    assert other.get(f"/jobs/{job.pk}/download/").status_code == 404
    Job.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(hours=settings.JOB_KEEP_HOURS, minutes=1)
    )
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404
    assert prune_jobs() >= 1
    assert not default_storage.exists(job.result_file)


def test_showing_a_job_whose_worker_is_alive_writes_nothing(manager, client):
    """The job page runs while an import holds the write lock (SQLite): it only reads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = start(manager, survey_text(3))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/jobs/{job.pk}/").status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert not [sql for sql in writes if "survey_job" in sql], writes


def test_a_job_whose_worker_went_silent_fails_and_can_be_retried(manager, settings, client):
    job = start(manager, survey_text(3))
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1),
    )
    assert reap_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Retry" in job.message
    client.force_login(manager)
    assert "Retry" in client.get(f"/jobs/{job.pk}/").content.decode()
    assert client.post(f"/jobs/{job.pk}/retry/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    execute_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.attempts == 1
    assert Response.objects.count() == 3


def test_two_jobs_with_one_lock_cannot_both_be_running(manager):
    first = start(manager, survey_text(2))
    second = start(manager, survey_text(2))
    Job.objects.filter(pk=first.pk).update(status=Job.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=second.pk).update(status=Job.Status.RUNNING)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_second_import_waits_for_the_first_to_end(monkeypatch):
    manager = staff_in_role(SURVEY_MANAGER)
    monkeypatch.setattr(jobs, "LOCK_POLL_SECONDS", 0.05)
    first = start(manager, survey_text(3))
    second = start(manager, survey_text(3, wave="OECD-2010"))
    Job.objects.filter(pk=first.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now())

    def run():
        try:
            execute_job(second.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.5)
    waiting = Job.objects.get(pk=second.pk)
    assert waiting.status == Job.Status.QUEUED
    assert "Waiting for another survey import" in waiting.phase
    assert Response.objects.count() == 0
    Job.objects.filter(pk=first.pk).update(status=Job.Status.DONE)
    worker.join(timeout=120)
    assert Job.objects.get(pk=second.pk).status == Job.Status.DONE
    assert Response.objects.count() == 3


def test_a_worker_told_to_stop_at_once_fails_the_job_and_writes_nothing(manager, monkeypatch):
    import survey.importrows as importrows

    job = start(manager, survey_text(30))
    monkeypatch.setattr(importrows, "PROGRESS_EVERY", 5)

    def interrupted(self, count):
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs._Heartbeat, "add_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execute_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Retry" in job.message
    assert Response.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_by_any_door_waits_for_the_one_running(tmp_path):
    """Two imports never run at once: the second (here a direct one) waits on PostgreSQL's
    lock until the first commits, then finds its records stored."""
    if connection.vendor != "postgresql":
        pytest.skip("the import lock is PostgreSQL's; SQLite lets one writer in at a time")
    import psycopg

    from survey.imports import _IMPORT_LOCK_KEY, import_survey

    config = connection.settings_dict
    holder = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname=config["NAME"],
    )
    holder.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])  # an import runs
    done = []

    def second():
        try:
            done.append(import_survey(io.BytesIO(survey_text(3).encode())))
        finally:
            connection.close()

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(1)
    assert not done
    assert Response.objects.count() == 0
    holder.commit()  # the first import ends
    worker.join(timeout=30)
    holder.close()
    assert done
    assert done[0].ok
    assert Response.objects.count() == 3
