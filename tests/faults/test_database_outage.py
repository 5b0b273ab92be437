"""When the database goes away the site says so with a 503 page (and /healthz with a
503), never a stack trace; when it comes back the same process serves again."""

import pytest
from django.db import OperationalError, close_old_connections, connection, connections
from django.test import Client as DjangoClient

from tests.faults.tcpproxy import TcpProxy

PAGES = ["/", "/admin/login/"]


class ServingClient(DjangoClient):
    """The test client, plus what Django's WSGI handler does around every request under
    gunicorn (the test client leaves it out): drop a connection that errored or is too
    old, which is where CONN_HEALTH_CHECKS takes effect."""

    def request(self, **request):
        close_old_connections()
        try:
            return super().request(**request)
        finally:
            close_old_connections()


def _assert_unavailable_page(response):
    assert response.status_code == 503
    body = response.content.decode()
    assert "temporarily unavailable" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert response["Retry-After"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def _assert_health(client, status, database):
    response = client.get("/healthz")
    assert response.status_code == status
    assert response.json()["database"] == database


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_going_away_gives_503_and_the_app_recovers_without_restart():
    if connection.vendor != "postgresql":
        pytest.skip("needs a PostgreSQL server to cut off; CI runs this on PostgreSQL")
    original = dict(connection.settings_dict)
    proxy = TcpProxy(original["HOST"] or "127.0.0.1", int(original["PORT"] or 5432)).start()
    connection.close()
    # Persistent connections, as in production: the broken one must be noticed and replaced.
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port), CONN_MAX_AGE=600)
    client = ServingClient(raise_request_exception=False)
    try:
        _assert_health(client, 200, "up")
        for page in PAGES:
            assert client.get(page).status_code == 200, page

        proxy.stop()
        _assert_health(client, 503, "down")
        # A public page read before the outage is still served from the page cache (nothing
        # can change while the database is away); anything the cache does not hold needs the
        # database and gets the 503 page.
        assert client.get("/").status_code == 200
        for page in ["/?during=outage", "/admin/login/"]:
            _assert_unavailable_page(client.get(page))

        proxy.start()
        _assert_health(client, 200, "up")
        for page in PAGES:
            assert client.get(page).status_code == 200, page
    finally:
        proxy.stop()
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.mark.django_db
def test_unreachable_database_gives_503_page_and_recovers(monkeypatch):
    """The same, simulated at the connection layer so it also runs on SQLite."""
    wrapper = type(connections["default"])

    def refuse(self):
        raise OperationalError("could not connect to server: Connection refused")

    client = DjangoClient(raise_request_exception=False)
    assert client.get("/admin/login/").status_code == 200
    with monkeypatch.context() as patch:
        patch.setattr(wrapper, "ensure_connection", refuse)
        for page in PAGES:
            _assert_unavailable_page(client.get(page))
        _assert_health(client, 503, "down")
    assert client.get("/admin/login/").status_code == 200
    _assert_health(client, 200, "up")
