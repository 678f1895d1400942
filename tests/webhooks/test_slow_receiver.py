"""A slow receiver never slows ingestion: delivery runs after commit, elsewhere."""

import threading
import time

import pytest

from segments.services import Actor, event_ingest, segment_create
from webhooks.models import WebhookEndpoint, WebhookMessage

SYSTEM = Actor.system("tests")


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_webhook__receiver_holds_request__event_answered_meanwhile(receiver, settings):
    # Given an embedded setup (no broker) and a receiver that does not answer
    settings.WEBHOOKS_DELIVERY = "auto"
    settings.CELERY_BROKER_URL = ""
    receiver.gate = threading.Event()
    WebhookEndpoint.objects.create(url=receiver.url, event_types=["segment.entered"])
    segment_create(name="Sign-ups", type="event", trigger_event="Sign Up", actor=SYSTEM)

    # When an event enters the customer
    result = event_ingest(actor=SYSTEM, user_id="u1", name="Sign Up")

    # Then the event was answered while the receiver still holds the delivery
    assert result.segments_entered
    assert receiver.arrived.wait(10)
    assert not receiver.gate.is_set()
    receiver.gate.set()
    wait_for(lambda: WebhookMessage.objects.filter(status="delivered").exists())
