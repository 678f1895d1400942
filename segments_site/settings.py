"""Settings for Segments, read from the environment (see .env.example).

With no configuration at all the app runs on a local SQLite file and runs background
jobs inline, so `make run` works on a fresh machine.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already set in the environment win over the file.
ENV_FILE = Path(os.environ.get("DJANGO_ENV_FILE", BASE_DIR / ".env"))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    # Only good enough for a laptop: production must set DJANGO_SECRET_KEY.
    default="insecure-development-key-set-DJANGO_SECRET_KEY-in-production",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS: required unless DEBUG is on. DJANGO_SECURE=false serves plain http (make run
# on 127.0.0.1, the tests); each setting below can also be set on its own.
SECURE = env.bool("DJANGO_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=SECURE)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=SECURE)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=SECURE)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=SECURE)
# Behind a proxy that terminates TLS and says so, e.g. "HTTP_X_FORWARDED_PROTO,https".
# Set it only when the proxy always sets (or strips) that header.
_PROXY_SSL_HEADER = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_PROXY_SSL_HEADER) if _PROXY_SSL_HEADER else None

INSTALLED_APPS = [
    "segments.apps.SegmentsAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django.contrib.humanize",
    "import_export",
    "segments",
    "campaigns",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's CSS and JS from STATIC_ROOT, with or without DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Safe-method API requests read from the replica, when there is one and the
    # client has not just written; outside the API error middleware, so that a
    # replica failing mid-request is retried on the primary.
    "segments_site.db_router.ReplicaMiddleware",
    # Under /api/: 503 with Retry-After when the database cannot be reached.
    "segments.api.errors.ApiErrorMiddleware",
]
# Under /api/ a CSRF refusal answers in the API's JSON error format.
CSRF_FAILURE_VIEW = "segments.api.errors.csrf_failure"

ROOT_URLCONF = "segments_site.urls"
WSGI_APPLICATION = "segments_site.wsgi.application"
ASGI_APPLICATION = "segments_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# "pgbouncer": DATABASE_URL points at PgBouncer in transaction pooling mode, where
# each transaction may run on another server connection (docs/deployment.md). Said
# out loud rather than guessed from the port: the URL does not tell a pooler apart.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ValueError(
        f"DATABASE_POOLER={DATABASE_POOLER!r}: expected pgbouncer, or leave it unset."
    )


def _postgres(db: dict, *, pooled: bool) -> dict:
    # With a pooler the connection kept open is the one to PgBouncer, which is cheap;
    # the server connections are PgBouncer's to reuse.
    db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    db["CONN_HEALTH_CHECKS"] = True
    if pooled:
        # A server-side cursor lives in one server session, across transactions
        # when Django iterates outside one; a prepared statement too. Neither
        # survives transaction pooling.
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
        db.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return db


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a background job writes; IMMEDIATE takes the
    # write lock when a transaction starts, so two writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _postgres(DATABASES["default"], pooled=DATABASE_POOLER == "pgbouncer")

# A streaming replica of the primary (hot standby), reached directly or through a
# pooler of its own: safe-method API requests and the admin's heavy counts read
# there (segments_site/db_router.py). Tests see it as a mirror of default.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    if {DATABASES["default"]["ENGINE"], DATABASES["replica"]["ENGINE"]} != {
        "django.db.backends.postgresql"
    }:
        raise ValueError(
            "DATABASE_REPLICA_URL: a read replica is a PostgreSQL standby of the "
            "PostgreSQL database in DATABASE_URL; expected postgres:// for both."
        )
    _postgres(
        DATABASES["replica"],
        pooled=env.str("DATABASE_REPLICA_POOLER", default="") == "pgbouncer",
    )
    # A replica that does not answer must not hold the request up for long.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["segments_site.db_router.ReplicaRouter"]
# The replica is used while its replay lags at most this, measured at most every
# DATABASE_REPLICA_CHECK_SECONDS per process; a client (API key, admin session) that
# wrote reads from the primary for DATABASE_REPLICA_STICKY_SECONDS after (default:
# the two added, the oldest a replica read can be).
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float(
    "DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0
)
DATABASE_REPLICA_CHECK_SECONDS = env.float(
    "DATABASE_REPLICA_CHECK_SECONDS", default=1.0
)
DATABASE_REPLICA_STICKY_SECONDS = env.float(
    "DATABASE_REPLICA_STICKY_SECONDS",
    default=DATABASE_REPLICA_MAX_LAG_SECONDS + DATABASE_REPLICA_CHECK_SECONDS,
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Uploaded import files wait here for their job: with several servers and workers,
# a directory they all mount (NFS, a shared volume; docs/deployment.md).
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Cache and API throttle counts; read-your-writes marks for the replica. Several
# server processes must share one (Django's RedisCache: CACHE_URL=redis://...).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
_SHARED_CACHE = any(
    kind in CACHES["default"]["BACKEND"] for kind in ("redis", "memcached")
)
# Sessions in the database, read through a shared cache when there is one (a cache
# private to each process would keep a logged-out session alive in the others).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if _SHARED_CACHE
    else "django.contrib.sessions.backends.db"
)

# The REST API under /api/v1/ (docs/api.md): API keys, JSON only, one error format.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
# 10,000 ids of 100 characters fit; larger bodies get 413 before they are parsed.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# Django refuses to read larger bodies (the idempotency hash reads the body).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, API_MAX_BODY_BYTES)
# Member imports (docs/imports.md): larger files are refused before they are parsed.
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=200 * 1024 * 1024)
# A preview's file waits this long for its confirmation; a job queued or running
# longer is taken as lost (its worker stopped) and marked failed.
IMPORT_PREVIEW_KEEP_SECONDS = env.int("IMPORT_PREVIEW_KEEP_SECONDS", default=86400)
IMPORT_TIMEOUT_SECONDS = env.int("IMPORT_TIMEOUT_SECONDS", default=4 * 3600)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "segments.api.schema.ApiSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["segments.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["segments.api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["segments.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["segments.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "segments.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Segments API",
    "DESCRIPTION": (
        "Audience segmentation for integrations: customers, events, segments, "
        "members and overrides, campaigns. Send an API key in `X-API-Key` or "
        "`Authorization: Bearer`. Errors read "
        '`{"statusCode", "error", "message", "details"}`. See docs/api.md.'
    ),
    "VERSION": "1.0.0",
    # The docs page works without the internet: Swagger UI is served from here.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Request bodies get components of their own, so that they can declare what
    # only applies to input (a non-blank string has minLength 1).
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: JSON Schema proper, so key names and null can be described.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "segments.api.schema.add_json_components",
        "segments.api.schema.add_text_patterns",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "EnrollmentStatusEnum": ["active", "removed", "not_enrolled"],
    },
}

# Celery: without a broker, jobs run inline in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
# Celery beat: keep time-relative segments current, retry failed computations.
CELERY_BEAT_SCHEDULE = {
    "refresh-segments": {
        "task": "segments.tasks.refresh_segments",
        "schedule": env.int("SEGMENTS_REFRESH_SECONDS", default=900),
    },
    # Import files no longer needed, import jobs whose worker was lost.
    "purge-imports": {"task": "segments.tasks.purge_imports", "schedule": 3600},
    # Event-triggered segments with exit_after_days: members past it leave.
    "expire-segment-members": {
        "task": "segments.tasks.expire_segment_members",
        "schedule": env.int("SEGMENTS_EXPIRY_SECONDS", default=3600),
    },
    # Webhook messages due (new ones are sent at once; this retries).
    "deliver-webhooks": {
        "task": "webhooks.tasks.deliver_webhooks",
        "schedule": env.int("WEBHOOKS_RETRY_SECONDS", default=30),
    },
}

# The rule engine's limits, and how long a computation may run before it is
# considered lost and started again.
SEGMENT_RULES_MAX_DEPTH = env.int("SEGMENT_RULES_MAX_DEPTH", default=5)
SEGMENT_RULES_MAX_CONDITIONS = env.int("SEGMENT_RULES_MAX_CONDITIONS", default=100)
SEGMENTS_COMPUTE_TIMEOUT_SECONDS = env.int(
    "SEGMENTS_COMPUTE_TIMEOUT_SECONDS", default=1800
)
SEGMENTS_COMPUTE_MAX_ATTEMPTS = env.int("SEGMENTS_COMPUTE_MAX_ATTEMPTS", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Events coming in (docs/events.md): what one event and one batch may carry.
EVENTS_BATCH_MAX = env.int("EVENTS_BATCH_MAX", default=1000)
EVENT_PROPERTIES_MAX_DEPTH = env.int("EVENT_PROPERTIES_MAX_DEPTH", default=10)
EVENT_PROPERTIES_MAX_BYTES = env.int("EVENT_PROPERTIES_MAX_BYTES", default=32_768)
# Clocks drift; an event stamped further ahead than this is refused.
EVENT_MAX_FUTURE_SECONDS = env.int("EVENT_MAX_FUTURE_SECONDS", default=300)

# Webhooks out (docs/webhooks.md). Delivery: "auto" (a Celery worker when there is
# a broker, else a background thread) or "off" (only the periodic job sends).
WEBHOOKS_DELIVERY = env.str("WEBHOOKS_DELIVERY", default="auto")
WEBHOOKS_PAGE_SIZE = env.int("WEBHOOKS_PAGE_SIZE", default=1000)
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10)
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=30)
# Retried for 3 days; an endpoint failing for a day is disabled.
WEBHOOKS_RETRY_FOR_SECONDS = env.int("WEBHOOKS_RETRY_FOR_SECONDS", default=3 * 86400)
WEBHOOKS_DISABLE_AFTER_SECONDS = env.int(
    "WEBHOOKS_DISABLE_AFTER_SECONDS", default=86400
)
