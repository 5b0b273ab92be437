"""A background worker killed in the middle of an import (SIGKILL, as when a machine or
container dies): nothing of the file is written, the job shows as failed, and a retry
imports it. A real `db_worker` process runs the job, on PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from initiatives.roles import SURVEY_MANAGER
from survey.jobs import execute_job, job_retry, reap_stale_jobs, survey_import_start
from survey.models import Job, Respondent, Response
from survey.uploads import keep_upload
from tests.factories import staff_in_role

ROOT = Path(__file__).resolve().parents[2]
RESPONDENTS = 60_000


def _survey_file():
    lines = ["wave,country,respondent,sector,question,item,answer"]
    for n in range(RESPONDENTS):
        for item in ("resources", "evidence", "incentives"):
            lines.append(f"KILLED-1,FIN,r{n},03,barriers,{item},{'yes' if n % 3 else 'no'}")
    return ("\n".join(lines) + "\n").encode()


def _url():
    config = connection.settings_dict
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def _kill_the_worker_mid_job(job, media_root):
    """Enqueue `job`, run a real `db_worker` on the shared database, and kill it (SIGKILL) once
    the job has reported rows read."""
    from survey.jobs import run_job

    run_job.enqueue(str(job.pk))
    env = {
        **os.environ,
        "DATABASE_URL": _url(),
        "SECRET_KEY": "x",
        "MEDIA_ROOT": str(media_root),
        "TASKS_BACKEND": "database",
        "JOB_HEARTBEAT_SECONDS": "0.1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = Job.objects.get(pk=job.pk)
            if seen.status == Job.Status.RUNNING and seen.rows_read > 0:
                break
            assert seen.status != Job.Status.DONE, "the import ended before the kill"
            time.sleep(0.02)
        else:
            pytest.fail("the worker never reported progress")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_killed_worker_writes_nothing_and_its_job_fails_with_a_retry(settings):
    if connection.vendor != "postgresql":
        pytest.skip("runs a real worker process on the shared database; CI runs it on PostgreSQL")
    owner = staff_in_role(SURVEY_MANAGER)
    key = keep_upload(SimpleUploadedFile("big.csv", _survey_file()), owner=owner)
    job = survey_import_start(owner=owner, upload_key=key, create_wave=True)
    # The transaction is already committed (transactional test): enqueued by hand.
    _kill_the_worker_mid_job(job, settings.MEDIA_ROOT)
    # PostgreSQL notices the vanished client and rolls its transaction back.
    time.sleep(1)
    assert Respondent.objects.filter(wave__code="KILLED-1").count() == 0
    assert Response.objects.count() == 0
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING  # nobody knows yet
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    assert reap_stale_jobs(now=later) == 1
    failed = Job.objects.get(pk=job.pk)
    assert failed.status == Job.Status.FAILED
    assert "Retry" in failed.message
    # The retry: the kept file imports whole.
    job_retry(job=failed, by=owner)
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    execute_job(job.pk)
    done = Job.objects.get(pk=job.pk)
    assert done.status == Job.Status.DONE, done.outcome
    assert done.attempts == 2
    assert Response.objects.count() == RESPONDENTS * 3


REGISTER_ROWS = 1_000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_killed_register_import_writes_nothing_and_its_job_fails_with_a_retry(settings):
    from initiatives.jobs import register_import_start
    from initiatives.models import Initiative
    from initiatives.roles import CASE_OFFICER

    if connection.vendor != "postgresql":
        pytest.skip("runs a real worker process on the shared database; CI runs it on PostgreSQL")
    owner = staff_in_role(CASE_OFFICER)
    text = "title,country,sector,level\n" + "".join(
        f"Killed {n},FIN,03,local\n" for n in range(REGISTER_ROWS)
    )
    job = register_import_start(
        owner=owner, upload=SimpleUploadedFile("register.csv", text.encode()), dry_run=False
    )
    _kill_the_worker_mid_job(job, settings.MEDIA_ROOT)
    time.sleep(1)
    assert not Initiative.objects.filter(title__startswith="Killed ").exists()
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    assert reap_stale_jobs(now=later) == 1
    failed = Job.objects.get(pk=job.pk)
    assert failed.status == Job.Status.FAILED
    assert "Retry" in failed.message
    job_retry(job=failed, by=owner)
    execute_job(job.pk)
    done = Job.objects.get(pk=job.pk)
    assert done.status == Job.Status.DONE, done.outcome
    assert done.outcome["created"] == REGISTER_ROWS
    assert Initiative.objects.filter(title__startswith="Killed ").count() == REGISTER_ROWS
