"""The production configuration passes Django's deployment checks and sends the
headers and cookie flags a security reviewer expects."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.security.production import probe_production, production_env, run_manage, run_python

ONE_YEAR = 365 * 24 * 3600


def test_check_deploy_reports_nothing_with_the_production_environment():
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)" in result.stdout


WEAKENED = {
    "security.W004": {"SECURE_HSTS_SECONDS": "0"},
    "security.W008": {"SECURE_SSL_REDIRECT": "false"},
    "security.W012": {"SESSION_COOKIE_SECURE": "false"},
    "coprod.W001": {"CACHE_URL": "locmem://"},
    "coprod.W002": {"AXES_ENABLED": "false"},
    "coprod.W003": {"RATELIMIT_ENABLE": "false"},
    "coprod.W004": {"REPORT_CACHE_URL": "locmem://reports"},
}


@pytest.fixture(scope="module")
def weakened_checks():
    """`check --deploy` with one protection turned off at a time (run side by side)."""

    def run(overrides):
        return run_manage(
            ["check", "--deploy", "--fail-level", "WARNING"], production_env(**overrides)
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = pool.map(run, WEAKENED.values())
        return dict(zip(WEAKENED, results, strict=True))


@pytest.mark.parametrize("check_id", sorted(WEAKENED))
def test_check_deploy_fails_when_a_protection_is_turned_off(weakened_checks, check_id):
    result = weakened_checks[check_id]
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage(["check"], production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prod")
    return probe_production(f"sqlite:///{folder / 'probe.sqlite3'}", folder / "static")


def test_production_sends_hsts_of_at_least_a_year(production):
    hsts = production["login"]["headers"]["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= ONE_YEAR
    assert "includeSubDomains" in hsts


def test_production_redirects_plain_http_to_https_but_not_the_health_check(production):
    assert production["plain_http"]["status"] == 301
    assert production["plain_http"]["location"].startswith("https://coprod.example.org/")
    assert production["healthz"]["status"] == 200


@pytest.mark.parametrize("page", ["healthz", "login", "language"])
def test_production_pages_carry_the_security_headers(production, page):
    headers = production[page]["headers"]
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize(
    ("page", "cookie"),
    [("login", "csrftoken"), ("language", "django_language")],
)
def test_production_cookies_are_secure_httponly_and_samesite(production, page, cookie):
    flags = production[page]["cookies"][cookie]
    assert flags["secure"] == "True"
    assert flags["httponly"] == "True"
    assert flags["samesite"] == "Lax"


def test_documents_can_live_in_private_object_storage():
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    result = run_python(code, production_env(MEDIA_STORAGE="s3", MEDIA_BUCKET="coprod-docs"))
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout.strip().splitlines()[-1])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "coprod-docs"
    assert storage["OPTIONS"]["default_acl"] == "private"
    assert storage["OPTIONS"]["querystring_auth"] is True
    refused = run_python(code, production_env(MEDIA_STORAGE="ftp"))
    assert refused.returncode != 0
    assert "MEDIA_STORAGE" in refused.stderr
