"""The events pass recomputes the rule segments an event concerns together: each
keeps its own history and announcements, and a segment reading another one
waits for it within the pass."""

import pytest

from segments.models import Membership, MembershipChange
from segments.services import Actor, event_ingest, segment_create, segment_update
from tests.factories import CustomerFactory
from webhooks.models import WebhookEndpoint, WebhookMessage

SYSTEM = Actor.system("tests")
BOUGHT = {"conditions": [{"event": "purchase", "operator": "at_least", "value": 1}]}


def _rule(name: str, rules: dict):
    return segment_create(name=name, type="rule", rules=rules, actor=SYSTEM)


@pytest.mark.django_db
def test_events_pass__segments_recomputed_together__each_named_in_its_history():
    # Given two rule segments reading the same event, and an endpoint for entries
    buyers, repeat = _rule("Buyers", BOUGHT), _rule("Also buyers", BOUGHT)
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/", event_types=["segment.entered"]
    )
    customer = CustomerFactory()

    # When one event lets the customer in both
    event_ingest(actor=SYSTEM, user_id=customer.external_id, name="purchase")

    # Then each history row and each webhook message names its own segment's rules
    labels = dict(
        MembershipChange.objects.filter(customer=customer).values_list(
            "segment_id", "actor_label"
        )
    )
    assert labels == {buyers.pk: "rule: Buyers", repeat.pk: "rule: Also buyers"}
    actors = {
        m["data"]["segment"]["id"]: m["data"]["actor"]
        for m in WebhookMessage.objects.values_list("payload", flat=True)
    }
    assert actors == labels


@pytest.mark.django_db
def test_events_pass__reader_older_than_the_segment_it_reads__waits_for_it():
    # Given a segment made first, then changed to read the event and a newer
    # segment that reads the same event: both are recomputed by the event, the
    # reader (the lower id) after the segment it reads
    reader = _rule("Buyers of the list", BOUGHT)
    buyers = _rule("Buyers", BOUGHT)
    segment_update(
        segment=reader,
        rules={
            "conditions": [
                *BOUGHT["conditions"],
                {"segment": buyers.pk, "operator": "in"},
            ]
        },
        actor=SYSTEM,
    )
    customer = CustomerFactory()

    # When the customer's first purchase arrives
    result = event_ingest(actor=SYSTEM, user_id=customer.external_id, name="purchase")

    # Then they are in both, the reader having seen them enter the other
    assert set(result.segments_entered) == {reader.pk, buyers.pk}
    assert set(
        Membership.objects.filter(customer=customer).values_list(
            "segment_id", flat=True
        )
    ) == {reader.pk, buyers.pk}
