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
}))
"""


def clean_env(**env: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_"))
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
