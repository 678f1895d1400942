"""POST /messages: Segment's and RudderStack's Webhook destinations, with sample
payloads from their public docs (tests/api/events/samples/)."""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from segments.models import Customer, Event, Membership
from segments.services import Actor, segment_create
from tests.api.conftest import assert_error

URL = "/api/v1/messages"
SAMPLES = Path(__file__).parent / "samples"


def sample(name):
    return json.loads((SAMPLES / f"{name}.json").read_text())


def test_messages__segment_identify__customer_from_traits(api, db):
    response = api.post(URL, sample("segment_identify"))

    assert response.status_code == 201, response.json()
    assert response.json()["customer_created"] is True
    customer = Customer.objects.get(external_id="97980cfea0067")
    assert (customer.email, customer.first_name, customer.last_name) == (
        "peter@example.com",
        "Peter",
        "Gibbons",
    )
    assert customer.attributes == {
        "name": "Peter Gibbons",
        "plan": "premium",
        "logins": 5,
    }
    assert customer.last_seen_at == datetime(2015, 2, 23, 22, 28, 55, 111000, UTC)


def test_messages__segment_track__event_answered_like_events(api, db):
    response = api.post(URL, sample("segment_track"))

    assert response.status_code == 201, response.json()
    event = Event.objects.get()
    assert response.json() == {
        "type": "track",
        "user_id": "AiUGstSDIg",
        "customer_created": True,
        "event_id": event.pk,
        "segments_entered": [],
        "segments_left": [],
        "campaigns_entered": [],
    }
    assert (event.name, event.properties, event.message_id) == (
        "Course Clicked",
        {"title": "Intro to Analytics"},
        "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    )
    again = api.post(URL, sample("segment_track"))
    assert again.status_code == 200
    assert Event.objects.count() == 1


def test_messages__segment_batch__identify_then_track(api, db):
    response = api.post(URL, sample("segment_batch"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["received"], body["identified"], body["events_stored"]) == (3, 1, 2)
    jake = Customer.objects.get(external_id="019mr8mf4r")
    assert jake.email == "jake@example.com"
    assert jake.events.get().properties["artist"] == "Dierks Bentley"
    assert Customer.objects.count() == 2


def test_messages__rudderstack_identify__traits_in_context(api, db):
    response = api.post(URL, sample("rudderstack_identify"))

    assert response.status_code == 201
    customer = Customer.objects.get(external_id="sample_user_id")
    assert customer.email == "user@domain.com"
    assert customer.attributes["plan"] == "Enterprise"
    assert customer.attributes["company"] == {"id": "company-A"}


def test_messages__rudderstack_track__enters_event_segment(api, db):
    segment = segment_create(
        name="Reviewers",
        type="event",
        trigger_event="Product Reviewed",
        actor=Actor.system("tests"),
    )

    response = api.post(URL, sample("rudderstack_track"))

    assert response.status_code == 201, response.json()
    assert response.json()["segments_entered"] == [segment.pk]
    event = Event.objects.get()
    assert event.timestamp == datetime(2020, 4, 17, 14, 42, 44, 724000, UTC)
    assert Membership.objects.get().customer.email == "user@domain.com"


def test_messages__page_and_screen__viewed_events(api, db):
    page = {"type": "page", "userId": "u1", "name": "Pricing", "properties": {}}
    screen = {"type": "screen", "userId": "u1", "name": "Home", "properties": {}}

    api.post(URL, {"batch": [page, screen]})

    assert sorted(Event.objects.values_list("name", "properties__name")) == [
        ("Page Viewed", "Pricing"),
        ("Screen Viewed", "Home"),
    ]


def test_messages__basic_auth_user__accepted(api_key, db):
    client = APIClient()
    token = base64.b64encode(f"{api_key.key}:".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    response = client.post(URL, sample("segment_track"), format="json")

    assert response.status_code == 201, response.json()


def test_messages__basic_auth_wrong_key__401(db):
    client = APIClient()
    token = base64.b64encode(b"sk_nope_nope:").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    assert_error(client.post(URL, sample("segment_track"), format="json"), 401)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "event": "x"}, "userId"),
        ({"type": "launch", "userId": "u1"}, "type"),
        ({"type": "track", "userId": "u1"}, "event"),
        ({"type": "track", "userId": "u1", "event": 12}, "event"),
        (
            {"type": "track", "userId": "u1", "event": "x", "timestamp": "soon"},
            "timestamp",
        ),
    ],
)
def test_messages__bad_message__400_on_field(api, db, message, field):
    assert_error(api.post(URL, message), 400, field=field)
    assert not Customer.objects.exists()


def test_messages__batch_with_bad_message__index_reported(api, db):
    good = {"type": "track", "userId": "u1", "event": "x"}
    bad = {"type": "track", "event": "x"}
    alias = {"type": "alias", "userId": "u1", "previousId": "a"}

    body = api.post(URL, {"batch": [good, bad, alias]}).json()

    assert (body["events_stored"], body["ignored"], body["rejected"]) == (1, 1, 1)
    assert body["errors"][0]["index"] == 1
    assert "userId" in body["errors"][0]["details"]


def test_messages__batch_with_a_numeric_type__400_nothing_stored(api, db):
    body = {"batch": [{"type": "track", "userId": "u1", "event": "x"}], "type": 12}

    assert_error(api.post(URL, body), 400, field="type")
    assert not Customer.objects.exists()
