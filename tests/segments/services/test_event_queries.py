"""One event's statements do not grow with the segments it makes its customer
enter: the events pass recomputes the rule segments reading it together, lets
in the event-triggered ones together, enrolls once for every segment entered
and reads the webhook endpoints once per announcement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Enrollment
from campaigns.services import campaign_create, campaign_update
from segments.models import Membership, MembershipChange
from segments.services import Actor, event_ingest, segment_create
from tests.factories import CustomerFactory
from webhooks.models import EventType, WebhookEndpoint, WebhookMessage

SYSTEM = Actor.system("tests")
NAME = "Sign Up"
# Statements for one event entering a customer in event-triggered and rule
# segments (two live campaigns, a webhook endpoint taking every change),
# whatever the number of segments (126 for 6 + 6 before the pass wrote them
# together: 7 to 8 more per segment entered).
MAX_STATEMENTS = 42


def _segments(count: int, start: int = 0) -> None:
    """`count` event-triggered segments (the audience of one live campaign) and
    `count` rule segments reading the event (the audience of another); called
    again, more of both in the same two campaigns."""
    triggered, reading = [], []
    for i in range(start, start + count):
        triggered.append(
            segment_create(
                name=f"triggered {i}",
                type="event",
                trigger_event=NAME,
                rules={
                    "conditions": [
                        {"field": "event.plan", "operator": "equals", "value": "pro"}
                    ]
                },
                actor=SYSTEM,
            )
        )
        reading.append(
            segment_create(
                name=f"reading {i}",
                type="rule",
                rules={
                    "conditions": [{"event": NAME, "operator": "at_least", "value": 1}]
                },
                actor=SYSTEM,
            )
        )
    for name, audience in (("Welcome", triggered), ("Nurture", reading)):
        campaign = Campaign.objects.filter(name=name).first()
        if campaign is None:
            campaign_create(name=name, status="active", segments=audience, actor=SYSTEM)
        else:
            audience += list(campaign.segments.all())
            campaign_update(campaign=campaign, segments=audience, actor=SYSTEM)
    if not WebhookEndpoint.objects.exists():
        WebhookEndpoint.objects.create(
            url="http://127.0.0.1:9/", event_types=list(EventType.values)
        )


def _ingest_one() -> int:
    customer = CustomerFactory()
    with CaptureQueriesContext(connection) as queries:
        result = event_ingest(
            actor=SYSTEM, user_id=customer.external_id, name=NAME,
            properties={"plan": "pro"},
        )  # fmt: skip
    assert (
        len(result.segments_entered)
        == Membership.objects.filter(customer=customer).count()
    )
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_event_ingest__many_segments_entered__statements_bounded(
    django_assert_max_num_queries,
):
    # Given 6 event-triggered and 6 rule segments the event lets its customer in
    _segments(6)
    customer = CustomerFactory()

    # When one event arrives
    with django_assert_max_num_queries(MAX_STATEMENTS):
        result = event_ingest(
            actor=SYSTEM, user_id=customer.external_id, name=NAME,
            properties={"plan": "pro"},
        )  # fmt: skip

    # Then the customer entered all 12, each written once with its history, was
    # enrolled in both campaigns, and the webhook rows were queued
    assert len(result.segments_entered) == 12
    assert Membership.objects.filter(customer=customer).count() == 12
    assert MembershipChange.objects.filter(customer=customer).count() == 12
    assert len(result.campaigns_entered) == 2
    assert Enrollment.objects.filter(customer=customer).count() == 2
    sent = WebhookMessage.objects.values_list("payload", flat=True)
    entered = {
        p["data"]["segment"]["id"] for p in sent if p["type"] == "segment.entered"
    }
    assert entered == set(result.segments_entered)
    enrolled = {
        p["data"]["campaign"]["id"] for p in sent if p["type"] == "campaign.enrolled"
    }
    assert enrolled == set(result.campaigns_entered)


@pytest.mark.django_db
def test_event_ingest__more_segments_entered__same_statements():
    # Given 2 segments of each kind, one event counted; then 5 more of each
    _segments(2)
    few = _ingest_one()
    _segments(5, start=2)

    # When the next event enters its customer in 14 segments instead of 4
    many = _ingest_one()

    # Then it took the same statements
    assert many == few
