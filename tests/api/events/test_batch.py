"""POST /events/batch: each event accepted or refused on its own, one pass."""

import pytest

from campaigns.models import Enrollment
from segments.models import Customer, Event, Membership, MembershipChange
from segments.services import Actor, segment_create
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory

from .conftest import event

URL = "/api/v1/events/batch"
PRO = {"plan": "pro"}


def test_batch__bad_events_in_the_middle__indexes_reported_rest_stored(
    api, signup_segment
):
    events = [
        event("u1", properties=PRO),
        event("u2", name=""),
        event("u3", name="purchase", properties=[1]),
        "not an event",
        event("u4", properties=PRO, customer={"email": "bad"}),
        event("u5", properties=PRO),
    ]

    response = api.post(URL, {"events": events})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["received"], body["stored"], body["rejected"]) == (6, 2, 4)
    assert [e["index"] for e in body["errors"]] == [1, 2, 3, 4]
    assert "name" in body["errors"][0]["details"]
    assert body["errors"][1]["message"].startswith("Event 2: properties")
    assert "customer.email" in body["errors"][3]["details"]
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == [
        "u1",
        "u5",
    ]
    entered = Membership.objects.values_list("customer__external_id", flat=True)
    assert sorted(entered) == ["u1", "u5"]


def test_batch__duplicates__stored_once_and_counted(api, db):
    CustomerFactory(external_id="u1")
    api.post("/api/v1/events", event("u1", message_id="m-1"))
    events = [
        event("u1", message_id="m-1"),
        event("u1", message_id="m-2"),
        event("u1", message_id="m-2"),
        event("u2", message_id="m-1"),
    ]

    body = api.post(URL, {"events": events}).json()

    assert (body["stored"], body["duplicates"], body["rejected"]) == (2, 2, 0)
    assert Event.objects.count() == 3


def test_batch__too_many__400_nothing_stored(api, db, settings):
    events = [event(f"u{i}") for i in range(settings.EVENTS_BATCH_MAX + 1)]

    message = assert_error(api.post(URL, {"events": events}), 400, field="events")

    assert "split" in message
    assert not Event.objects.exists()


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": {"a": 1}}])
def test_batch__not_a_list__400(api, db, body):
    assert_error(api.post(URL, body), 400, field="events")


def scenario():
    """Events for three customers, in order: new and known customers, triggers
    that match and do not, a behaviour, a repeat."""
    return [
        event("u1", properties=PRO, message_id="a"),
        event("u2", properties={"plan": "free"}),
        event("u2", name="purchase"),
        event("u1", name="purchase", message_id="b"),
        event("u3", properties=PRO, customer={"first_name": "Ada"}),
        event("u1", properties=PRO, message_id="a"),
        event("u2", properties=PRO),
    ]


def state():
    memberships = Membership.objects.values_list(
        "segment__name", "customer__external_id", "source", "override"
    )
    enrollments = Enrollment.objects.values_list(
        "campaign__name", "customer__external_id", "status", "source"
    )
    history = MembershipChange.objects.values_list(
        "segment__name", "customer__external_id", "action", "actor_type"
    )
    events = Event.objects.values_list("customer__external_id", "name", "message_id")
    customers = Customer.objects.values_list("external_id", "first_name")
    return {
        name: sorted(rows)
        for name, rows in {
            "memberships": memberships,
            "enrollments": enrollments,
            "history": history,
            "events": events,
            "customers": customers,
        }.items()
    }


@pytest.fixture
def segments(onboarding, buyers_segment):
    CustomerFactory(external_id="u2", first_name="Bo")


def test_batch__same_events_one_by_one__same_state(api, segments):
    # Given the scenario sent one event per request
    for item in scenario():
        api.post("/api/v1/events", item)
    one_by_one = state()
    Event.objects.all().delete()
    Customer.objects.exclude(external_id="u2").delete()
    Membership.objects.all().delete()
    MembershipChange.objects.all().delete()
    Enrollment.objects.all().delete()
    Customer.objects.filter(external_id="u2").update(last_seen_at=None)

    # When the same events come as one batch
    body = api.post(URL, {"events": scenario()}).json()

    # Then the same rows are there
    assert (body["stored"], body["duplicates"]) == (6, 1)
    assert state() == one_by_one


def test_batch__new_customers_with_profiles__same_rows_as_one_by_one(api, db):
    # Given rule segments on attributes, on no purchase, and on another segment
    actor = Actor.system("tests")
    rules = {
        "pro": [{"field": "attributes.plan", "operator": "equals", "value": "pro"}],
        "never bought": [{"event": "purchase", "operator": "not_performed"}],
        "has email": [{"field": "email", "operator": "is_set"}],
    }
    made = {
        name: segment_create(
            name=name, type="rule", rules={"conditions": c}, actor=actor
        )
        for name, c in rules.items()
    }
    segment_create(
        name="pro reader",
        type="rule",
        rules={"conditions": [{"segment": made["pro"].pk, "operator": "in"}]},
        actor=actor,
    )
    sign_ups = [
        event(
            f"n{i}",
            properties=PRO,
            customer={
                "email": f"n{i}@example.com" if i % 2 else None,
                "attributes": {"plan": "pro" if i % 3 else "free"},
            },
        )
        for i in range(12)
    ]
    sign_ups.append(event("n1", name="purchase"))

    # When they come one by one, then (afresh) as one batch
    for item in sign_ups:
        api.post("/api/v1/events", item)
    one_by_one = state()
    Customer.objects.all().delete()
    MembershipChange.objects.all().delete()
    api.post(URL, {"events": sign_ups})

    # Then the same rows are there, history included
    assert state() == one_by_one
    assert ("pro reader", "n1", "rule", "none") in state()["memberships"]
