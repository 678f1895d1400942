"""The settings read from the environment: the embedded default and its switches."""

import json
import os
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
}))
"""


def settings_under(**env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "segments_site.settings",
            # A developer's .env would change what the defaults look like.
            "DJANGO_ENV_FILE": os.devnull,
            **env,
        },
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
