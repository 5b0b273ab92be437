"""The production configuration as docs/DEPLOY.md gives it, for tests that start Django
in a subprocess with exactly that environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3J9-production-like-secret-for-tests-only-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "coprod.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://coprod.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "CACHE_URL": "dbcache://coprod_cache",
}

# Variables of the developer's or CI's shell that would change the configuration.
_CONFIG_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SILENCED_SYSTEM_CHECKS",
    "AXES_ENABLED",
    "RATELIMIT_ENABLE",
    "CACHE_URL",
    "REPORT_CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
}


def production_env(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in _CONFIG_VARIABLES}
    env.update(PRODUCTION_ENV)
    env.update(overrides)
    env["DJANGO_SETTINGS_MODULE"] = "coprod_site.settings"
    return env


def run_python(code, env):
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(args, env):
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="coprod.example.org", HTTP_X_FORWARDED_PROTO="https")
out = {}
for name, method, path, data in [
    ("healthz", "get", "/healthz", None),
    ("login", "get", "/admin/login/", None),
    ("language", "post", "/i18n/setlang/", {"language": "fr", "next": "/"}),
]:
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    out[name] = {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {
            key: {attr: str(morsel[attr]) for attr in ("secure", "httponly", "samesite")}
            for key, morsel in response.cookies.items()
        },
    }
plain = Client(HTTP_HOST="coprod.example.org").get("/admin/login/")
out["plain_http"] = {"status": plain.status_code, "location": plain.headers.get("Location", "")}
print(json.dumps(out))
"""


def probe_production(database_url, static_root):
    """Responses of a few pages served with the production configuration, after the
    `collectstatic` that a deployment runs (the manifest storage needs it)."""
    env = production_env(DATABASE_URL=database_url, STATIC_ROOT=str(static_root))
    collected = run_manage(["collectstatic", "--noinput"], env)
    assert collected.returncode == 0, collected.stderr
    result = run_python(_PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
