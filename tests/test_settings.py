"""The settings read from the environment: the embedded default and its switches."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
django.setup()
from django.conf import settings
from segments_site.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "health_checks": db.get("CONN_HEALTH_CHECKS", False),
    "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
    "eager": app.conf.task_always_eager, "broker": app.conf.broker_url,
    "https": [settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS,
              settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "proxy": settings.SECURE_PROXY_SSL_HEADER,
    "databases": {
        alias: {k: db.get(k) for k in (
            "NAME", "PORT", "CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS", "OPTIONS",
            "TEST")}
        for alias, db in settings.DATABASES.items()
    },
    "cache": settings.CACHES["default"]["BACKEND"],
    "sessions": settings.SESSION_ENGINE,
    "media": str(settings.MEDIA_ROOT),
}, default=str))
"""


def clean_env(**env: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_", "CACHE_"))
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "segments_site.settings",
        # A developer's .env would change what the defaults look like.
        "DJANGO_ENV_FILE": os.devnull,
        **env,
    }


def settings_under(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean_env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_settings__no_configuration__sqlite_inline_jobs_debug_off():
    conf = settings_under()

    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"].endswith("db.sqlite3")
    assert conf["eager"] is True
    assert conf["debug"] is False
    assert conf["hosts"] == ["127.0.0.1", "localhost"]


def test_settings__database_url_and_broker__postgres_with_workers():
    conf = settings_under(
        DATABASE_URL="postgres://app:secret@db.internal:5432/segments",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="segments.example.com,127.0.0.1",
    )

    assert conf["engine"] == "django.db.backends.postgresql"
    assert (conf["name"], conf["host"]) == ("segments", "db.internal")
    assert conf["health_checks"] is True
    assert conf["eager"] is False
    assert conf["broker"] == "redis://127.0.0.1:6379/0"
    assert conf["debug"] is True
    assert conf["hosts"] == ["segments.example.com", "127.0.0.1"]


def test_settings__debug_off__https_only_by_default():
    conf = settings_under()

    assert conf["https"] == [True, 365 * 24 * 3600, True, True]
    assert conf["proxy"] is None


def test_settings__secure_off_or_debug_on__plain_http_for_local_runs():
    assert settings_under(DJANGO_SECURE="false")["https"] == [False, 0, False, False]
    assert settings_under(DJANGO_DEBUG="true")["https"] == [False, 0, False, False]


def test_settings__proxy_ssl_header__read_as_name_and_value():
    conf = settings_under(DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")

    assert conf["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_check_deploy__production_values__no_warnings():
    env = clean_env(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="segments.example.com",
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_settings__no_configuration__one_database_local_cache_db_sessions():
    conf = settings_under()

    assert list(conf["databases"]) == ["default"]
    assert conf["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert conf["sessions"] == "django.contrib.sessions.backends.db"


def test_settings__redis_cache_url__shared_cache_and_cached_sessions():
    conf = settings_under(CACHE_URL="redis://127.0.0.1:6379/2")

    assert conf["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert conf["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_settings__pgbouncer__no_server_side_cursors_nor_prepared_statements():
    conf = settings_under(
        DATABASE_URL="postgres://app@127.0.0.1:6432/segments",
        DATABASE_POOLER="pgbouncer",
        DATABASE_CONN_MAX_AGE="300",
    )
    db = conf["databases"]["default"]

    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert db["OPTIONS"]["prepare_threshold"] is None
    assert db["CONN_MAX_AGE"] == 300


def test_settings__postgres_without_pooler__server_side_cursors_kept():
    conf = settings_under(DATABASE_URL="postgres://app@127.0.0.1:5432/segments")

    assert conf["databases"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is None


def test_settings__unknown_pooler__refused_with_the_accepted_value():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean_env(DATABASE_POOLER="pgpool"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "DATABASE_POOLER='pgpool': expected pgbouncer" in result.stderr


def test_settings__replica_url__second_alias_mirrored_in_tests():
    conf = settings_under(
        DATABASE_URL="postgres://app@10.0.0.1:5432/segments",
        DATABASE_REPLICA_URL="postgres://app@10.0.0.2:5433/segments",
    )
    replica = conf["databases"]["replica"]

    assert (replica["NAME"], replica["PORT"]) == ("segments", 5433)
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["OPTIONS"]["connect_timeout"] == 2


def test_settings__media_root__from_environment_for_a_shared_directory():
    conf = settings_under(DJANGO_MEDIA_ROOT="/srv/shared/media")

    assert conf["media"] == "/srv/shared/media"


def test_settings__replica_without_postgres__refused_naming_both_urls():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean_env(DATABASE_REPLICA_URL="postgres://app@10.0.0.2:5433/segments"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "expected postgres:// for both" in result.stderr
