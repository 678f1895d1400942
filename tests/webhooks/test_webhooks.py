"""Webhooks out: signed, batched, retried, never for rolled-back work."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from segments.models import Segment
from segments.services import (
    Actor,
    event_ingest,
    segment_create,
    segment_members_add,
    segment_members_remove,
)
from tests.factories import CustomerFactory
from webhooks.models import WebhookEndpoint, WebhookMessage
from webhooks.services import webhooks_deliver

SYSTEM = Actor.system("tests")


@pytest.fixture
def vip(db):
    return segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)


def test_webhook__event_enters_segment__signed_payload_verified(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    # Given an event-triggered segment
    segment = segment_create(
        name="Sign-ups", type="event", trigger_event="Sign Up", actor=SYSTEM
    )

    # When an event lets a new customer in and the delivery runs
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event_ingest(actor=SYSTEM, user_id="u1", name="Sign Up", message_id="m-1")
    assert callbacks, "delivery is asked for once the transaction commits"
    report = webhooks_deliver()

    # Then the receiver verifies the signature with the standardwebhooks library
    assert (report.delivered, report.failed) == (1, 0)
    (request,) = receiver.requests
    verified = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert verified["type"] == "segment.entered"
    data = verified["data"]
    assert data["segment"] == {"id": segment.pk, "name": "Sign-ups"}
    assert data["customers"][0]["id"] == "u1"
    assert data["customers"][0]["source"] == "event"
    assert (data["actor"], data["reference_id"]) == ("event: Sign Up", "m-1")
    message = WebhookMessage.objects.get()
    assert request.headers["webhook-id"] == message.message_id
    assert message.status == "delivered"
    assert message.attempt_log.get().status_code == 200


def test_webhook__wrong_secret__verification_fails(endpoint, receiver, vip):
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
    webhooks_deliver()

    (request,) = receiver.requests
    other = WebhookEndpoint(url="http://x").secret
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(other).verify(request.body, request.headers)


def test_webhook__left__segment_left_sent(endpoint, receiver, vip):
    customer = CustomerFactory()
    segment_members_add(segment=vip, customers=[customer], actor=SYSTEM)
    segment_members_remove(segment=vip, customers=[customer], actor=SYSTEM)

    webhooks_deliver()

    assert [r.json["type"] for r in receiver.requests] == [
        "segment.entered",
        "segment.left",
    ]


def test_webhook__rolled_back__nothing_queued(
    endpoint, vip, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
        raise RuntimeError("the request failed after the change")

    assert callbacks == []
    assert not WebhookMessage.objects.exists()


def test_webhook__many_customers__pages_per_endpoint(endpoint, receiver, vip, settings):
    settings.WEBHOOKS_PAGE_SIZE = 2
    customers = [CustomerFactory() for _ in range(5)]

    segment_members_add(segment=vip, customers=customers, actor=SYSTEM)
    webhooks_deliver()

    pages = [len(r.json["data"]["customers"]) for r in receiver.requests]
    assert sorted(pages) == [1, 2, 2]
    sent = {
        c["internal_id"] for r in receiver.requests for c in r.json["data"]["customers"]
    }
    assert sent == {c.pk for c in customers}


def test_webhook__segment_filter__other_segments_not_sent(endpoint, receiver, vip):
    other = segment_create(name="Other", type=Segment.Type.STATIC, actor=SYSTEM)
    endpoint.segments.set([vip])

    segment_members_add(segment=other, customers=[CustomerFactory()], actor=SYSTEM)
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
    webhooks_deliver()

    assert [r.json["data"]["segment"]["name"] for r in receiver.requests] == ["VIP"]


def test_webhook__event_type_not_chosen__not_queued(endpoint, vip):
    endpoint.event_types = ["segment.left"]
    endpoint.save()

    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)

    assert not WebhookMessage.objects.exists()


def test_webhook__receiver_fails__retried_with_backoff_then_delivered(
    endpoint, receiver, vip
):
    # Given a receiver that fails twice, then recovers
    receiver.codes = [500, 503, 200]
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
    start = timezone.now()

    # When delivery runs at the times the backoff asks for
    assert webhooks_deliver(now=start).failed == 1
    message = WebhookMessage.objects.get()
    assert message.next_attempt_at == start + timedelta(seconds=30)
    assert webhooks_deliver(now=start + timedelta(seconds=10)).failed == 0
    assert webhooks_deliver(now=start + timedelta(seconds=31)).failed == 1
    message.refresh_from_db()
    assert message.next_attempt_at == start + timedelta(seconds=31 + 60)
    assert webhooks_deliver(now=start + timedelta(seconds=92)).delivered == 1

    # Then every attempt is kept with its status code and answer
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 3)
    codes = sorted(a.status_code for a in message.attempt_log.all())
    assert codes == [200, 500, 503]
    assert "receiver down" in message.attempt_log.get(status_code=500).response_body
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_webhook__failing_for_a_day__endpoint_disabled(endpoint, receiver, vip):
    receiver.codes = [500]
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)
    start = timezone.now()
    webhooks_deliver(now=start)

    message = WebhookMessage.objects.get()
    later = start + timedelta(days=1, seconds=1)
    WebhookMessage.objects.update(next_attempt_at=later)
    webhooks_deliver(now=later)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "HTTP 500" in endpoint.disabled_reason
    message.refresh_from_db()
    assert message.status == "pending"  # kept for when it is enabled again


def test_webhook__receiver_unreachable__error_recorded(endpoint, vip):
    endpoint.url = "http://127.0.0.1:9/nothing-listens"
    endpoint.save()
    segment_members_add(segment=vip, customers=[CustomerFactory()], actor=SYSTEM)

    assert webhooks_deliver().failed == 1

    attempt = WebhookMessage.objects.get().attempt_log.get()
    assert attempt.status_code is None
    assert "Error" in attempt.error
