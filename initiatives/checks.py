"""Deployment checks that Django's own `check --deploy` does not make."""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@checks.register(checks.Tags.security, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """Rate limits and API throttles count in the cache; per process they don't add up."""
    found = []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        found.append(
            checks.Warning(
                "The default cache is kept per process, so rate limits and API throttles "
                "are multiplied by the number of gunicorn workers and machines.",
                hint="Set CACHE_URL to redis://... or dbcache://coprod_cache (docs/DEPLOY.md).",
                id="coprod.W001",
            )
        )
    reports = settings.CACHES.get("reports", {}).get("BACKEND", "")
    if reports in PER_PROCESS_CACHES and getattr(settings, "REPORT_CACHE_SECONDS", 0) > 0:
        found.append(
            checks.Warning(
                "The report and page cache is kept per process: with several gunicorn "
                "workers or machines, a change made through one is not seen on the pages "
                "the others have cached.",
                hint="Set REPORT_CACHE_URL (or CACHE_URL) to redis://... or dbcache://... "
                "(docs/DEPLOY.md).",
                id="coprod.W004",
            )
        )
    return found


@checks.register(checks.Tags.security, deploy=True)
def check_axes_enabled(app_configs, **kwargs):
    if not getattr(settings, "AXES_ENABLED", True):
        return [
            checks.Warning(
                "Sign-in lockout (django-axes) is off: passwords can be guessed without limit.",
                hint="Unset AXES_ENABLED or set it to true.",
                id="coprod.W002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_rate_limits_enabled(app_configs, **kwargs):
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return [
            checks.Warning(
                "Rate limits on sign-up, password reset and submission are off.",
                hint="Unset RATELIMIT_ENABLE or set it to true.",
                id="coprod.W003",
            )
        ]
    return []
