from segments.models import Segment
from tests.api.conftest import assert_error, client_for, new_key
from tests.factories import CustomerFactory

URL = "/api/v1/segments/preview"
RULES = {
    "match": "any",
    "conditions": [
        {"field": "attributes.plan", "operator": "equals", "value": "pro"},
        {"field": "attributes.spend", "operator": "gte", "value": 100},
    ],
}


def test_preview__rules__count_sample_and_per_condition_counts(reader):
    CustomerFactory(external_id="pro", attributes={"plan": "PRO"})
    CustomerFactory(external_id="rich", attributes={"spend": 120})
    CustomerFactory(external_id="none", attributes={"spend": "120"})

    response = reader.post(URL, {"rules": RULES, "sample_size": 5}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    assert {c["id"] for c in body["sample"]} == {"pro", "rich"}
    assert body["conditions"] == [
        {"label": 'attributes.plan equals "pro"', "count": 1},
        {"label": "attributes.spend gte 100", "count": 1},
    ]
    assert not Segment.objects.exists()


def test_preview__bad_rules__400_names_the_place(reader):
    rules = {"conditions": [{"field": "attributes.plan", "operator": "like"}]}

    response = reader.post(URL, {"rules": rules}, format="json")

    assert_error(response, 400, field="rules")
    assert response.json()["details"]["rules"] == [
        "conditions[0].operator: unknown operator 'like'"
    ]


def test_preview__event_fields_in_rule_type__400(reader):
    rules = {"conditions": [{"field": "event.amount", "operator": "gt", "value": 1}]}

    response = reader.post(URL, {"rules": rules, "type": "rule"}, format="json")

    assert_error(response, 400, field="rules")
    assert "event-triggered" in response.json()["details"]["rules"][0]


def test_preview__unknown_segment_id__404(reader):
    response = reader.post(URL, {"rules": RULES, "segment_id": 999}, format="json")

    assert "No segment with id 999" in assert_error(response, 404)


def test_preview__key_without_read__403(db):
    client = client_for(new_key("ingest", name="Ingest only").key)

    response = client.post(URL, {"rules": RULES}, format="json")

    assert '"read" scope' in assert_error(response, 403)


def test_preview__event_segment__past_triggers_counted(reader):
    big = CustomerFactory(external_id="big")
    big.events.create(name="purchase", properties={"amount": 80})
    small = CustomerFactory(external_id="small")
    small.events.create(name="purchase", properties={"amount": 8})
    rules = {"conditions": [{"field": "event.amount", "operator": "gt", "value": 50}]}
    body = {"type": "event", "trigger_event": "purchase", "rules": rules}

    response = reader.post(URL, body, format="json")

    assert response.status_code == 200, response.json()
    assert [c["id"] for c in response.json()["sample"]] == ["big"]


def test_preview__event_segment_without_trigger__400(reader):
    rules = {"conditions": [{"field": "event.amount", "operator": "gt", "value": 50}]}

    response = reader.post(URL, {"type": "event", "rules": rules}, format="json")

    assert_error(response, 400, field="trigger_event")
