import pytest
from django.db import DatabaseError


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"


def test_healthz_reports_database_down(client, db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr("coprod_site.views.connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEBUG", "perhaps"), ("EMAIL_PORT", "twenty-five"), ("DATABASE_URL", "nosuchdb://x")],
)
def test_bad_setting_fails_at_start_naming_the_variable(name, value):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SECRET_KEY": "x" * 50, name: value}
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "coprod_site.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert name in result.stderr


def test_secret_key_is_required_without_debug():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "coprod_site.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
