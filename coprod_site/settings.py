"""coprod settings, read from the environment (see `.env.example`).

Every variable has a safe default for local development except SECRET_KEY, which
is required whenever DEBUG is off. A value that cannot be parsed stops the process
at start with a message that names the variable.
"""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _read(name, cast, default):
    """Read one variable, turning a parse failure into a message that names it."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError, KeyError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _strict_bool(name, default):
    """A yes/no variable; anything else is an error rather than a silent False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not one of true/false, yes/no, on/off, 1/0")


def _database(name, default):
    config = env.db_url(name, default=default)
    known = {"sqlite3", "postgresql"}
    if config.get("ENGINE", "").rsplit(".", 1)[-1] not in known:
        raise ValueError("use a postgres://... or sqlite:///... URL")
    return config


DEBUG = _read("DEBUG", _strict_bool, False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Environment variable SECRET_KEY is required when DEBUG is off "
            "(set DEBUG=true for local development, or give a long random SECRET_KEY)."
        )
    SECRET_KEY = "insecure-local-development-key-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = _read("ALLOWED_HOSTS", env.list, ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _read("CSRF_TRUSTED_ORIGINS", env.list, [])

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "rest_framework",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "core",
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
    "survey",
    "initiatives",
]

MIDDLEWARE = [
    # Request counts and latencies per view (core/metrics.py); first and last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.AuditMiddleware",
    "core.middleware.RateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Anonymous GETs of the public pages from the report cache (core/pagecache.py).
    "core.pagecache.PublicPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.ApiTokenUseMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "coprod_site.urls"
WSGI_APPLICATION = "coprod_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": _read("DATABASE_URL", _database, f"sqlite:///{BASE_DIR / 'coprod.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = _read("CONN_MAX_AGE", env.int, 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL compiles a query to machine code (JIT) when its *estimated* cost is high; the
    # reports' correlated subqueries are overestimated, and compiling them took longer than
    # running them (bench/RESULTS.md). A URL's own `?options=` wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# The same engines, wrapped by django-prometheus to count and time every query (/metrics).
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends.", 1
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests on SQLite use an in-memory database, as Django does by default; said outright,
    # because pytest-xdist's per-worker naming knows that default only by the engine's name.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "initiatives.backends.EmailBackend",
    # Object rules (initiatives/rules.py): who may read, change or review a given record.
    "rules.permissions.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "initiatives:dashboard"
LOGOUT_REDIRECT_URL = "initiatives:home"

# Internationalisation: English and French throughout; vocabulary labels are
# translated data (django-modeltranslation adds a column per language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = _read("TIME_ZONE", env.str, "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = _read("STATIC_ROOT", env.path, BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "coprod_site" / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Several app servers need one place for documents: S3-compatible object storage
# (django-storages, `pip install '.[s3]'`; credentials from the usual AWS_* variables).
# Files stay private: the document view checks access and streams them as attachments.
MEDIA_STORAGE = _read("MEDIA_STORAGE", env.str, "filesystem")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _read("MEDIA_BUCKET", env.str, ""),
            "endpoint_url": _read("MEDIA_ENDPOINT_URL", env.str, "") or None,
            "region_name": _read("MEDIA_REGION", env.str, "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured("Environment variable MEDIA_STORAGE must be filesystem or s3.")
WHITENOISE_USE_FINDERS = DEBUG
# Uploaded documents live outside the static root and are served by a view that
# checks who may see the initiative, never by the web server directly.
MEDIA_ROOT = _read("MEDIA_ROOT", env.path, BASE_DIR / "media")
MEDIA_URL = "/media/"
DOCUMENT_MAX_BYTES = _read("DOCUMENT_MAX_BYTES", env.int, 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = _read("EMAIL_BACKEND", env.str, "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = _read("EMAIL_HOST", env.str, "localhost")
EMAIL_PORT = _read("EMAIL_PORT", env.int, 25)
EMAIL_HOST_USER = _read("EMAIL_HOST_USER", env.str, "")
EMAIL_HOST_PASSWORD = _read("EMAIL_HOST_PASSWORD", env.str, "")
EMAIL_USE_TLS = _read("EMAIL_USE_TLS", _strict_bool, False)
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL", env.str, "coprod <noreply@localhost>")
# Who hears about new submissions; staff with an e-mail address are added to it.
CASE_OFFICER_EMAILS = _read("CASE_OFFICER_EMAILS", env.list, [])

# Security. The production values come from the environment (docs/DEPLOY.md).
SECURE_SSL_REDIRECT = _read("SECURE_SSL_REDIRECT", _strict_bool, False)
SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS", env.int, 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _read("SECURE_HSTS_INCLUDE_SUBDOMAINS", _strict_bool, False)
SECURE_HSTS_PRELOAD = _read("SECURE_HSTS_PRELOAD", _strict_bool, False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if _read("SECURE_PROXY_SSL_HEADER", _strict_bool, False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = _read("SESSION_COOKIE_SECURE", _strict_bool, not DEBUG)
CSRF_COOKIE_SECURE = _read("CSRF_COOKIE_SECURE", _strict_bool, not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No page script reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# A load balancer may probe /healthz over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# How many proxies we run in front of gunicorn (load balancer = 1); their
# X-Forwarded-For entries name the client. 0 ignores the header (direct exposure).
TRUSTED_PROXY_COUNT = _read("TRUSTED_PROXY_COUNT", env.int, 0)
# Checks of `check --deploy` silenced on purpose, each with its reason in docs/DEPLOY.md.
SILENCED_SYSTEM_CHECKS = _read("SILENCED_SYSTEM_CHECKS", env.list, [])

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

AXES_FAILURE_LIMIT = _read("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = _read("AXES_COOLOFF_MINUTES", env.int, 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# One identity per person: the address as the sign-in backend reads it, whatever its case.
AXES_USERNAME_CALLABLE = "initiatives.backends.lockout_identity"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = _read("AXES_ENABLED", _strict_bool, True)
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_CLIENT_IP_CALLABLE = "core.middleware.client_ip"
# Rate limits on POSTs to these views (URL name: rate), per signed-in user or per
# client address, counted in the cache (core.middleware.RateLimitMiddleware).
RATELIMIT_ENABLE = _read("RATELIMIT_ENABLE", _strict_bool, True)
RATELIMIT_SIGNUP = _read("RATELIMIT_SIGNUP", env.str, "10/h")
RATELIMIT_PASSWORD_RESET = _read("RATELIMIT_PASSWORD_RESET", env.str, "5/h")
RATELIMIT_SUBMIT = _read("RATELIMIT_SUBMIT", env.str, "30/h")
RATELIMIT_WRITE = _read("RATELIMIT_WRITE", env.str, "300/h")
# Exports of the whole list (initiatives/exportlimits.py): downloads an anonymous client
# may start per address, and downloads any client may run at once.
EXPORT_RATE_ANON = _read("EXPORT_RATE_ANON", env.str, "30/h")
EXPORT_CONCURRENT_PER_CLIENT = _read("EXPORT_CONCURRENT_PER_CLIENT", env.int, 2)
EXPORT_SLOT_SECONDS = _read("EXPORT_SLOT_SECONDS", env.int, 15 * 60)
RATELIMITS = {
    "initiatives:signup": RATELIMIT_SIGNUP,
    "password_reset": RATELIMIT_PASSWORD_RESET,
    "initiatives:submit": RATELIMIT_SUBMIT,
    "initiatives:create": RATELIMIT_WRITE,
    "initiatives:edit": RATELIMIT_WRITE,
    "initiatives:activity_add": RATELIMIT_WRITE,
    "initiatives:stage_proposal": RATELIMIT_WRITE,
    "initiatives:organisation_create": RATELIMIT_WRITE,
    "initiatives:organisation_join": RATELIMIT_WRITE,
}

# The model whose rows are the API's personal tokens; `core.api.auth` finds it by this name.
COPROD_API_TOKEN_MODEL = "initiatives.ApiToken"  # noqa: S105 - a model name, not a secret

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous refusals 401, not 403.
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttles.AnonThrottle",
        "core.api.throttles.TokenOrUserThrottle",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Throttle by REMOTE_ADDR, which ClientAddressMiddleware sets from trusted proxies
    # only; DRF's default would trust a client-written X-Forwarded-For.
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": _read("API_THROTTLE_ANON", env.str, "120/minute"),
        "user": _read("API_THROTTLE_USER", env.str, "1200/minute"),
        # Invalid API tokens per client address, before it gets 429 without a check.
        "token_failures": _read("API_TOKEN_FAILURES", env.str, "20/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "coprod API",
    "DESCRIPTION": "Co-production initiatives, their case timeline, and the OECD survey records.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A path written as a link inside the operation's toggle button is a control inside a
    # control (axe: nested-interactive); without deep links it is plain text.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.complete_schema",
    ],
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "initiatives.models.Stage",
        "InitiativeLevelEnum": "initiatives.models.Level",
        "ParticipationLevelEnum": "initiatives.models.ParticipationLevel",
    },
}


def _cache(name, default, *, prefix="", max_entries=None):
    """locmem:// (one process), dbcache://TABLE (shared, via the database) or
    redis://HOST:PORT/DB (shared, atomic counters; needs the `redis` extra)."""
    url = env.str(name, default=default)
    scheme, _sep, rest = url.partition("://")
    if scheme == "locmem":
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": rest}
    elif scheme == "dbcache" and rest:
        config = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": rest}
    elif scheme in ("redis", "rediss") and rest:
        config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    else:
        raise ValueError("use locmem://, dbcache://TABLE or redis://HOST:PORT/DB")
    if prefix:
        config["KEY_PREFIX"] = prefix
    if max_entries and scheme != "redis":
        config["OPTIONS"] = {"MAX_ENTRIES": max_entries}
    return config


def _report_cache_default():
    """The report cache beside the counters' cache, never inside it: its own locmem store,
    its own table, or the same Redis server under its own key prefix."""
    url = env.str("CACHE_URL", default="locmem://")
    scheme, _sep, rest = url.partition("://")
    if scheme == "locmem":
        return "locmem://coprod-reports"
    if scheme == "dbcache":
        return f"dbcache://{rest}_reports"
    return url


# Caches (docs/DEPLOY.md). With several gunicorn processes or machines both must be shared.
# - default: rate-limit counters and API throttles (CACHE_URL).
# - reports: computed reports, public pages and their data generation (REPORT_CACHE_URL,
#   core/reportcache.py and core/pagecache.py). An alias of its own, so that its
#   entries (one per page and filter combination) never evict a counter.
CACHES = {
    "default": _read("CACHE_URL", _cache, "locmem://"),
    "reports": _read(
        "REPORT_CACHE_URL",
        lambda name, default: _cache(name, default, prefix="reports", max_entries=5000),
        _report_cache_default(),
    ),
}
# How long a cached report or public page lives at most; a change of the data ends it at
# once. 0 turns both caches off.
REPORT_CACHE_SECONDS = _read("REPORT_CACHE_SECONDS", env.int, 600)
# Whether anonymous GETs of the public pages are served from that cache (core/pagecache.py).
PAGE_CACHE_ENABLED = _read("PAGE_CACHE_ENABLED", _strict_bool, True)
# The largest page or CSV kept in the page cache; bigger ones are served uncached.
PAGE_CACHE_MAX_BYTES = _read("PAGE_CACHE_MAX_BYTES", env.int, 2 * 1024 * 1024)

# Background jobs (survey/jobs.py, docs/DEPLOY.md "Background worker"): django-tasks, with
# its database backend by default (`manage.py db_worker` runs the jobs; `make run` starts
# one), or RQ on Redis (`TASKS_BACKEND=rq`, `manage.py rqworker --job-class
# django_tasks_rq.Job`), or `immediate` (each job runs inside the request that starts it).
TASKS_BACKEND = _read("TASKS_BACKEND", env.str, "database")
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {
        "default": {
            "URL": _read("TASKS_REDIS_URL", env.str, "redis://127.0.0.1:6379/0"),
            # A survey import of a million rows takes about a minute; allow far more.
            "DEFAULT_TIMEOUT": _read("JOB_TIMEOUT_SECONDS", env.int, 3600),
        }
    }
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured(
        "Environment variable TASKS_BACKEND must be database, rq or immediate."
    )
# Uploads larger than this import as a background job (smaller ones in the request); exports
# of more records than this are written by a job and downloaded from its page.
JOB_IMPORT_BYTES = _read("JOB_IMPORT_BYTES", env.int, 2_000_000)
JOB_EXPORT_ROWS = _read("JOB_EXPORT_ROWS", env.int, 200_000)
# A running job whose worker has not been heard of for this long is taken as dead (killed,
# restarted): it shows as failed, with a retry. Workers beat every JOB_HEARTBEAT_SECONDS.
JOB_HEARTBEAT_SECONDS = _read("JOB_HEARTBEAT_SECONDS", env.float, 5.0)
JOB_STALE_SECONDS = _read("JOB_STALE_SECONDS", env.int, 60)
# How long an export's file and a job's uploaded file are kept for their owner.
JOB_KEEP_HOURS = _read("JOB_KEEP_HOURS", env.int, 24)

# Metrics for the operations team at /metrics (docs/DEPLOY.md, Monitoring): answered only
# to `Authorization: Bearer <METRICS_TOKEN>`; without a token set, the page does not exist.
METRICS_TOKEN = _read("METRICS_TOKEN", env.str, "")
# Read the migrations at start-up for a metric: not wanted, it would query the database.
PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _read("LOG_LEVEL", env.str, "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
    },
}
