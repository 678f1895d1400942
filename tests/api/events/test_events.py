"""POST /events: unknown customers are created, and the answer says what changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Enrollment
from campaigns.services import enrollment_remove
from segments.models import Customer, Event, Membership
from segments.services import Actor, segment_create, segment_override_set
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory, EventFactory

from .conftest import event

URL = "/api/v1/events"


def nested(levels):
    value = 1
    for _ in range(levels):
        value = {"a": value}
    return value


PRO = {"plan": "pro"}


def test_events__unknown_customer__created_entered_and_enrolled(api, onboarding):
    segment = onboarding.segments.get()

    response = api.post(
        URL,
        event(
            properties=PRO,
            message_id="m-1",
            customer={"email": "Ada@Example.com", "attributes": {"plan": "pro"}},
        ),
    )

    assert response.status_code == 201, response.json()
    stored = Event.objects.get()
    assert response.json() == {
        "event_id": stored.pk,
        "customer_created": True,
        "segments_entered": [segment.pk],
        "segments_left": [],
        "campaigns_entered": [onboarding.pk],
    }
    customer = Customer.objects.get(external_id="u1")
    assert (customer.email, customer.attributes) == ("ada@example.com", PRO)
    assert customer.last_seen_at == stored.timestamp
    membership = Membership.objects.get(customer=customer)
    assert (membership.source, membership.reference_id) == ("event", "m-1")
    assert Enrollment.objects.get(customer=customer).campaign == onboarding


def test_events__conditions_do_not_hold__stored_nothing_entered(api, signup_segment):
    response = api.post(URL, event(properties={"plan": "free"}))

    assert response.status_code == 201
    assert response.json()["segments_entered"] == []
    assert response.json()["customer_created"] is True
    assert not Membership.objects.exists()
    assert Event.objects.count() == 1


def test_events__known_customer__not_created(api, signup_segment):
    CustomerFactory(external_id="u1")

    body = api.post(URL, event(properties=PRO)).json()

    assert body["customer_created"] is False
    assert body["segments_entered"] == [signup_segment.pk]


def test_events__blocked_customer__not_entered(api, signup_segment):
    customer = CustomerFactory(external_id="u1")
    segment_override_set(
        segment=signup_segment,
        customer=customer,
        user_status="block",
        actor=Actor.system("tests"),
    )

    body = api.post(URL, event(properties=PRO)).json()

    assert body["segments_entered"] == []
    assert not Membership.objects.members().exists()


def test_events__behaviour_rule__entered_and_left_listed(api, buyers_segment, actor):
    # Given a rule segment of customers who bought, and one of those who never did
    never = segment_create(
        name="Never bought",
        type="rule",
        rules={"conditions": [{"event": "purchase", "operator": "not_performed"}]},
        actor=actor,
    )
    api.post("/api/v1/customers", {"id": "u1"})
    assert Membership.objects.get().segment == never

    # When the customer buys
    body = api.post(URL, event(name="purchase")).json()

    # Then the answer names exactly the segment entered and the one left
    assert body["segments_entered"] == [buyers_segment.pk]
    assert body["segments_left"] == [never.pk]
    assert Membership.objects.get().segment == buyers_segment


def test_events__same_message_id__200_first_answer_stored_once(api, onboarding):
    first = api.post(URL, event(properties=PRO, message_id="m-1"))

    again = api.post(URL, event(properties=PRO, message_id="m-1"))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["customer_created"] is True
    assert Event.objects.count() == 1


def test_events__other_customer_reuses_message_id__both_stored(api, signup_segment):
    # Defect 14: message ids are the sender's, unique per customer only.
    EventFactory(customer=CustomerFactory(external_id="a"), message_id="m-1")

    response = api.post(URL, event(user_id="b", properties=PRO, message_id="m-1"))

    assert response.status_code == 201
    assert response.json()["segments_entered"] == [signup_segment.pk]
    assert Event.objects.filter(message_id="m-1").count() == 2


def test_events__removed_from_campaign__stays_removed(api, onboarding):
    customer = CustomerFactory(external_id="u1")
    api.post(URL, event(properties=PRO))
    enrollment_remove(
        campaign=onboarding, customer=customer, actor=Actor.system("tests")
    )
    segment = onboarding.segments.get()
    Membership.objects.filter(segment=segment).delete()

    body = api.post(URL, event(properties=PRO)).json()

    assert body["segments_entered"] == [segment.pk]
    assert body["campaigns_entered"] == []
    assert Enrollment.objects.get().status == "removed"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "x" * 201}, "name"),
        ({"properties": nested(11)}, "properties"),
        ({"properties": {"blob": "x" * 40_000}}, "properties"),
        ({"properties": [1]}, "properties"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"user_id": ""}, "user_id"),
    ],
)
def test_events__bad_input__400_on_field_nothing_written(api, db, fields, field):
    response = api.post(URL, {**event(), **fields})

    assert_error(response, 400, field=field)
    assert not Event.objects.exists()
    assert not Customer.objects.exists()


def test_events__far_future_timestamp__400_says_limit(api, db):
    future = (timezone.now() + timedelta(hours=2)).isoformat()

    message = assert_error(
        api.post(URL, event(timestamp=future)), 400, field="timestamp"
    )

    assert "future" in message
    assert not Customer.objects.exists()


def test_events__read_key__403(reader):
    assert_error(reader.post(URL, event()), 403)
