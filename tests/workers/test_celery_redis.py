"""Celery for real: a worker and beat, started as `celery -A segments_site ...`
against the local Redis, do a segment computation and deliver webhooks.

Needs Redis (127.0.0.1:6379, database REDIS_DB) and PostgreSQL (the worker is
another process: it must see the test database). Skipped without Redis, except
under CI=true, where it must run."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from segments.models import Membership, Segment
from segments.services import Actor, segment_create, segment_members_add
from tests.factories import CustomerFactory
from tests.markers import needs_redis
from tests.webhooks.receiver import start_receiver
from webhooks.models import WebhookEndpoint, WebhookMessage

REDIS_DB = 13
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Actor.system("tests")


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker is another process: run with DATABASE_URL=postgres://...",
)


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "WEBHOOKS_RETRY_SECONDS": "1",
        "SEGMENTS_REFRESH_SECONDS": "3600",
        "SEGMENTS_EXPIRY_SECONDS": "3600",
    }


def start(tmp_path, *args) -> subprocess.Popen:
    log = open(tmp_path / f"{args[0]}.log", "w")  # noqa: SIM115 (closed by the OS)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "segments_site", *args],
        cwd=ROOT,
        env=worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def celery_processes(tmp_path):
    redis.Redis.from_url(BROKER).flushdb()
    worker = start(tmp_path, "worker", "--pool=solo", "--loglevel=INFO")
    beat = start(
        tmp_path, "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")
    )
    yield tmp_path
    for process in (beat, worker):
        process.terminate()
        process.wait(20)


@needs_redis
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_celery__worker_and_beat__segment_computed_and_webhooks_delivered(
    settings, celery_processes
):
    # Given a receiver, a webhook endpoint, and a change queued with no one to send
    # it (only beat's periodic job will)
    settings.WEBHOOKS_DELIVERY = "off"
    receiver, server = start_receiver()
    WebhookEndpoint.objects.create(
        url=receiver.url, event_types=["segment.entered", "segment.left"]
    )
    vip = segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
    # ... and a rule segment whose members were never computed
    pro = CustomerFactory(attributes={"plan": "pro"})
    rules = {
        "conditions": [
            {"field": "attributes.plan", "operator": "equals", "value": "pro"}
        ]
    }
    segment = segment_create(name="Pros", type="rule", rules=rules, actor=SYSTEM)
    Membership.objects.filter(segment=segment).delete()
    WebhookMessage.objects.filter(payload__data__segment__id=segment.pk).delete()

    logs = celery_processes
    try:
        # When beat's periodic job runs, then a computation is sent to the broker
        sent_by_beat = wait_for(lambda: len(receiver.requests) >= 1)
        assert sent_by_beat, (logs / "beat.log").read_text()[-3000:]
        Celery(broker=BROKER).send_task(
            "segments.tasks.recompute_segment", args=[segment.pk]
        )

        # Then the worker computes the segment, and its change reaches the receiver
        computed = wait_for(
            lambda: Membership.objects.filter(segment=segment, customer=pro).exists()
        )
        assert computed, (logs / "worker.log").read_text()[-3000:]
        assert wait_for(lambda: len(receiver.requests) >= 2)
    finally:
        server.shutdown()
        server.server_close()
    names = [r.json["data"]["segment"]["name"] for r in receiver.requests]
    assert names == ["VIP", "Pros"]
    segment.refresh_from_db()
    assert segment.compute_state == Segment.ComputeState.IDLE
    # The receiver answers before the worker saves the attempt: wait for the save.
    assert wait_for(
        lambda: not WebhookMessage.objects.exclude(status="delivered").exists()
    )
