"""Only a real connection failure is "database unavailable" (503). A clash with another
request (deadlock, serialisation failure) asks to try again (409), and a unique row that a
concurrent request wrote first is a 409 in the API's JSON shape; neither is an outage."""

import psycopg.errors
import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client
from rest_framework.test import APIClient

from core.dberrors import concurrent_conflict, database_unavailable
from initiatives.api import OrganisationViewSet
from initiatives.views import InitiativeListView

pytestmark = pytest.mark.django_db


def _database_error(cause, kind=OperationalError):
    error = kind(str(cause) if cause else "could not connect to server: Connection refused")
    error.__cause__ = cause
    return error


DEADLOCK = psycopg.errors.DeadlockDetected("deadlock detected")
SERIALISATION = psycopg.errors.SerializationFailure("could not serialize access")
ADMIN_SHUTDOWN = psycopg.errors.AdminShutdown("terminating connection")
CONNECTION_FAILURE = psycopg.errors.ConnectionFailure("server closed the connection")
STATEMENT_TIMEOUT = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")


@pytest.mark.parametrize(
    ("cause", "unavailable", "conflict"),
    [
        (None, True, False),
        (psycopg.OperationalError("connection failed: Connection refused"), True, False),
        (ADMIN_SHUTDOWN, True, False),
        (CONNECTION_FAILURE, True, False),
        (DEADLOCK, False, True),
        (SERIALISATION, False, True),
        (psycopg.errors.LockNotAvailable("could not obtain lock"), False, True),
        (STATEMENT_TIMEOUT, False, False),
    ],
)
def test_which_operational_errors_are_an_outage(cause, unavailable, conflict):
    error = _database_error(cause)
    assert database_unavailable(error) is unavailable
    assert concurrent_conflict(error) is conflict


def test_sqlite_errors_are_classified_by_their_name():
    import sqlite3

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    cannot_open = sqlite3.OperationalError("unable to open database file")
    cannot_open.sqlite_errorname = "SQLITE_CANTOPEN"
    assert not database_unavailable(_database_error(busy))
    assert concurrent_conflict(_database_error(busy))
    assert database_unavailable(_database_error(cannot_open))


def test_an_integrity_error_is_no_outage():
    assert not database_unavailable(_database_error(None, IntegrityError))


@pytest.mark.parametrize(
    ("cause", "status"),
    [(DEADLOCK, 409), (SERIALISATION, 409), (CONNECTION_FAILURE, 503), (STATEMENT_TIMEOUT, 500)],
)
def test_the_site_answers_a_deadlock_with_try_again_not_unavailable(monkeypatch, cause, status):
    def fail(self):
        raise _database_error(cause)

    monkeypatch.setattr(InitiativeListView, "get_queryset", fail)
    response = Client(raise_request_exception=False).get("/initiatives/")
    assert response.status_code == status
    body = response.content.decode()
    assert ("temporarily unavailable" in body) is (status == 503)
    if status == 409:
        assert "try again" in body
    assert "Traceback" not in body
    assert "deadlock" not in body


@pytest.mark.parametrize(
    "error",
    [
        _database_error(DEADLOCK),
        _database_error(SERIALISATION),
        _database_error(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError),
    ],
)
def test_the_api_answers_a_clash_with_409_json(monkeypatch, error):
    def fail(self, request, *args, **kwargs):
        raise error

    monkeypatch.setattr(OrganisationViewSet, "list", fail)
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/organisations/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "retry" in body["message"]
    assert "duplicate key" not in response.content.decode()


def test_the_api_still_reports_an_outage_as_unavailable(monkeypatch):
    def fail(self, request, *args, **kwargs):
        raise _database_error(CONNECTION_FAILURE)

    monkeypatch.setattr(OrganisationViewSet, "list", fail)
    response = APIClient(raise_request_exception=False).get("/api/organisations/")
    assert response.status_code == 503
