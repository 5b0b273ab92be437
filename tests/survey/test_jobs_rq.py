"""The production queue: jobs carried by RQ on Redis (TASKS_BACKEND=rq), where Redis answers
(127.0.0.1:6379, or TEST_REDIS_URL)."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from initiatives.roles import SURVEY_MANAGER
from survey.jobs import run_job, survey_import_start
from survey.models import Job, Response
from survey.uploads import keep_upload
from tests.factories import staff_in_role

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture
def redis_queue(settings):
    redis = pytest.importorskip("redis")
    pytest.importorskip("django_tasks_rq")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis answers at {REDIS_URL}")
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    import django_rq

    queue = django_rq.get_queue("default")
    queue.empty()
    yield queue
    queue.empty()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_job_goes_through_redis_to_an_rq_worker(redis_queue):
    from django_tasks_rq import Job as RQJob
    from rq import SimpleWorker

    owner = staff_in_role(SURVEY_MANAGER)
    text = "wave,country,respondent,sector,question,item,answer\n"
    text += "OECD-2010,FIN,r1,03,barriers,resources,yes\n"
    key = keep_upload(SimpleUploadedFile("s.csv", text.encode()), owner=owner)
    job = survey_import_start(owner=owner, upload_key=key)  # committed: enqueued at once
    assert redis_queue.count == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    worker = SimpleWorker([redis_queue], connection=redis_queue.connection, job_class=RQJob)
    assert worker.work(burst=True)
    finished = Job.objects.get(pk=job.pk)
    assert finished.status == Job.Status.DONE, finished.message
    assert Response.objects.count() == 1
    assert run_job.get_backend().__class__.__name__ == "RQBackend"
