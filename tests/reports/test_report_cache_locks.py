"""The data generation adds no lock to writes, even with the cache in the database."""

import threading
import time

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction

from core import reportcache
from survey.models import Wave

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def database_report_cache(settings, postgresql_only):
    settings.CACHES = {
        **settings.CACHES,
        "reports": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "coprod_reports_lock_test",
        },
    }
    call_command("createcachetable", "--database", "default", verbosity=0)
    yield caches["reports"]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS coprod_reports_lock_test")


def test_two_writers_do_not_wait_for_each_other_on_the_generation(database_report_cache):
    reportcache.generation()  # the generation's row exists, as on a running site
    holding, release = threading.Event(), threading.Event()
    failures = []

    def long_writer():
        try:
            with transaction.atomic():
                Wave.objects.create(code="LONG-1", title="Long", year=2020)
                holding.set()
                release.wait(timeout=20)
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=long_writer)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        before = reportcache.generation()
        started = time.monotonic()
        with transaction.atomic():
            Wave.objects.create(code="SHORT-1", title="Short", year=2021)
        took = time.monotonic() - started
        # The short write committed while the long one is still open, without waiting.
        assert took < 2, f"a write waited {took:.1f}s for another transaction"
        assert reportcache.generation() != before
    finally:
        release.set()
        thread.join(timeout=30)
    assert not failures
